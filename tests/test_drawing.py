"""The offline provider's pictures: exact size and format, deterministic, real alpha, quick."""

import io

import pytest
from PIL import Image, ImageFilter, ImageStat

from imagegen.drawing import draw_image

PROMPT = "A lighthouse on a cliff at dawn, watercolour"


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


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
    with pytest.raises(ValueError, match="gif"):
        draw_image(PROMPT, 64, 64, fmt="gif")


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
