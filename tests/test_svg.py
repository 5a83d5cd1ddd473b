"""SVG results: kept only as plain drawings, measured, and drawn to a raster thumbnail."""

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
import resvg_py
from django.contrib.auth.models import User
from PIL import Image as PILImage

from gallery import svg
from gallery.ingest import InvalidImage, ingest_image, verify_image
from gallery.models import Image
from imagegen.models import Generation
from tests.conftest import svg_bytes

SVG = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
RECT = '<rect width="10" height="10" fill="red"/>'


def drawing(body: str = RECT, attributes: str = 'width="40" height="40"') -> bytes:
    return f"<svg {SVG} {XLINK} {attributes}>{body}</svg>".encode()


def png_data_uri(width: int = 4, height: int = 4, claim: tuple[int, int] | None = None) -> str:
    """A PNG as a data URI; `claim` rewrites its header (with a correct CRC) to another size."""
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), "blue").save(out, "PNG")
    data = bytearray(out.getvalue())
    if claim is not None:
        struct.pack_into(">II", data, 16, *claim)
        struct.pack_into(">I", data, 29, zlib.crc32(data[12:29]))
    return "data:image/png;base64," + base64.b64encode(bytes(data)).decode()


@pytest.fixture
def generation(alice: User) -> Generation:
    return Generation.objects.create(
        owner=alice,
        model_name="gpt-image-2.6",
        prompt="a red square",
        parameters={"n": 1, "size": "1024x1024", "output_format": "svg"},
    )


def test_a_red_rectangle_is_kept_as_it_came_with_a_red_webp_thumbnail(
    generation: Generation,
) -> None:
    data = svg_bytes("red", 300, 200)

    image = ingest_image(generation, 0, data)

    assert (image.format, image.width, image.height) == ("svg", 300, 200)
    assert image.file.name.endswith(".svg")
    with image.file.open("rb") as file:
        assert file.read() == data  # nothing is written into a drawing
    with image.thumbnail.open("rb") as file, PILImage.open(file) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.size == (image.thumbnail_width, image.thumbnail_height) == (300, 200)
        for point in [(0, 0), (150, 100), (299, 199)]:
            red, green, blue = thumbnail.convert("RGB").getpixel(point)
            assert red > 240 and green < 16 and blue < 16, point


def test_a_drawing_bigger_than_a_thumbnail_is_drawn_to_fit_it() -> None:
    verified = verify_image(drawing(RECT, 'viewBox="0 0 2000 1000"'))

    assert (verified.width, verified.height) == (2000, 1000)
    assert (verified.thumbnail_width, verified.thumbnail_height) == (512, 256)


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        pytest.param('width="300" height="200"', (300, 200), id="width-and-height"),
        pytest.param('width="300px" height="2in"', (300, 192), id="with-units"),
        pytest.param('viewBox="0 0 640 480"', (640, 480), id="view-box"),
        pytest.param('width="320" viewBox="0,0,640,480"', (320, 240), id="width-and-view-box"),
        pytest.param('width="50%" height="50%" viewBox="0 0 640 480"', (640, 480), id="relative"),
        pytest.param("", (1024, 1024), id="neither"),
    ],
)
def test_its_size_comes_from_width_and_height_else_the_view_box_else_1024(
    attributes: str, size: tuple[int, int]
) -> None:
    verified = verify_image(drawing(attributes=attributes))

    assert (verified.width, verified.height) == size


def test_a_raster_image_carried_inline_is_allowed() -> None:
    data = drawing(f'<image href="{png_data_uri()}" width="40" height="40"/>')

    verified = verify_image(data)

    with PILImage.open(io.BytesIO(verified.thumbnail)) as thumbnail:
        red, green, blue = thumbnail.convert("RGB").getpixel((20, 20))
    assert blue > 240 and red < 16 and green < 16


def test_references_within_the_drawing_are_allowed() -> None:
    gradient = '<linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient>'
    body = (
        f'<defs>{gradient}<rect id="r" width="5" height="5"/></defs>'
        "<style>.a { fill: url(#g) }</style>"
        '<use href="#r"/><use xlink:href="#r" x="10"/><rect class="a" width="4" height="4"/>'
        '<rect style="fill: url(\'#g\')" width="4" height="4"/><a href="#r"><circle r="2"/></a>'
    )

    assert verify_image(drawing(body)).format == "svg"


