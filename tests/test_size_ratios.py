"""Sizes offered as aspect ratios: tiles named for their shape and ratio, worked out from the size
strings, with the pixels where the size is fixed; the value sent is the size, unchanged."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from imagegen.forms import GenerateForm
from imagegen.forms.size_tiles import aspect_ratio, size_tiles
from imagegen.models import Generation

pytestmark = pytest.mark.django_db

URL = reverse("generate")
TIMES = "\N{MULTIPLICATION SIGN}"


@pytest.mark.parametrize(
    ("size", "ratio"),
    [
        ((1024, 1024), "1:1"),
        ((1024, 1536), "2:3"),
        ((1536, 1024), "3:2"),
        ((1792, 1024), "7:4"),  # exact while its terms are small
        ((2848, 1600), "16:9"),  # 89:50 exactly: called by the common ratio it is within 4% of
        ((1600, 2848), "9:16"),
        ((1472, 1140), "4:3"),
        ((1664, 928), "16:9"),
        ((2304, 1728), "4:3"),
        ((3000, 1010), "3:1"),
        ((3500, 1000), "7:2"),
        ((4096, 1008), "4.1:1"),  # near no common ratio: the long edge over the short
    ],
)
def test_it_names_the_ratio_of_a_size(size: tuple[int, int], ratio: str) -> None:
    assert aspect_ratio(*size) == ratio


def test_tiles_name_the_shape_and_the_pixels_of_fixed_sizes() -> None:
    options = [("auto", "Automatic", False), ("1024x1024", "1024x1024", True),
               ("1024x1536", "1024x1536", False), ("1536x1024", "1536x1024", False),
               ("custom", "Custom…", False)]  # fmt: skip
    tiles = size_tiles(options)
    assert [(t.value, t.name, t.pixels) for t in tiles] == [
        ("auto", "Automatic", ""),
        ("1024x1024", "Square 1:1", f"1024 {TIMES} 1024"),
        ("1024x1536", "Portrait 2:3", f"1024 {TIMES} 1536"),
        ("1536x1024", "Landscape 3:2", f"1536 {TIMES} 1024"),
        ("custom", "Custom…", ""),
    ]
    assert [t.selected for t in tiles] == [False, True, False, False, False]
    assert [t.fixed for t in tiles] == [False, True, True, True, False]
    # The drawn shape fits a 24-unit square, centred, long edge filling it.
    assert tiles[2].shape == (4, 0, 16, 24)
    assert tiles[3].shape == (0, 4, 24, 16)


def test_named_sizes_keep_their_names() -> None:
    tiles = size_tiles([("2K", "2K", False), ("4K", "4K", False)])
    assert [(t.name, t.pixels, t.fixed) for t in tiles] == [("2K", "", False), ("4K", "", False)]


def test_shape_names_are_translated() -> None:
    with translation.override("ar"):
        [tile] = size_tiles([("1024x1536", "1024x1536", True)])
    assert tile.pixels == f"1024 {TIMES} 1536"
    assert "2:3" in tile.name


def test_the_form_draws_a_radio_group_with_a_legend(alice_client: Client) -> None:
    page = alice_client.get(URL, {"model": "gpt-image-2"}).content.decode()
    start = page.index('<fieldset class="field field-size size-tiles"')
    group = page[start : page.index("</fieldset>", start)]
    assert "<legend>Size</legend>" in group
    assert group.count('type="radio" name="size"') == 5  # auto, three sizes, custom
    assert 'value="auto" checked>' in group  # the schema's default
    assert '<span class="tile-name">Portrait 2:3</span>' in group
    assert f'<span class="tile-pixels" dir="ltr">1024 {TIMES} 1536</span>' in group
    assert 'value="custom"' in group and "Custom…" in group
    assert 'aria-hidden="true"' in group  # the drawn shape is decoration


def test_every_offered_model_shows_its_own_sizes_as_tiles() -> None:
    for model, count in (("doubao-seedream-5-0-260128", 8), ("qwen-image", 5)):
        form = GenerateForm(initial={"model": model})
        [size] = [c for c in form.model_controls() if c.kind == "size"]
        assert len(size.tiles) == count, model
    form = GenerateForm(initial={"model": "qwen-image"})
    [size] = [c for c in form.model_controls() if c.kind == "size"]
    assert [t.name for t in size.tiles] == [
        "Square 1:1", "Landscape 16:9", "Portrait 9:16", "Landscape 4:3", "Portrait 3:4",
    ]  # fmt: skip


def test_the_value_sent_is_the_size_string(alice_client: Client) -> None:
    data = {"model": "gpt-image-2", "prompt": "a tall tower", "size": "1024x1536", "n": 1,
            "quality": "auto", "output_format": "png", "background": "auto",
            "moderation": "auto"}  # fmt: skip
    alice_client.post(URL, data)
    assert Generation.objects.get().parameters["size"] == "1024x1536"


def test_the_custom_tile_still_takes_a_width_and_height(alice_client: Client) -> None:
    data = {"model": "gpt-image-2", "prompt": "a wide dune", "size": "custom", "width": 1280,
            "height": 720, "n": 1, "quality": "auto", "output_format": "png",
            "background": "auto", "moderation": "auto"}  # fmt: skip
    alice_client.post(URL, data)
    assert Generation.objects.get().parameters["size"] == "1280x720"


def test_a_bad_custom_size_marks_the_width_and_keeps_custom_checked(alice_client: Client) -> None:
    data = {"model": "gpt-image-2", "prompt": "odd", "size": "custom", "width": 1000,
            "height": 1000, "n": 1, "quality": "auto", "output_format": "png",
            "background": "auto", "moderation": "auto"}  # fmt: skip
    page = alice_client.post(URL, data).content.decode()
    assert "Both edges must be multiples of 16." in page
    assert 'value="custom" checked>' in page
    assert not Generation.objects.exists()


def test_an_unknown_size_is_refused_and_no_tile_is_checked(alice_client: Client) -> None:
    data = {"model": "qwen-image", "prompt": "a crane", "size": "999x999"}
    page = alice_client.post(URL, data).content.decode()
    start = page.index('<fieldset class="field field-size size-tiles has-error"')
    group = page[start : page.index("</fieldset>", start)]
    assert " checked" not in group
    assert 'aria-describedby="id_size_error_1"' in group
    assert not Generation.objects.exists()
