"""The gallery grid: each tile's values computed once in Python, and the tile size a person chose.

The page's tiles are drawn here in one call (`tiles`, the `{% grid_tiles %}` tag of
templates/gallery/image_list.html), not by a template per tile: reversing four URLs, translating
two phrases and counting the job's images per tile cost more than the rest of the page together,
and an `{% include %}` per tile cost as much again as drawing it (bench/gallery_page.py). Here
each URL is a prefix reversed once per page plus the image's UUID, each phrase is translated
once per page, and the page's jobs are grouped in one pass.

The layout is justified rows in CSS alone (static/css/gallery.css): a tile's flex-grow and basis
are its aspect ratio, so every image in a row has the same height and none is cropped. The
Content-Security-Policy allows no inline style, so the ratio travels as a class, `r` and the
ratio in hundredths (r150 for 3:2), which the stylesheet maps to `--r`.
"""

from html import escape
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext, pgettext
from django.views.decorators.http import require_POST

from gallery.models import Image

# The columns a tile reads (Page.tile, Image.alt_text and is_uploaded), all the page's query
# loads (gallery.paging.page_of): not the found metadata, the file names, the hash or dates.
TILE_FIELDS = (
    "id", "uuid", "generation_id", "origin", "width", "height", "thumbnail_width",
    "thumbnail_height", "grid", "grid_width", "model_name", "prompt", "revised_prompt",
    "favourite", "rating", "cost",
)  # fmt: skip


