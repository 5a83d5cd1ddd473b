"""The offline provider's pictures: exact size and format, deterministic, real alpha, quick."""

import io
import itertools
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageSequence, ImageStat

from imagegen.offline import MIME_TYPES, draw_image

PROMPT = "A lighthouse on a cliff at dawn, watercolour"


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def frames_of(data: bytes) -> list[Image.Image]:
    return [frame.convert("RGB") for frame in ImageSequence.Iterator(open_image(data))]


def parse_svg(data: bytes) -> ET.Element:
    # Our own output, parsed to prove it is well-formed XML; nothing untrusted is read.
    return ET.fromstring(data)  # noqa: S314


def sharpness(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


@pytest.mark.parametrize(
    ("fmt", "pillow_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]
)
def test_it_draws_each_format_at_exactly_the_requested_size(fmt: str, pillow_format: str) -> None:
    image = open_image(draw_image(PROMPT, 320, 208, fmt=fmt))

    assert image.format == pillow_format
    assert image.size == (320, 208)
    assert image.mode == "RGB"


@pytest.mark.parametrize(("width", "height"), [(1, 1), (17, 5), (1792, 1024)])
def test_it_draws_odd_and_large_sizes(width: int, height: int) -> None:
    assert open_image(draw_image(PROMPT, width, height)).size == (width, height)


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert draw_image(PROMPT, 256, 256) == draw_image(PROMPT, 256, 256)


def test_a_different_prompt_gives_a_different_picture() -> None:
    assert draw_image(PROMPT, 256, 256) != draw_image(PROMPT + "!", 256, 256)


def test_a_different_variant_gives_a_different_picture() -> None:
    assert draw_image(PROMPT, 256, 256, variant=0) != draw_image(PROMPT, 256, 256, variant=1)


def test_an_empty_prompt_still_draws() -> None:
    assert open_image(draw_image("", 64, 64)).size == (64, 64)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_a_transparent_background_has_both_clear_and_solid_pixels(fmt: str) -> None:
    image = open_image(draw_image(PROMPT, 256, 256, fmt=fmt, transparent=True))

    assert image.mode == "RGBA"
    low, high = image.getchannel("A").getextrema()
    assert low == 0
    assert high > 128


def test_it_refuses_a_transparent_jpeg() -> None:
    with pytest.raises(ValueError, match="alpha"):
        draw_image(PROMPT, 64, 64, fmt="jpeg", transparent=True)


def test_it_refuses_a_format_it_cannot_draw() -> None:
    with pytest.raises(ValueError, match="avif"):
        draw_image(PROMPT, 64, 64, fmt="avif")


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lower_compression_gives_smaller_files(fmt: str) -> None:
    rough = draw_image(PROMPT, 512, 512, fmt=fmt, compression=10)
    fine = draw_image(PROMPT, 512, 512, fmt=fmt, compression=95)

    assert len(rough) < len(fine)


def test_low_detail_gives_a_blurrier_picture_of_the_same_size() -> None:
    sharp = open_image(draw_image(PROMPT, 512, 512))
    blurry = open_image(draw_image(PROMPT, 512, 512, detail=0.1))

    assert blurry.size == sharp.size
    assert sharpness(blurry) < sharpness(sharp)


# Seeds and watermarks


def test_the_same_seed_gives_the_same_bytes() -> None:
    assert draw_image(PROMPT, 256, 256, seed=42) == draw_image(PROMPT, 256, 256, seed=42)


def test_a_different_seed_gives_a_different_picture() -> None:
    assert draw_image(PROMPT, 256, 256, seed=42) != draw_image(PROMPT, 256, 256, seed=43)


def test_a_seeded_picture_differs_from_the_unseeded_one() -> None:
    assert draw_image(PROMPT, 256, 256, seed=0) != draw_image(PROMPT, 256, 256)


def test_a_seeded_picture_still_follows_the_prompt_and_the_variant() -> None:
    seeded = draw_image(PROMPT, 256, 256, seed=7)

    assert seeded != draw_image(PROMPT + "!", 256, 256, seed=7)
    assert seeded != draw_image(PROMPT, 256, 256, seed=7, variant=1)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif", "svg"])
def test_a_seed_makes_every_format_repeatable(fmt: str) -> None:
    assert draw_image(PROMPT, 128, 96, fmt=fmt, seed=9) == draw_image(
        PROMPT, 128, 96, fmt=fmt, seed=9
    )


def test_a_watermark_marks_the_lower_right_corner_and_nothing_else() -> None:
    plain = open_image(draw_image(PROMPT, 512, 512))
    marked = open_image(draw_image(PROMPT, 512, 512, watermark=True))

    corner = (384, 448, 512, 512)
    assert ImageChops.difference(plain.crop(corner), marked.crop(corner)).getbbox()
    rest = (0, 0, 512, 448)
    assert ImageChops.difference(plain.crop(rest), marked.crop(rest)).getbbox() is None


def test_a_watermark_shows_on_a_transparent_background() -> None:
    plain = open_image(draw_image("", 512, 512, transparent=True))
    marked = open_image(draw_image("", 512, 512, transparent=True, watermark=True))

    corner = (384, 448, 512, 512)
    assert (
        marked.getchannel("A").crop(corner).getextrema()[1]
        > plain.getchannel("A").crop(corner).getextrema()[1]
    )


# Large sizes


def test_it_draws_seedreams_4k_size() -> None:
    image = open_image(draw_image(PROMPT, 4096, 4096))

    assert (image.format, image.size) == ("PNG", (4096, 4096))


# Animated GIF


@pytest.mark.parametrize("frame_count", [2, 9, 16])
def test_a_gif_has_the_requested_number_of_frames_at_the_requested_size(frame_count: int) -> None:
    data = draw_image(PROMPT, 320, 208, fmt="gif", frame_count=frame_count)

    image = open_image(data)
    assert image.format == "GIF"
    assert image.is_animated
    assert image.n_frames == frame_count
    assert image.size == (320, 208)


def test_a_gif_loops_for_ever_with_each_frame_lasting_the_requested_time() -> None:
    image = open_image(
        draw_image(PROMPT, 160, 160, fmt="gif", frame_count=4, frame_duration_ms=120)
    )

    assert image.info["loop"] == 0
    assert [frame.info["duration"] for frame in ImageSequence.Iterator(image)] == [120] * 4


def test_a_gif_uses_nine_frames_of_200_ms_by_default() -> None:
    image = open_image(draw_image(PROMPT, 160, 160, fmt="gif"))

    assert image.n_frames == 9
    assert image.info["duration"] == 200


def test_every_frame_of_a_gif_differs_visibly_from_the_next() -> None:
    frames = frames_of(draw_image(PROMPT, 256, 256, fmt="gif", frame_count=6))

    for before, after in itertools.pairwise(frames):
        levels = ImageChops.difference(before, after).convert("L").histogram()
        assert sum(levels[25:]) > 0.01 * 256 * 256  # over 1% of the pixels changed clearly


def test_a_gif_differs_between_prompts_and_variants() -> None:
    gif = draw_image(PROMPT, 128, 128, fmt="gif")

    assert gif == draw_image(PROMPT, 128, 128, fmt="gif")
    assert gif != draw_image(PROMPT + "!", 128, 128, fmt="gif")
    assert gif != draw_image(PROMPT, 128, 128, fmt="gif", variant=1)


@pytest.mark.parametrize("frame_count", [1, 17])
def test_it_refuses_a_frame_count_outside_2_to_16(frame_count: int) -> None:
    with pytest.raises(ValueError, match="frame_count"):
        draw_image(PROMPT, 64, 64, fmt="gif", frame_count=frame_count)


def test_it_refuses_a_frame_shorter_than_a_gif_can_store() -> None:
    with pytest.raises(ValueError, match="frame_duration_ms"):
        draw_image(PROMPT, 64, 64, fmt="gif", frame_duration_ms=5)


def test_it_refuses_a_transparent_gif() -> None:
    with pytest.raises(ValueError, match="alpha"):
        draw_image(PROMPT, 64, 64, fmt="gif", transparent=True)


def test_a_watermark_is_on_every_frame_of_a_gif() -> None:
    plain = frames_of(draw_image(PROMPT, 512, 512, fmt="gif", frame_count=3))
    marked = frames_of(draw_image(PROMPT, 512, 512, fmt="gif", frame_count=3, watermark=True))

    corner = (384, 448, 512, 512)
    for before, after in zip(plain, marked, strict=True):
        assert ImageChops.difference(before.crop(corner), after.crop(corner)).getbbox()


# SVG

SVG = "{http://www.w3.org/2000/svg}"


def test_an_svg_is_a_well_formed_svg_document_of_the_requested_size() -> None:
    root = parse_svg(draw_image(PROMPT, 320, 208, fmt="svg"))

    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("320", "208")
    assert root.get("viewBox") == "0 0 320 208"
    assert MIME_TYPES["svg"] == "image/svg+xml"


def test_an_svg_draws_a_gradient_shapes_and_the_caption() -> None:
    root = parse_svg(draw_image(PROMPT, 320, 208, fmt="svg"))

    assert root.find(f"{SVG}defs/{SVG}linearGradient") is not None
    shapes = [
        element
        for element in root.iter()
        if element.tag in {f"{SVG}circle", f"{SVG}rect", f"{SVG}polygon"}
    ]
    assert len(shapes) >= 8  # the background and at least seven shapes
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert texts == ["A lighthouse on a cliff at"]


def test_an_svg_has_no_script_and_no_outside_reference() -> None:
    prompt = 'A <script>alert("x")</script> & <a href="https://example.com">link</a> \x01'
    data = draw_image(prompt, 256, 256, fmt="svg", watermark=True)

    root = parse_svg(data)
    assert b"<script" not in data
    assert all(element.tag != f"{SVG}script" for element in root.iter())
    attributes = [(name, value) for element in root.iter() for name, value in element.items()]
    assert not [name for name, _ in attributes if name.lower().startswith("on")]
    assert not [name for name, _ in attributes if name.endswith("href")]
    assert all(value.startswith("url(#") for _, value in attributes if "url(" in value)
    assert root.find(f"{SVG}title").text == prompt.replace("\x01", "")


def test_an_svg_caption_keeps_scripts_that_pillows_font_cannot_draw() -> None:
    root = parse_svg(draw_image("夕日の海辺 sunset", 256, 256, fmt="svg"))

    assert [element.text for element in root.iter(f"{SVG}text")] == ["夕日の海辺 sunset"]


def test_an_svg_with_a_watermark_says_ai_generated() -> None:
    root = parse_svg(draw_image(PROMPT, 256, 256, fmt="svg", watermark=True))

    assert "AI generated" in [element.text for element in root.iter(f"{SVG}text")]


def test_a_transparent_svg_has_no_background() -> None:
    opaque = parse_svg(draw_image(PROMPT, 256, 256, fmt="svg"))
    clear = parse_svg(draw_image(PROMPT, 256, 256, fmt="svg", transparent=True))

    def backgrounds(root: ET.Element) -> list[ET.Element]:
        return [rect for rect in root.iter(f"{SVG}rect") if rect.get("fill") == "url(#sky)"]

    assert len(backgrounds(opaque)) == 1
    assert backgrounds(clear) == []


def test_an_svg_differs_between_prompts_and_seeds() -> None:
    svg = draw_image(PROMPT, 128, 128, fmt="svg")

    assert svg != draw_image(PROMPT + "!", 128, 128, fmt="svg")
    assert svg != draw_image(PROMPT, 128, 128, fmt="svg", seed=1)
