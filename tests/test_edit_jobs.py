"""Edits, references and Vary from the form to the kept image, through the real job code and the
offline provider: what a job records, what it sends, what comes back, and what is refused."""

import io
import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image as Picture
from PIL import ImageChops

from gallery.embedding import read_metadata
from gallery.models import Image, ImageInput
from gallery.uploads import ingest_upload
from imagegen.forms import EditForm, GenerateForm
from imagegen.job_messages import INPUT_GONE
from imagegen.models import Generation, ImageModel
from imagegen.submissions import CannotRunAgain, submit_generation, submit_variation
from imagegen.tasks import run_generation
from tests.conftest import png_bytes

GPT = "gpt-image-2"
SEEDREAM = "doubao-seedream-5-0-260128"
PROMPT = "a red kite over the harbour"
# gpt-image-2's fewest pixels: with size=auto the edit keeps the source's own size.
WIDTH, HEIGHT = 1024, 640
HOLE = (100, 100, 400, 300)  # the painted (transparent) rectangle of the mask
RED, BLUE = (255, 0, 0), (0, 0, 255)
# Seedream at 1280x720 draws up to five references as 213 px squares from x=11, 11 px apart,
# with the row's top at y=496 (see tests/test_offline_references.py).
GAP, EDGE, TOP = 11, 213, 496