class GridImage:
    """An image as its tile needs it: the TILE_FIELDS columns, read as values, not as an Image.

    Building 61 model instances took about 1 ms, as much as the page's query and its
    compilation together (bench/gallery_page.py); these are plain attributes. `alt_text` and
    `is_uploaded` are the model's own, `pk` its id, `version_count` set by count_versions."""

    __slots__ = (*TILE_FIELDS, "version_count")
    Origin = Image.Origin
    alt_text = Image.alt_text
    is_uploaded = Image.is_uploaded

    def __init__(self, row: tuple[Any, ...]) -> None:
        for name, value in zip(TILE_FIELDS, row, strict=True):
            setattr(self, name, value)
        self.version_count = 0

    @property
    def pk(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<GridImage {self.id}>"


SIZE_COOKIE = "gallery_tiles"
SIZE_COOKIE_AGE = 365 * 24 * 3600
DEFAULT_SIZE = "medium"
# Row heights in CSS px (phone, wider screen), as static/css/gallery.css draws them; `sizes`
# tells the browser the same, so it picks the grid rendition or the thumbnail before layout.
ROW_HEIGHTS = {"small": (72, 120), "medium": (100, 180), "large": (160, 280)}
PHONE = "(max-width: 40em)"
# The ratios the stylesheet has a class for: 1:3 to 3:1, what the models make (gpt-image-2's
# limit); a rarer upload is laid out at the nearest and still drawn uncropped.
RATIO_RANGE = (33, 300)
EAGER = 12  # the tiles of a first page loaded at once (the first screen or two), the rest lazy
PRIORITY = 4  # of those, the first few fetched with high priority (the LCP candidates)
PLACEHOLDER = UUID(int=0)


def size_labels() -> list[tuple[str, str]]:
    return [
        ("small", pgettext("tile size", "Small")),
        ("medium", pgettext("tile size", "Medium")),
        ("large", pgettext("tile size", "Large")),
    ]


def chosen_size(request: HttpRequest) -> str:
    size = request.COOKIES.get(SIZE_COOKIE, DEFAULT_SIZE)
    return size if size in ROW_HEIGHTS else DEFAULT_SIZE


@require_POST
def tile_size(request: HttpRequest) -> HttpResponse:
    """Remember the tile size (a cookie, so it works without JavaScript) and go back."""
    from gallery.views import safe_next

    response = redirect(safe_next(request, reverse("image_list")))
    size = request.POST.get("tiles", "")
    if size in ROW_HEIGHTS:
        response.set_cookie(SIZE_COOKIE, size, max_age=SIZE_COOKIE_AGE, samesite="Lax")
    return response


# One tile, as includes/favourite_button.html draws the favourite button inside a form (its htmx
# answer swaps it in). The checkbox is named by aria-label, the name a hidden <label> gave,
# without laying out 60 prompts in three scripts (bench/lighthouse.py). Every value is escaped
# where it is filled in (Page.tile).
TILE = """<li class="{classes}" data-rating="{rating}">
  <a href="{href}"><img src="{src}"{srcset} width="{width}" height="{height}" alt="{alt}"{loading} \
decoding="async"><span class="tile-info"><span class="tile-prompt" aria-hidden="true">{prompt}\
</span> <span class="tile-model">{model}{place}</span></span></a>
  <input type="checkbox" name="images" value="{uuid}" id="select-{uuid}" class="tile-select" \
aria-label="{select}">
  <button type="submit" class="favourite{favourite_class}" formaction="{favourite_url}" \
formmethod="post" hx-post="{favourite_url}" hx-target="this" hx-swap="outerHTML" \
hx-include="this" name="in_form" value="1" aria-pressed="{pressed}" title="{favourite}">\
<span aria-hidden="true">★</span><span class="visually-hidden">{favourite}</span></button>
{stars}{badges}</li>
"""
LAZY = ' loading="lazy"'
HIGH_PRIORITY = ' fetchpriority="high"'


class Page:
    """What every tile of one rendered page shares, worked out on its first tile: the URLs as
    a prefix and a suffix around the image's UUID, the phrases translated once, the jobs."""

    def __init__(self, images: list[GridImage], query: str, first: bool, size: str) -> None:
        self.first, self.size = first, size
        self.query = escape(f"?{query}") if query else ""
        self.urls = {
            name: [
                escape(part) for part in reverse(name, args=[PLACEHOLDER]).split(str(PLACEHOLDER))
            ]
            for name in ("image_detail", "image_thumbnail", "image_grid", "image_favourite")
        }
        self.select = gettext("Select “%(prompt)s”")
        self.favourite = escape(gettext("Favourite"))
        self.uploaded = escape(gettext("Uploaded"))
        self.rated = gettext("Rated %(stars)s of 5")
        self.place = gettext("%(place)s of %(count)s")
        self.jobs = job_places(images)

    def url(self, name: str, uuid: str) -> str:
        before, after = self.urls[name]
        return f"{before}{uuid}{after}"

    def tile(self, image: GridImage, counter: int) -> str:
        """The tile's markup (TILE) for `image`, the `counter`th of the page (from 1): every
        value in it escaped or our own fixed text."""
        uuid = str(image.uuid)
        grid_src, thumb_src = self.url("image_grid", uuid), self.url("image_thumbnail", uuid)
        lazy = counter > EAGER or not self.first
        ratio = image.width / image.height if image.height else 1
        srcset = ""
        if image.grid and image.grid_width and image.grid_width < image.thumbnail_width:
            phone, wide = ROW_HEIGHTS[self.size]
            # A lazy image is laid out before it loads: `auto` lets the browser use the width
            # it actually got (Chrome 126+); the rest read the list after it.
            sizes = f"{'auto, ' if lazy else ''}{PHONE} {round(ratio * phone)}px, "
            sizes += f"{round(ratio * wide)}px"
            srcset = (
                f' srcset="{grid_src} {image.grid_width}w, {thumb_src} '
                f'{image.thumbnail_width}w" sizes="{sizes}"'
            )
        place, count, parity = self.jobs.get(image.pk, (0, 0, 0))
        classes = f"tile r{ratio_class(ratio)} size-{self.size}"
        job_place = ""
        if count:
            # Two such jobs side by side alternate their mat's colour, so they are told apart.
            classes += f" job job-{'ab'[parity]}"
            classes += " job-start" if place == 1 else ""
            classes += " job-end" if place == count else ""
            job_place = " · " + escape(self.place % {"place": place, "count": count})
        detail = self.url("image_detail", uuid)
        return TILE.format(
            classes=classes,
            href=detail + self.query,
            src=grid_src if srcset else thumb_src,
            srcset=srcset,
            width=image.thumbnail_width,
            height=image.thumbnail_height,
            alt=escape(image.alt_text),
            loading=LAZY if lazy else HIGH_PRIORITY if counter <= PRIORITY else "",
            prompt=escape(cut(image.prompt, 160)),
            model=escape(image.model_name),
            place=job_place,
            uuid=uuid,
            select=escape(self.select % {"prompt": cut(image.prompt, 60)}),
            favourite_class=" is-favourite" if image.favourite else "",
            favourite_url=self.url("image_favourite", uuid),
            pressed="true" if image.favourite else "false",
            favourite=self.favourite,
            badges=self.badges(image, detail),
            rating=image.rating or 0,
            stars=self.stars(image),
        )

    def stars(self, image: GridImage) -> str:
        """A rated image's stars (static/js/studio.js redraws them when a key rates it)."""
        if not image.rating:
            return ""
        said = escape(self.rated % {"stars": image.rating})
        return f'  <span class="tile-rating" title="{said}">{"★" * image.rating}</span>\n'

    def badges(self, image: GridImage, detail: str) -> str:
        versions = getattr(image, "version_count", 0)
        if not versions and not image.is_uploaded:
            return ""
        found = ""
        if versions:
            text = ngettext("%(versions)s version", "%(versions)s versions", versions)
            text = escape(text % {"versions": versions})
            found += f'<a class="badge" href="{detail}#family">{text}</a>'
        if image.is_uploaded:
            found += f'<span class="badge">{self.uploaded}</span>'
        return f'  <p class="tile-badges">{found}</p>\n'


def job_places(images: list[GridImage]) -> dict[int, tuple[int, int, int]]:
    """For each image of a run of two or more adjacent images from one job: its place in the
    run, the run's length, and 0 or 1 alternating from one such run to the next; by image id."""
    places: dict[int, tuple[int, int, int]] = {}
    run: list[GridImage] = []
    runs = 0
    for image in [*images, None]:
        if image is not None and run and image.generation_id == run[0].generation_id:
            run.append(image)
            continue
        if len(run) > 1 and run[0].generation_id is not None:
            for place, member in enumerate(run, 1):
                places[member.pk] = (place, len(run), runs % 2)
            runs += 1
        run = [image] if image is not None else []
    return places


def cut(text: str, length: int) -> str:
    """`text` in at most `length` characters, an ellipsis ending a cut one: what truncatechars
    does, less its care for combining characters, which costs more than the rest of a tile."""
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def ratio_class(ratio: float) -> int:
    low, high = RATIO_RANGE
    return min(high, max(low, round(ratio * 100)))


def tiles(context: Any) -> SafeString:
    """Every tile of the page in the context (`images`), and on a first page the tile size
    control before them: one call per page, so what the tiles share is worked out once."""
    images = context["images"]
    if not images:
        return mark_safe("")
    request = context["request"]
    query = context["filters"].query_string() if context.get("filters") else ""
    first = bool(context.get("first_page"))
    size = chosen_size(request)
    page = Page(images, query, first, size)
    drawn = [size_tools(size)] if first else []
    drawn += [page.tile(image, counter) for counter, image in enumerate(images, 1)]
    return mark_safe("".join(drawn))  # noqa: S308 (each part is drawn safe)


SIZE_TOOLS = (
    '<li class="grid-tools"><div class="tile-sizes" role="group" '
    'aria-labelledby="tile-size-label"><span id="tile-size-label">{label}</span>{buttons}'
    "</div></li>\n"
)
SIZE_BUTTON = (
    '\n  <button type="submit" formaction="{action}" formmethod="post" formnovalidate '
    'name="tiles" value="{value}" aria-pressed="{pressed}">{label}</button>'
)


def size_tools(size: str) -> str:
    """The tile size control: a button per size, the chosen one pressed; each submits the
    gallery's form to tile_size."""
    action = escape(reverse("gallery_tile_size"))
    buttons = "".join(
        SIZE_BUTTON.format(action=action, value=value, label=escape(label), pressed=pressed)
        for value, label in size_labels()
        for pressed in ["true" if value == size else "false"]
    )
    return SIZE_TOOLS.format(label=escape(gettext("Tile size")), buttons=buttons)