DATA_SVG = "data:image/svg+xml;base64," + base64.b64encode(svg_bytes()).decode()
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;">]>'
)
REFUSED = {
    "script": (drawing("<script>alert(1)</script>"), "scripts or event handlers"),
    "onload": (drawing(attributes='onload="alert(1)"'), "scripts or event handlers"),
    "onclick-on-a-shape": (drawing('<rect onclick="go()" width="1" height="1"/>'), "scripts"),
    "javascript-href": (drawing('<a href="javascript:alert(1)">' + RECT + "</a>"), "scripts"),
    "javascript-hidden-by-a-tab": (
        drawing('<a xlink:href="java&#9;script:alert(1)">' + RECT + "</a>"),
        "scripts",
    ),
    "animation-setting-a-handler": (
        drawing('<rect><set attributeName="onclick" to="go()"/></rect>'),
        "scripts",
    ),
    "animation-setting-a-link": (
        drawing('<a><set attributeName="href" to="https://evil.example/"/></a>'),
        "outside itself",
    ),
    "foreign-object": (
        drawing('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">hi</p></foreignObject>'),
        "foreign content",
    ),
    "xhtml-element": (drawing('<p xmlns="http://www.w3.org/1999/xhtml">hi</p>'), "foreign"),
    "external-image": (
        drawing('<image href="https://evil.example/pixel.png" width="1" height="1"/>'),
        "outside itself",
    ),
    "external-xlink-href": (drawing('<use xlink:href="other.svg#shape"/>'), "outside itself"),
    "external-url-in-a-fill": (
        drawing('<rect fill="url(https://evil.example/p.svg#g)" width="1" height="1"/>'),
        "outside itself",
    ),
    "external-url-in-a-style-sheet": (
        drawing("<style>rect { fill: url(//evil.example/p.svg#g) }</style>" + RECT),
        "outside itself",
    ),
    "import-in-a-style-sheet": (
        drawing("<style>@import 'https://evil.example/a.css';</style>" + RECT),
        "outside itself",
    ),
    "css-escape": (drawing('<rect style="fill: u\\72l(x.svg#g)" width="1"/>'), "outside"),
    "xml-stylesheet": (
        b'<?xml-stylesheet href="https://evil.example/a.css"?>' + drawing(),
        "outside itself",
    ),
    "xml-base": (drawing('<use xml:base="https://evil.example/" href="#r"/>'), "outside"),
    "nested-svg-data-uri": (
        drawing(f'<image href="{DATA_SVG}" width="1" height="1"/>'),
        "outside itself",
    ),
    "html-data-uri": (
        drawing('<image href="data:text/html,%3Cb%3Ex" width="1" height="1"/>'),
        "outside itself",
    ),
    "billion-laughs": (LAUGHS.encode() + drawing("<text>&c;</text>"), "DOCTYPE or entities"),
    "external-entity": (
        b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + drawing("<text>&x;</text>"),
        "DOCTYPE or entities",
    ),
    "plain-doctype": (
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">' + drawing(),
        "DOCTYPE or entities",
    ),
    "too-many-elements": (drawing("<g/>" * 50_001), "too complex"),
    "too-deep": (drawing("<g>" * 300 + "</g>" * 300), "too complex"),
    "use-doubling-at-every-step": (
        drawing(
            '<defs><rect id="a0" width="1" height="1"/>'
            + "".join(
                f'<g id="a{i}"><use href="#a{i - 1}"/><use href="#a{i - 1}"/></g>'
                for i in range(1, 40)
            )
            + '</defs><use href="#a39"/>'
        ),
        "too complex",
    ),
    "use-of-its-own-ancestor": (drawing('<g id="loop"><use href="#loop"/></g>'), "too complex"),
    "inline-png-bomb": (
        drawing(f'<image href="{png_data_uri(claim=(50_000, 50_000))}" width="1" height="1"/>'),
        "too complex",
    ),
    "malformed": (drawing("<g>"), "malformed"),
    "not-utf-8": (drawing("<text>\xe9</text>").replace(b"\xc3\xa9", b"\xe9"), "malformed"),
    "huge-size": (drawing(attributes='width="100000" height="100000"'), "too large"),
    "html-page": (b"<!DOCTYPE html><html><body><svg></svg></body></html>", "not a PNG"),
    "html-without-doctype": (b"<html><body>" + drawing() + b"</body></html>", "not a PNG"),
    "svg-without-its-namespace": (b'<svg width="10" height="10"/>', "not a PNG"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_it_refuses_a_drawing_that_is_not_plain_and_writes_nothing(
    case: str, generation: Generation, media_root: Path
) -> None:
    data, message = REFUSED[case]

    with pytest.raises(InvalidImage, match=message) as refused:
        ingest_image(generation, 0, data)

    assert refused.value.code == "bad_image"
    assert not Image.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_a_drawing_resvg_cannot_draw_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def cannot_draw(**options: object) -> bytes:
        raise ValueError("SVG has an invalid size")

    monkeypatch.setattr(resvg_py, "svg_to_bytes", cannot_draw)

    with pytest.raises(InvalidImage, match="could not be drawn"):
        verify_image(svg_bytes())


def test_a_panic_inside_resvg_refuses_the_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    class PanicException(BaseException):  # how pyo3 hands a Rust panic to Python
        pass

    def panics(**options: object) -> bytes:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(resvg_py, "svg_to_bytes", panics)

    with pytest.raises(InvalidImage, match="could not be drawn"):
        verify_image(svg_bytes())


def test_resvg_is_given_a_box_no_bigger_than_a_thumbnail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A drawing's stated size is never what resvg allocates: a huge one would abort the
    process rather than raise."""
    real = resvg_py.svg_to_bytes
    boxes = []

    def record(**options: object) -> bytes:
        boxes.append((options["width"], options["height"]))
        return real(**options)

    monkeypatch.setattr(resvg_py, "svg_to_bytes", record)

    verify_image(drawing(RECT, 'width="4000" height="3000"'))

    assert boxes == [(512, 384)]


def test_the_check_stops_at_a_doctype_before_reading_its_entities() -> None:
    with pytest.raises(svg.Refused) as refused:
        svg.check(LAUGHS.encode() + drawing("<text>" + "&c;" * 1000 + "</text>"))

    assert refused.value.message == svg.DECLARATIONS
