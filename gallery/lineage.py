"""Where an image came from and what was made from it: its family tree, read from the inputs
each generation recorded (gallery.models.ImageInput).

An image's parents are the inputs of the generation that made it: the image it edited or varied
and its references. Its children are the images of every generation that started from it. A
deleted image stays in the tree as a "deleted" node (the input row keeps its UUID), so no
descendant loses its record. The walk is bounded in depth and in nodes: a long line of edits
shows its nearest part.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from gallery.models import Image, ImageInput

UP_LEVELS = 6
DOWN_LEVELS = 3
MOST_NODES = 40


@dataclass
class Node:
    """One image in the tree; `image` is None once it was deleted."""

    image: Image | None
    image_uuid: uuid.UUID
    role: str = ""  # how it fed its child (edited, reference, varied); "" for the image itself
    children: list["Node"] = field(default_factory=list)

    @property
    def role_label(self) -> str:
        return str(ImageInput.Role(self.role).label) if self.role else ""


@dataclass
class FamilyTree:
    ancestors: list[list[Node]]  # nearest generation first: [parents, grandparents, ...]
    descendants: list[Node]  # children, each with its own children

    @property
    def is_empty(self) -> bool:
        return not self.ancestors and not self.descendants


def family_tree(image: Image) -> FamilyTree:
    """The tree around `image`: only ever its owner's images (a job's inputs are its owner's)."""
    shown = Image.objects.for_user(image.owner_id)
    return FamilyTree(_ancestors(image), _descendants(image, shown))


def kept_or_none(image: Image | None) -> Image | None:
    """An image in the Trash is shown as gone: its page is not its owner's to open till restored."""
    return image if image is not None and image.trashed_at is None else None


def edited_from(image: Image) -> ImageInput | None:
    """The input a generated image was edited or varied from, if any (its image may be gone)."""
    if image.generation_id is None:
        return None
    return (
        ImageInput.objects.filter(generation_id=image.generation_id)
        .exclude(role=ImageInput.Role.REFERENCE)
        .select_related("image")
        .defer("mask")
        .first()
    )


def _ancestors(image: Image) -> list[list[Node]]:
    levels: list[list[Node]] = []
    generation_id, seen = image.generation_id, {image.pk}
    for _level in range(UP_LEVELS):
        if generation_id is None:
            break
        inputs = list(
            ImageInput.objects.filter(generation_id=generation_id)
            .select_related("image")
            .defer("mask")
            .order_by("position")
        )
        level = [
            Node(kept_or_none(entry.image), entry.image_uuid, entry.role)
            for entry in inputs
            if entry.image_id not in seen
        ]
        if not level:
            break
        levels.append(level)
        # A deleted input's id is None: never "seen", or the next deleted one would be dropped.
        seen.update(entry.image_id for entry in inputs if entry.image_id is not None)
        # Up the line through the image that was edited or varied (references start no line).
        line = next((e for e in inputs if e.role != ImageInput.Role.REFERENCE and e.image), None)
        generation_id = line.image.generation_id if line and line.image else None
    return levels


def _descendants(image: Image, shown: Any) -> list[Node]:
    root = Node(image, image.uuid)
    frontier, budget = [root], MOST_NODES
    for _level in range(DOWN_LEVELS):
        parents = {node.image.pk: node for node in frontier if node.image is not None}
        if not parents or budget <= 0:
            break
        uses = (
            ImageInput.objects.filter(image_id__in=parents)
            .values_list("image_id", "generation_id", "role")
            .order_by("generation_id")
        )
        by_generation: dict[Any, tuple[int, str]] = {}
        for parent_id, generation_id, role in uses:
            by_generation.setdefault(generation_id, (parent_id, role))
        made = shown.filter(generation_id__in=by_generation).order_by("id")[:budget]
        frontier = []
        for child in made:
            parent_id, role = by_generation[child.generation_id]
            node = Node(child, child.uuid, role)
            parents[parent_id].children.append(node)
            frontier.append(node)
        budget -= len(frontier)
    return root.children
