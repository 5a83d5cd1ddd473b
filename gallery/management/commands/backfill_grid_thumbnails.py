"""Make the grid rendition of every image kept before there were grid renditions (issue 12).

Each is drawn from the image's thumbnail (a 512 px WebP: about 3 ms an image), never from the
original, so SVGs and animations need nothing special and no original is read. Images are taken
in id order, a batch at a time, each row updated only if it still has no grid rendition: run it
again (even two at once) and an image keeps the one it got first; stop it at any moment and the
next run starts where this one stopped. A thumbnail that cannot be read is
reported and skipped (the grid shows that image's thumbnail, as before).

    manage.py backfill_grid_thumbnails                 # everything, 200 images a batch
    manage.py backfill_grid_thumbnails --limit 1000    # at most 1,000 images this run
"""

import io
import logging
import time
from typing import Any

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from PIL import Image as PILImage

from gallery.models import Image
from gallery.models.images import grid_path
from gallery.verify import DECODE_ERRORS, grid_rendition

logger = logging.getLogger(__name__)


def missing() -> Any:
    return Image.objects.filter(Q(grid__isnull=True) | Q(grid=""))


class Command(BaseCommand):
    help = "Make the grid rendition of images that have none yet (resumable, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--limit", type=int, help="Stop after this many images.")

    def handle(self, *args: Any, batch_size: int, limit: int | None, **options: Any) -> None:
        if batch_size < 1 or (limit is not None and limit < 1):
            raise CommandError("--batch-size and --limit must be at least 1.")
        total = missing().count()
        if limit is not None:
            total = min(total, limit)
        self.stdout.write(f"{total} image(s) without a grid rendition.")
        made = failed = 0
        after = 0
        started = time.monotonic()
        while made + failed < total:
            take = min(batch_size, total - made - failed)
            batch = list(missing().filter(id__gt=after).order_by("id")[:take])
            if not batch:
                break
            after = batch[-1].id
            for image in batch:
                if backfill(image):
                    made += 1
                else:
                    failed += 1
            rate = (made + failed) / max(time.monotonic() - started, 1e-6)
            self.stdout.write(
                f"{made + failed}/{total}: {made} made, {failed} skipped "
                f"({rate:.0f} images/s; up to image id {after})"
            )
        self.stdout.write(f"Done: {made} made, {failed} skipped.")


def backfill(image: Image) -> bool:
    """Make `image`'s grid rendition; False if its thumbnail cannot be read."""
    try:
        with image.thumbnail.open("rb") as file, PILImage.open(io.BytesIO(file.read())) as im:
            im.load()
            icc_profile = im.info.get("icc_profile")
            if im.mode not in ("RGB", "RGBA"):
                im = im.convert("RGBA" if im.has_transparency_data else "RGB")
            data, width, height = grid_rendition(im, icc_profile)
    except (FileNotFoundError, *DECODE_ERRORS):
        logger.warning("no grid rendition for image %s: its thumbnail is unreadable", image.uuid)
        return False
    storage = image.grid.storage
    # A name of its own if one is there already (left by a run stopped before its update, or
    # being written by another run), so no file a row may point to is ever overwritten.
    name = storage.save(grid_path(image, ""), ContentFile(data))
    updated = missing().filter(pk=image.pk).update(grid=name, grid_width=width, grid_height=height)
    if not updated:  # another run (or a deletion) got there first: theirs stands
        storage.delete(name)
    return True
