"""Each image's family tree (gallery/lineage.py) and stack of versions: built from the inputs a
job records (ImageInput), with images saved by the real ingest, so `stack_root` is what ingest
computes; then deleting images, through the views, keeps every record that is left."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from gallery import lineage
from gallery.ingest import ingest_image
from gallery.lineage import Node, edited_from, family_tree
from gallery.models import Image, ImageInput
from imagegen.models import Generation
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db

Role = ImageInput.Role
EDITED, REFERENCE, VARIED = Role.EDITED, Role.REFERENCE, Role.VARIED


def made_from(owner: User, *inputs: tuple[Image, str], prompt: str = "an edit") -> Image:
    """A job that started from `inputs` (image, role), in order, as imagegen.tasks records
    them, and its one image, saved by ingest."""
    edits = any(role == EDITED for _image, role in inputs)
    generation = Generation.objects.create(
        owner=owner,
        model_name="gpt-image-1",
        endpoint=Generation.Endpoint.EDITS if edits else Generation.Endpoint.GENERATIONS,
        prompt=prompt,
        parameters={"n": 1, "size": "1024x1024"},
        status=Generation.Status.SUCCEEDED,
    )
    ImageInput.objects.bulk_create(
        ImageInput(
            generation=generation, image=image, image_uuid=image.uuid, role=role, position=position
        )
        for position, (image, role) in enumerate(inputs)
    )
    return ingest_image(generation, 0, png_bytes())


def up(tree: lineage.FamilyTree) -> list[list[tuple[str, str]]]:
    """The ancestors, level by level, as (prompt or "deleted", role)."""
    return [[(label(node), node.role) for node in level] for level in tree.ancestors]


def down(nodes: list[Node]) -> list[Any]:
    """The descendants as nested (prompt, role, [children])."""
    return [(label(node), node.role, down(node.children)) for node in nodes]


def label(node: Node) -> str:
    return node.image.prompt if node.image else f"deleted {node.image_uuid}"


def refreshed(*images: Image) -> list[Image]:
    return [Image.objects.get(pk=image.pk) for image in images]


def family_section(page: str) -> str:
    start = page.index('<section class="family" id="family"')
    return page[start : page.index("</section>", start)]


# The tree
def test_an_edit_has_what_it_edited_and_its_references_as_parents(alice: User, make_image) -> None:
    harbour = make_image(alice, prompt="harbour")
    boat = make_image(alice, prompt="boat")
    gull = make_image(alice, prompt="gull")

    edit = made_from(alice, (harbour, EDITED), (boat, REFERENCE), (gull, REFERENCE), prompt="e")

    assert up(family_tree(edit)) == [
        [("harbour", EDITED), ("boat", REFERENCE), ("gull", REFERENCE)]
    ]
    assert family_tree(edit).descendants == []
    assert down(family_tree(harbour).descendants) == [("e", EDITED, [])]
    assert down(family_tree(boat).descendants) == [("e", REFERENCE, [])]
    assert family_tree(make_image(alice, prompt="alone")).is_empty


def test_ancestors_follow_the_line_of_edits_not_the_references(alice: User, make_image) -> None:
    first = make_image(alice, prompt="first")
    side = make_image(alice, prompt="side")
    second = made_from(alice, (first, EDITED), prompt="second")
    third = made_from(alice, (second, VARIED), (side, REFERENCE), prompt="third")

    fourth = made_from(alice, (third, EDITED), prompt="fourth")

    assert up(family_tree(fourth)) == [
        [("third", EDITED)],
        [("second", VARIED), ("side", REFERENCE)],
        [("first", EDITED)],
    ]


def test_descendants_are_nested_oldest_first(alice: User, make_image) -> None:
    root = make_image(alice, prompt="root")
    edit = made_from(alice, (root, EDITED), prompt="edit")
    variation = made_from(alice, (root, VARIED), prompt="variation")
    made_from(alice, (edit, EDITED), prompt="edit of edit")
    made_from(alice, (variation, REFERENCE), prompt="from a reference")

    assert down(family_tree(root).descendants) == [
        ("edit", EDITED, [("edit of edit", EDITED, [])]),
        ("variation", VARIED, [("from a reference", REFERENCE, [])]),
    ]
    assert down(family_tree(edit).descendants) == [("edit of edit", EDITED, [])]
    assert up(family_tree(edit)) == [[("root", EDITED)]]


def test_the_walk_is_bounded_in_depth_both_ways(alice: User, make_image) -> None:
    line = [make_image(alice, prompt="v0")]
    for n in range(1, 9):
        line.append(made_from(alice, (line[-1], EDITED), prompt=f"v{n}"))

    assert up(family_tree(line[8])) == [[(f"v{n}", EDITED)] for n in range(7, 1, -1)]  # 6 levels
    assert down(family_tree(line[0]).descendants) == [
        ("v1", EDITED, [("v2", EDITED, [("v3", EDITED, [])])])  # 3 levels
    ]


def test_the_walk_down_is_bounded_in_nodes(
    alice: User, make_image, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lineage, "MOST_NODES", 3)
    root = make_image(alice, prompt="root")
    for n in range(5):
        made_from(alice, (root, VARIED), prompt=f"variation {n}")

    assert down(family_tree(root).descendants) == [(f"variation {n}", VARIED, []) for n in range(3)]


def test_edited_from_is_the_input_that_was_edited_or_varied(alice: User, make_image) -> None:
    source = make_image(alice, prompt="source")
    reference = make_image(alice, prompt="reference")
    edit = made_from(alice, (source, EDITED), (reference, REFERENCE))
    from_reference_only = made_from(alice, (reference, REFERENCE))

    assert edited_from(edit).image == source
    assert edited_from(edit).role == EDITED
    assert edited_from(from_reference_only) is None
    assert edited_from(source) is None


# Stacks
def test_ingest_stacks_every_version_behind_the_first(alice: User, make_image) -> None:
    first = make_image(alice, prompt="first")
    reference = make_image(alice, prompt="reference")
    edit = made_from(alice, (first, EDITED))
    edit_of_edit = made_from(alice, (edit, EDITED))
    variation = made_from(alice, (edit_of_edit, VARIED), (reference, REFERENCE))
    from_reference = made_from(alice, (reference, REFERENCE))

    assert [i.stack_root_id for i in refreshed(first, edit, edit_of_edit, variation)] == [
        None,
        first.pk,
        first.pk,
        first.pk,
    ]
    assert from_reference.stack_root_id is None  # a reference starts no stack
    assert reference.stacked.count() == 0


def test_the_grid_stacks_versions_and_counts_them(
    alice: User, alice_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="a red lantern")
    edit = made_from(alice, (first, EDITED), prompt="a red lantern, brighter")
    made_from(alice, (edit, VARIED), prompt="a red lantern, brighter")
    other = make_image(alice, prompt="a blue kite")

    stacked = alice_client.get(reverse("image_list"))
    every = alice_client.get(reverse("image_list"), {"versions": "all"})
    searched = alice_client.get(reverse("image_list"), {"q": "lantern"})

    assert [(i.prompt, i.version_count) for i in stacked.context["images"]] == [
        ("a blue kite", 0),
        ("a red lantern", 3),
    ]
    page = stacked.content.decode()
    assert page.count(">3 versions</a>") == 1
    assert f'href="{reverse("image_detail", args=[first.uuid])}#family">3 versions' in page
    assert [i.pk for i in every.context["images"]] == sorted(
        Image.objects.values_list("pk", flat=True), reverse=True
    )
    assert " versions</a>" not in every.content.decode()
    assert len(searched.context["images"]) == 3  # a search shows every match
    assert other not in searched.context["images"]


# Deleting
def test_deleting_a_middle_image_keeps_its_descendants_records(
    alice: User, alice_client: Client, make_image, media_root: Path
) -> None:
    first = make_image(alice, prompt="first")
    middle = made_from(alice, (first, EDITED), prompt="middle")
    last = made_from(alice, (middle, EDITED), prompt="last")

    response = alice_client.post(reverse("image_delete", args=[middle.uuid]))
    assert response.status_code == 302
    # In the Trash it is already shown as gone (the line still goes up through it to the first,
    # which is kept); deleted for good, its record keeps its id.
    assert up(family_tree(last)) == [[(f"deleted {middle.uuid}", EDITED)], [("first", EDITED)]]
    alice_client.post(
        reverse("trash_act"), {"action": "delete", "confirm": "yes", "images": [middle.uuid]}
    )

    assert not Image.objects.filter(pk=middle.pk).exists()
    assert not (media_root / middle.file.name).exists()
    record = ImageInput.objects.get(generation=last.generation)
    assert (record.image, record.image_uuid, record.role) == (None, middle.uuid, EDITED)
    assert up(family_tree(last)) == [[(f"deleted {middle.uuid}", EDITED)]]
    assert family_tree(first).descendants == []  # what was made from it went with it
    last = Image.objects.get(pk=last.pk)
    assert (last.stack_root, edited_from(last).image_uuid) == (first, middle.uuid)
    family = family_section(
        alice_client.get(reverse("image_detail", args=[last.uuid])).content.decode()
    )
    assert f'<span class="family-deleted" title="{middle.uuid}">deleted</span>' in family
    assert '<span class="family-role">Edited</span>' in family
    assert reverse("image_detail", args=[middle.uuid]) not in family


def test_every_deleted_ancestor_stays_in_the_tree(
    alice: User, alice_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="first")
    reference = make_image(alice, prompt="reference")
    second = made_from(alice, (first, EDITED), prompt="second")
    third = made_from(alice, (second, EDITED), (reference, REFERENCE), prompt="third")

    Image.objects.filter(pk__in=[first.pk, reference.pk]).delete_with_files()

    assert up(family_tree(third)) == [
        [("second", EDITED), (f"deleted {reference.uuid}", REFERENCE)],
        [(f"deleted {first.uuid}", EDITED)],
    ]
    page = alice_client.get(reverse("image_detail", args=[third.uuid])).content.decode()
    assert family_section(page).count(">deleted</span>") == 2


def test_deleting_the_first_version_hands_the_stack_to_the_oldest_that_stays(
    alice: User, alice_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="a red lantern")
    edit = made_from(alice, (first, EDITED), prompt="a red lantern, brighter")
    variation = made_from(alice, (first, VARIED), prompt="a red lantern again")
    edit_of_variation = made_from(alice, (variation, EDITED), prompt="a red lantern, last")
    alone = make_image(alice, prompt="a blue kite")

    alice_client.post(reverse("image_delete", args=[first.uuid]))

    assert [i.stack_root_id for i in refreshed(edit, variation, edit_of_variation, alone)] == [
        None,
        edit.pk,
        edit.pk,
        None,
    ]
    stacked = alice_client.get(reverse("image_list"))
    assert [(i.prompt, i.version_count) for i in stacked.context["images"]] == [
        ("a blue kite", 0),
        ("a red lantern, brighter", 3),
    ]
    assert ">3 versions</a>" in stacked.content.decode()
    every = alice_client.get(reverse("image_list"), {"versions": "all"})
    assert len(every.context["images"]) == 4


def test_deleting_the_first_two_versions_at_once_hands_the_stack_to_the_third(
    alice: User, make_image
) -> None:
    first = make_image(alice, prompt="first")
    second = made_from(alice, (first, EDITED))
    third = made_from(alice, (first, VARIED))
    fourth = made_from(alice, (second, EDITED))

    assert Image.objects.filter(pk__in=[first.pk, second.pk]).delete_with_files() == 2

    assert [i.stack_root_id for i in refreshed(third, fourth)] == [None, third.pk]


def test_deleting_a_first_version_with_no_others_leaves_nothing_to_hand_over(
    alice: User, make_image
) -> None:
    first = make_image(alice, prompt="first")
    other = make_image(alice, prompt="other")

    Image.objects.filter(pk=first.pk).delete_with_files()

    assert list(Image.objects.values_list("pk", "stack_root")) == [(other.pk, None)]


# The tree on the detail page, and who sees it
def test_the_detail_page_shows_the_tree_with_links_and_roles(
    alice: User, alice_client: Client, make_image
) -> None:
    source = make_image(alice, prompt="source")
    reference = make_image(alice, prompt="reference")
    edit = made_from(alice, (source, EDITED), (reference, REFERENCE), prompt="edit")
    variation = made_from(alice, (edit, VARIED), prompt="variation")

    family = family_section(
        alice_client.get(reverse("image_detail", args=[edit.uuid])).content.decode()
    )

    assert "<h3>Made from</h3>" in family
    assert "<h3>Made from this</h3>" in family
    for image in (source, reference, variation):
        assert f'<a href="{reverse("image_detail", args=[image.uuid])}">' in family
        assert reverse("image_thumbnail", args=[image.uuid]) in family
    assert [role in family for role in (">Edited<", ">Reference<", ">Varied<")] == [True] * 3
    alone = alice_client.get(reverse("image_detail", args=[source.uuid]))
    assert "Versions and sources" in alone.content.decode()  # it has a descendant
    lone = make_image(alice, prompt="lone")
    lone_page = alice_client.get(reverse("image_detail", args=[lone.uuid])).content.decode()
    assert "Versions and sources" not in lone_page


def test_the_tree_shows_only_the_owners_images(
    alice: User, bob: User, alice_client: Client, make_image
) -> None:
    mine = make_image(alice, prompt="mine")
    my_edit = made_from(alice, (mine, EDITED), prompt="my edit")
    # A job of bob's that names alice's image (no form lets it; the tree must not rely on that).
    theirs = made_from(bob, (mine, REFERENCE), prompt="theirs")

    assert down(family_tree(mine).descendants) == [("my edit", EDITED, [])]
    family = family_section(
        alice_client.get(reverse("image_detail", args=[mine.uuid])).content.decode()
    )
    assert str(theirs.uuid) not in family
    assert family.count('<a href="/images/') == 1
    assert reverse("image_detail", args=[my_edit.uuid]) in family


def test_another_person_gets_not_found_for_every_image_of_my_tree(
    alice: User, bob_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="first")
    edit = made_from(alice, (first, EDITED))
    variation = made_from(alice, (edit, VARIED))

    for image in (first, edit, variation):
        for name in ("image_detail", "image_thumbnail", "image_original"):
            assert bob_client.get(reverse(name, args=[image.uuid])).status_code == 404, name
    assert list(bob_client.get(reverse("image_list")).context["images"]) == []