def striped(size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    """Stripes, so a resize or a stray write would show."""
    image = Picture.new("RGB", size, (30, 90, 160))
    for x in range(0, size[0], 40):
        image.paste((220, 200, 40), (x, 0, x + 20, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def mask_png(size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    mask = Picture.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), HOLE)
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()


def mask_upload(data: bytes | None = None) -> dict[str, SimpleUploadedFile]:
    return {
        "mask": SimpleUploadedFile("mask.png", mask_png() if data is None else data, "image/png")
    }


def gpt_values(**values: Any) -> dict[str, Any]:
    return {
        "model": GPT,
        "prompt": PROMPT,
        "size": "auto",
        "n": 1,
        "quality": "low",
        "output_format": "png",
        "background": "auto",
        **values,
    }


def seedream_values(**values: Any) -> dict[str, Any]:
    return {
        "model": SEEDREAM,
        "prompt": PROMPT,
        "size": "custom",
        "width": 1280,
        "height": 720,
        "n": 1,
        "response_format": "b64_json",
        **values,
    }


def uuids(*images: Image) -> list[str]:
    return [str(image.uuid) for image in images]


def stored_bytes(image: Image) -> bytes:
    with image.file.open("rb") as stored:
        return stored.read()


def pixels(image: Image) -> Picture.Image:
    with Picture.open(io.BytesIO(stored_bytes(image))) as picture:
        return picture.convert("RGBA")


def inputs_of(generation: Generation) -> list[tuple[str, int, int | None, bool]]:
    return [
        (i.role, i.position, i.image_id, bool(i.mask))
        for i in generation.inputs.order_by("position")
    ]


def submitted(owner: User, form: GenerateForm) -> Generation:
    assert form.is_valid(), form.errors
    return submit_generation(owner, form)


def run(generation: Generation) -> Generation:
    """Run the job here, as a worker would, and return it as it ended."""
    run_generation.call(str(generation.pk))
    generation.refresh_from_db()
    return generation


@pytest.fixture
def source(alice: User, make_image) -> Image:
    return make_image(alice, data=striped())


@pytest.fixture
def red(alice: User, make_image) -> Image:
    return make_image(alice, prompt="red", data=png_bytes(64, 48, "red"))


@pytest.fixture
def blue(alice: User, make_image) -> Image:
    return make_image(alice, prompt="blue", data=png_bytes(64, 48, "blue"))


# --- a masked edit ------------------------------------------------------------------------


def test_a_masked_edit_runs_on_the_edits_endpoint_and_records_its_inputs(
    alice: User, source: Image, red: Image
) -> None:
    form = EditForm(gpt_values(reference=uuids(red)), mask_upload(), owner=alice, source=source)

    generation = run(submitted(alice, form))

    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert (generation.model_name, generation.endpoint) == (GPT, "edits")
    assert generation.parameters == {
        "n": 1,
        "size": "auto",
        "quality": "low",
        "output_format": "png",
        "background": "auto",
    }
    assert inputs_of(generation) == [
        ("edited", 0, source.id, True),
        ("reference", 1, red.id, False),
    ]
    assert bytes(generation.inputs.get(position=0).mask) == mask_png()
    # Both images were counted: 1024x640 covers 2x2 tiles, 64x48 one, 65 tokens a tile.
    assert generation.usage["input_tokens_details"]["image_tokens"] == 5 * 65


def test_a_masked_edit_keeps_the_pixels_outside_the_mask_and_repaints_inside(
    alice: User, source: Image
) -> None:
    generation = run(
        submitted(alice, EditForm(gpt_values(), mask_upload(), owner=alice, source=source))
    )

    result = generation.images.get()
    assert (result.width, result.height, result.format) == (WIDTH, HEIGHT, "png")
    before, after = pixels(source), pixels(result)
    changed = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v else 0)
    outside = Picture.new("L", (WIDTH, HEIGHT), 255)
    outside.paste(0, HOLE)
    assert ImageChops.multiply(changed, outside).getbbox() is None  # not one pixel outside
    inside = changed.crop(HOLE)
    assert inside.histogram()[255] / (inside.width * inside.height) > 0.9


def test_an_edited_image_joins_its_sources_stack_and_says_where_it_came_from(
    alice: User, source: Image, red: Image
) -> None:
    form = EditForm(gpt_values(reference=uuids(red)), mask_upload(), owner=alice, source=source)

    result = run(submitted(alice, form)).images.get()

    assert result.stack_root == source
    data = stored_bytes(result)
    assert read_metadata(data)["lineage"] == {
        "edited_from": str(source.uuid),
        "masked": True,
        "references": [str(red.uuid)],
    }
    with Picture.open(io.BytesIO(data)) as picture:
        text = picture.info["parameters"]
    assert f"Edited from: {source.uuid}" in text
    assert f"References: {red.uuid}" in text


# --- references on the generate form ------------------------------------------------------


def test_references_for_a_gpt_model_make_an_edit_without_a_mask(
    alice: User, red: Image, blue: Image
) -> None:
    form = GenerateForm(gpt_values(reference=uuids(red, blue)), owner=alice)

    generation = run(submitted(alice, form))

    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert generation.endpoint == "edits"
    assert inputs_of(generation) == [
        ("reference", 0, red.id, False),
        ("reference", 1, blue.id, False),
    ]
    result = generation.images.get()
    # size=auto for a 64x48 first image: the named size closest to its shape.
    assert (result.width, result.height) == (1536, 1024)
    assert result.stack_root is None  # references alone start a new stack
    assert read_metadata(stored_bytes(result))["lineage"] == {"references": uuids(red, blue)}


def test_without_references_a_gpt_model_still_generates(alice: User) -> None:
    form = GenerateForm(gpt_values(), owner=alice)

    assert form.is_valid(), form.errors
    assert form.endpoint == "generations"


def test_references_for_seedream_go_inline_on_generations_and_show_in_the_result(
    alice: User, red: Image, blue: Image
) -> None:
    form = GenerateForm(seedream_values(reference=uuids(red, blue), seed=7), owner=alice)

    generation = run(submitted(alice, form))

    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert generation.endpoint == "generations"
    assert inputs_of(generation) == [
        ("reference", 0, red.id, False),
        ("reference", 1, blue.id, False),
    ]
    assert "image" not in generation.parameters
    assert "data:" not in json.dumps(generation.parameters)
    assert generation.parameters == {
        "n": 1,
        "size": "1280x720",
        "response_format": "b64_json",
        "watermark": False,
        "seed": 7,
    }
    result = pixels(generation.images.get())
    assert result.size == (1280, 720)
    for index, colour in enumerate((RED, BLUE)):
        centre = (GAP + index * (EDGE + GAP) + EDGE // 2, TOP + EDGE // 2)
        assert result.getpixel(centre) == (*colour, 255)


# --- what the forms refuse ----------------------------------------------------------------


def many(owner: User, make_image, count: int) -> list[str]:
    return [str(make_image(owner, data=png_bytes(16, 16)).uuid) for _ in range(count)]


def test_seedream_takes_at_most_fourteen_references(alice: User, make_image) -> None:
    form = GenerateForm(seedream_values(reference=many(alice, make_image, 15)), owner=alice)

    assert form.reference_limit == 14
    assert not form.is_valid()
    assert form.errors["reference"] == ["Choose at most 14 reference images."]


def test_seedreams_references_and_images_out_add_up_to_at_most_fifteen(
    alice: User, make_image
) -> None:
    form = GenerateForm(seedream_values(n=6, reference=many(alice, make_image, 10)), owner=alice)

    assert not form.is_valid()
    assert form.errors["n"] == [
        "Reference images, Number of images may add up to at most 15; these add up to 16."
    ]


def test_the_editor_takes_fifteen_references_beside_the_edited_image(
    alice: User, source: Image, make_image
) -> None:
    references = many(alice, make_image, 16)
    too_many = EditForm(gpt_values(reference=references), owner=alice, source=source)
    enough = EditForm(gpt_values(reference=references[:15]), owner=alice, source=source)

    assert too_many.reference_limit == 15
    assert not too_many.is_valid()
    # 17 images where the edits endpoint takes 16: said as the references the editor offers.
    assert too_many.errors["reference"] == ["Choose at most 15 reference images."]
    assert enough.is_valid(), enough.errors
    assert len(enough.planned_inputs()) == 16


def test_another_persons_image_is_refused_as_a_reference_and_no_job_is_made(
    alice: User, alice_client: Client, bob: User, source: Image, make_image
) -> None:
    bobs = make_image(bob)
    jobs = Generation.objects.count()

    response = alice_client.post(
        reverse("image_edit", args=[source.uuid]), gpt_values(reference=uuids(bobs))
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reference"] == [
        "A chosen image is no longer in your gallery."
    ]
    assert Generation.objects.count() == jobs
    assert not ImageInput.objects.exists()


def test_a_reference_that_is_not_a_uuid_is_refused(alice: User) -> None:
    form = GenerateForm(seedream_values(reference=["banana"]), owner=alice)

    assert not form.is_valid()
    assert form.errors["reference"] == ["“banana” is not an image."]


def test_a_mask_for_a_model_that_does_not_edit_is_refused(alice: User, source: Image) -> None:
    form = EditForm(seedream_values(), mask_upload(), owner=alice, source=source)

    assert not form.is_valid()
    assert form.errors["mask"] == [
        "Seedream 5.0 cannot take a mask: choose a model that edits, or clear the mask."
    ]


def test_a_mask_of_another_size_is_refused(alice: User, source: Image) -> None:
    form = EditForm(gpt_values(), mask_upload(mask_png((512, 320))), owner=alice, source=source)

    assert not form.is_valid()
    assert form.errors["mask"] == [
        "The mask is 512x320 pixels; it must be the image's own size, 1024x640."
    ]


def test_without_a_mask_seedream_in_the_editor_takes_the_image_as_its_first_reference(
    alice: User, source: Image, red: Image
) -> None:
    form = EditForm(seedream_values(reference=uuids(red)), owner=alice, source=source)

    generation = submitted(alice, form)

    assert generation.endpoint == "generations"
    assert inputs_of(generation) == [
        ("edited", 0, source.id, False),
        ("reference", 1, red.id, False),
    ]


# --- an input deleted before the job runs -------------------------------------------------


def test_a_job_whose_source_was_deleted_before_it_ran_fails_with_input_gone(
    alice: User, source: Image
) -> None:
    generation = submitted(alice, EditForm(gpt_values(), mask_upload(), owner=alice, source=source))
    Image.objects.filter(pk=source.pk).delete_with_files()

    assert run_generation.call(str(generation.pk)) == "failed"

    generation.refresh_from_db()
    assert (generation.error_code, generation.error_message) == ("input_gone", INPUT_GONE)
    assert not generation.images.exists()
    gone = generation.inputs.get()
    assert (gone.image, gone.image_uuid) == (None, source.uuid)


# --- Vary ---------------------------------------------------------------------------------


@pytest.fixture
def seeded(alice: User, red: Image) -> Image:
    """A Seedream image made with seed 5 and one reference."""
    form = GenerateForm(seedream_values(seed=5, reference=uuids(red)), owner=alice)
    return run(submitted(alice, form)).images.get()


def test_vary_runs_the_same_settings_with_a_new_seed_and_the_same_inputs(
    alice: User, seeded: Image, red: Image
) -> None:
    made = seeded.generation

    variation = submit_variation(alice, seeded)

    seed = variation.parameters["seed"]
    assert seed != 5
    assert 0 <= seed <= 2_147_483_647
    assert variation.parameters == {**made.parameters, "seed": seed}
    assert (variation.model_name, variation.endpoint, variation.prompt) == (
        SEEDREAM,
        "generations",
        PROMPT,
    )
    assert inputs_of(variation) == [
        ("reference", 0, red.id, False),
        ("varied", 1, seeded.id, False),
    ]


def test_a_variation_of_a_variation_stacks_on_the_first_version(alice: User, seeded: Image) -> None:
    second = run(submit_variation(alice, seeded)).images.get()
    third = run(submit_variation(alice, second)).images.get()

    assert second.stack_root == seeded
    assert third.stack_root == seeded
    assert read_metadata(stored_bytes(third))["lineage"]["varied_from"] == str(second.uuid)


def test_vary_of_an_edit_sends_the_same_image_and_mask_again(alice: User, source: Image) -> None:
    edited = run(
        submitted(alice, EditForm(gpt_values(), mask_upload(), owner=alice, source=source))
    ).images.get()

    variation = submit_variation(alice, edited)

    assert variation.endpoint == "edits"
    assert variation.parameters == edited.generation.parameters  # gpt-image-2 has no seed
    assert inputs_of(variation) == [("edited", 0, source.id, True), ("varied", 1, edited.id, False)]
    assert bytes(variation.inputs.get(position=0).mask) == mask_png()


def test_an_uploaded_image_cannot_be_varied(alice: User) -> None:
    uploaded = ingest_upload(alice, png_bytes(), "holiday.png")

    with pytest.raises(CannotRunAgain) as refused:
        submit_variation(alice, uploaded)

    assert refused.value.message == "An uploaded image has no settings to run again: edit it."
    assert not Generation.objects.exists()


def test_an_image_of_a_model_no_longer_offered_cannot_be_varied(alice: User, seeded: Image) -> None:
    ImageModel.objects.filter(name=SEEDREAM).update(enabled=False)
    jobs = Generation.objects.count()

    with pytest.raises(CannotRunAgain) as refused:
        submit_variation(alice, seeded)

    assert refused.value.message == "Its model is not available any more: remix it with another."
    assert Generation.objects.count() == jobs


def test_an_image_of_a_retired_model_is_varied_with_its_replacement(
    alice: User, make_image
) -> None:
    retired = make_image(alice, model_name="dall-e-3")

    variation = submit_variation(alice, retired)

    assert variation.model_name == "gpt-image-2"  # dall-e-3's replacement
    assert inputs_of(variation) == [("varied", 0, retired.id, False)]


# --- remix --------------------------------------------------------------------------------


def test_remix_starts_from_the_same_references(alice: User, red: Image, blue: Image) -> None:
    form = GenerateForm(seedream_values(seed=9, reference=uuids(red, blue)), owner=alice)
    generation = submitted(alice, form)

    initial = generation.form_initial()

    assert initial["reference"] == uuids(red, blue)
    assert (initial["model"], initial["prompt"], initial["seed"]) == (SEEDREAM, PROMPT, 9)
    remix = GenerateForm(initial=initial, owner=alice)
    assert remix.chosen_references() == [red, blue]


def test_remix_of_an_edit_keeps_its_references_but_not_the_edited_image(
    alice: User, source: Image, red: Image
) -> None:
    form = EditForm(gpt_values(reference=uuids(red)), mask_upload(), owner=alice, source=source)

    initial = submitted(alice, form).form_initial()

    assert initial["reference"] == uuids(red)
    assert (initial["model"], initial["quality"]) == (GPT, "low")


# --- the views ----------------------------------------------------------------------------


def test_the_editor_opens_for_ones_own_image(alice_client: Client, source: Image) -> None:
    response = alice_client.get(reverse("image_edit", args=[source.uuid]))

    assert response.status_code == 200
    assert response.context["source"] == source
    assert response.context["form"].source == source
    assert 'name="mask"' in response.content.decode()


def test_the_editor_of_another_persons_image_is_not_found(
    bob_client: Client, source: Image
) -> None:
    assert bob_client.get(reverse("image_edit", args=[source.uuid])).status_code == 404
    assert bob_client.post(reverse("image_vary", args=[source.uuid])).status_code == 404


def test_the_editor_redraws_only_the_model_fields_for_htmx(
    alice_client: Client, source: Image
) -> None:
    response = alice_client.get(
        reverse("image_edit", args=[source.uuid]),
        {"model": SEEDREAM},
        headers={"HX-Request": "true", "HX-Target": "model-fields"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<fieldset id="model-fields"')
    assert 'name="seed"' in page
    assert "<html" not in page


def test_an_edit_posted_without_a_csrf_token_is_refused(alice: User, source: Image) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post(reverse("image_edit", args=[source.uuid]), gpt_values())

    assert response.status_code == 403
    assert b"The form has expired" in response.content  # the studio's page, not Django's
    assert not Generation.objects.filter(endpoint="edits").exists()


def test_a_valid_edit_post_redirects_to_its_job(
    alice: User, alice_client: Client, source: Image
) -> None:
    response = alice_client.post(
        reverse("image_edit", args=[source.uuid]), {**gpt_values(), **mask_upload()}
    )

    generation = Generation.objects.get(endpoint="edits")
    assert response.status_code == 302
    assert response["Location"] == reverse("generation", args=[generation.pk])
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message


def test_vary_redirects_to_the_new_job(alice_client: Client, seeded: Image) -> None:
    response = alice_client.post(reverse("image_vary", args=[seeded.uuid]))

    variation = (
        Generation.objects.filter(model_name=SEEDREAM).exclude(pk=seeded.generation_id).get()
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("generation", args=[variation.pk])


def test_a_refused_vary_goes_back_to_the_image_with_the_reason(
    alice: User, alice_client: Client
) -> None:
    uploaded = ingest_upload(alice, png_bytes(), "holiday.png")

    response = alice_client.post(reverse("image_vary", args=[uploaded.uuid]), follow=True)

    assert response.redirect_chain == [(reverse("image_detail", args=[uploaded.uuid]), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "An uploaded image has no settings to run again: edit it."
    ]


def test_vary_refuses_get(alice_client: Client, seeded: Image) -> None:
    assert alice_client.get(reverse("image_vary", args=[seeded.uuid])).status_code == 405


def test_an_unknown_image_is_not_found(alice_client: Client) -> None:
    missing = uuid.uuid4()

    assert alice_client.get(reverse("image_edit", args=[missing])).status_code == 404
    assert alice_client.post(reverse("image_vary", args=[missing])).status_code == 404


def test_an_edits_mask_is_shown_to_its_owner_only(
    alice: User, alice_client: Client, bob_client: Client, source: Image, red: Image
) -> None:
    masked = submitted(alice, EditForm(gpt_values(), mask_upload(), owner=alice, source=source))
    unmasked = submitted(alice, EditForm(gpt_values(), owner=alice, source=source))
    url = reverse("generation_mask", args=[masked.pk])

    response = alice_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == mask_png()
    assert bob_client.get(url).status_code == 404
    assert alice_client.get(reverse("generation_mask", args=[unmasked.pk])).status_code == 404
    assert alice_client.post(url).status_code == 405
    page = alice_client.get(reverse("generation", args=[masked.pk])).content.decode()
    assert url in page  # the job's page links its mask
