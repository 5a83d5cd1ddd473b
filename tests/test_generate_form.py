"""The generate form: which fields each model shows, and what it accepts and refuses.

Today's models (2026-12-04): DALL·E and the GPT Image 1 family have retired, so the behaviours
are checked on the models a new job may use; the retired ones only as what the form refuses or
replaces.
"""

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from imagegen.forms import GenerateForm, NoModelAvailable, Retirement
from imagegen.models import Generation, ImageModel, UpstreamModel

pytestmark = pytest.mark.django_db

PROMPT = "a lighthouse at dusk"

GPT_FIELDS = [
    "model",
    "prompt",
    "size",
    "width",
    "height",
    "n",
    "quality",
    "output_format",
    "output_compression",
    "background",
    "moderation",
    "stream",
    "partial_images",
]
# 2.6 adds its drawing options after moderation; streaming stays last.
GPT_26_FIELDS = [
    *GPT_FIELDS[:11],
    "complexity",
    "frame_count",
    "frame_duration_ms",
    *GPT_FIELDS[11:],
]
SEEDREAM_FIELDS = [
    "model",
    "prompt",
    "size",
    "width",
    "height",
    "n",
    "response_format",
    "watermark",
    "guidance_scale",
    "seed",
]
# Every model a new job may use today, in position order (the first is the default).
FIELDS = {
    "gpt-image-2": GPT_FIELDS,
    "gpt-image-2.6-sunburst": GPT_26_FIELDS,
    "gpt-image-2.6-flare": GPT_26_FIELDS,
    "gpt-image-2.5-sunburst": GPT_FIELDS,
    "gpt-image-2.5-flare": GPT_FIELDS,
    "doubao-seedream-5-0-260128": SEEDREAM_FIELDS,
    "doubao-seedream-4-5-251128": SEEDREAM_FIELDS,
    "qwen-image": ["model", "prompt", "size"],
}
GPT = [name for name in FIELDS if name.startswith("gpt-image")]
GPT_26 = ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare"]
GPT_25_AND_LATER = [name for name in GPT if name != "gpt-image-2"]
SEEDREAM = [name for name in FIELDS if name.startswith("doubao-seedream")]
RETIRED = ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"]

GPT_AS_SHOWN = {
    "n": 1,
    "size": "auto",
    "quality": "auto",
    "output_format": "png",
    "background": "auto",
    "moderation": "auto",
}
SEEDREAM_AS_SHOWN = {"n": 1, "size": "2048x2048", "response_format": "b64_json", "watermark": True}
AS_SHOWN = {name: GPT_AS_SHOWN for name in GPT} | {name: SEEDREAM_AS_SHOWN for name in SEEDREAM}
AS_SHOWN["qwen-image"] = {"n": 1, "size": "1328x1328"}
# Every value other than its default: each is sent, and nothing else is.
GPT_CHOSEN = {
    "n": 4,
    "size": "1536x1024",
    "quality": "high",
    "output_format": "jpeg",
    "output_compression": 50,
    "background": "opaque",
    "moderation": "low",
}
SEEDREAM_CHOSEN = {
    "n": 15,
    "size": "4K",
    "response_format": "url",
    "guidance_scale": 2.5,
    "seed": 42,
}


def submitted(model: str, **changes: Any) -> dict[str, Any]:
    """What a browser sends for `model`'s form as first shown, with `changes` made (None clears
    a field, as unticking a box or emptying an input does)."""
    form = GenerateForm(initial={"model": model})
    data: dict[str, Any] = {"prompt": PROMPT}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value is not None and value is not False:
            data[name] = value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def form_for(model: str, **changes: Any) -> GenerateForm:
    form = GenerateForm(submitted(model, **changes))
    assert form.spec.name == model
    return form


def live(name: str, *, offered: bool = True, shutdown_in: int | None = None) -> UpstreamModel:
    """What the key's live model list says about one model."""
    shutdown_on = None if shutdown_in is None else timezone.localdate() + timedelta(shutdown_in)
    return UpstreamModel.objects.create(name=name, offered=offered, shutdown_on=shutdown_on)


def test_these_are_the_models_a_new_job_may_use_today() -> None:
    assert [model.name for model in ImageModel.objects.for_new_jobs()] == list(FIELDS)
    choices = GenerateForm().fields["model"].choices
    assert [name for name, _label in choices] == list(FIELDS)


@pytest.mark.parametrize(("model", "fields"), FIELDS.items())
def test_each_model_shows_exactly_its_own_fields_in_order(model: str, fields: list[str]) -> None:
    form = GenerateForm(initial={"model": model})
    assert list(form.fields) == fields
    assert all(str(field.label) for field in form.fields.values())


def test_seedream_has_no_reference_images_field_so_its_total_rule_is_not_reachable() -> None:
    # Seedream's "reference images + outputs <= 15" rule needs images, chosen in the editor.
    for model in SEEDREAM:
        assert "image" not in GenerateForm(initial={"model": model}).fields


def test_every_field_has_a_visible_label() -> None:
    form = GenerateForm(initial={"model": "gpt-image-2"})
    labels = {name: str(field.label) for name, field in form.fields.items()}
    assert labels["model"] == "Model"
    assert labels["prompt"] == "Prompt"
    assert labels["size"] == "Size"
    assert labels["n"] == "Number of images"
    assert labels["quality"] == "Quality"
    assert labels["output_compression"] == "Compression"
    assert labels["stream"] == "Stream partial previews"


@pytest.mark.parametrize("model", list(FIELDS))
def test_each_model_accepts_its_form_as_first_shown(model: str) -> None:
    form = form_for(model)
    assert form.is_valid(), form.errors
    assert form.options() == AS_SHOWN[model]


def accepted() -> list[Any]:
    """(model, changes, the exact options) for values each model takes."""
    cases = []
    for model in GPT:
        cases += [
            pytest.param(model, GPT_CHOSEN, GPT_CHOSEN, id=f"{model}-jpeg-with-compression"),
            pytest.param(
                model,
                {"output_format": "webp", "background": "transparent", "output_compression": 0},
                GPT_AS_SHOWN
                | {"output_format": "webp", "output_compression": 0, "background": "transparent"},
                id=f"{model}-transparent-webp",
            ),
            pytest.param(
                model,
                {"background": "transparent"},
                GPT_AS_SHOWN | {"background": "transparent"},
                id=f"{model}-transparent-png",
            ),
            pytest.param(
                model,
                {"stream": "on"},
                GPT_AS_SHOWN | {"stream": True, "partial_images": 2},
                id=f"{model}-stream-sends-the-default-partial-images",
            ),
            pytest.param(
                model,
                {"stream": "on", "partial_images": 3},
                GPT_AS_SHOWN | {"stream": True, "partial_images": 3},
                id=f"{model}-stream-with-partial-images",
            ),
            pytest.param(
                model,
                {"size": "custom", "width": 2048, "height": 1152, "n": 10},
                GPT_AS_SHOWN | {"size": "2048x1152", "n": 10},
                id=f"{model}-custom-size-and-ten-images",
            ),
        ]
    for model in GPT_25_AND_LATER:
        cases.append(
            pytest.param(model, {"quality": "max"}, GPT_AS_SHOWN | {"quality": "max"}, id=model)
        )
    for model in GPT_26:
        cases += [
            pytest.param(
                model,
                {"output_format": "gif"},
                GPT_AS_SHOWN | {"output_format": "gif", "frame_count": 9, "frame_duration_ms": 200},
                id=f"{model}-gif-sends-its-frame-defaults",
            ),
            pytest.param(
                model,
                {"output_format": "gif", "frame_count": 4, "frame_duration_ms": 100, "n": 3},
                GPT_AS_SHOWN
                | {"n": 3, "output_format": "gif", "frame_count": 4, "frame_duration_ms": 100},
                id=f"{model}-gif-with-frames",
            ),
            pytest.param(
                model,
                {"output_format": "svg"},
                GPT_AS_SHOWN | {"output_format": "svg"},
                id=f"{model}-svg-one-image",
            ),
            pytest.param(
                model,
                {"complexity": "low"},
                GPT_AS_SHOWN | {"complexity": "low"},
                id=f"{model}-complexity-low-is-sent",
            ),
            pytest.param(
                model,
                {"complexity": "high", "frame_count": 9},
                GPT_AS_SHOWN,
                id=f"{model}-defaults-left-as-they-are-are-not-sent",
            ),
        ]
    for model in SEEDREAM:
        cases += [
            pytest.param(
                model,
                SEEDREAM_CHOSEN,
                SEEDREAM_CHOSEN | {"watermark": True},
                id=f"{model}-fifteen-images",
            ),
            pytest.param(
                model,
                {"watermark": None},
                SEEDREAM_AS_SHOWN | {"watermark": False},
                id=f"{model}-no-watermark",
            ),
            pytest.param(
                model,
                {"size": "custom", "width": 1280, "height": 720},
                SEEDREAM_AS_SHOWN | {"size": "1280x720"},
                id=f"{model}-custom-size",
            ),
        ]
    cases += [
        pytest.param(
            "qwen-image", {"size": "1664x928"}, {"n": 1, "size": "1664x928"}, id="qwen-size"
        ),
        # One image only: qwen-image has no Number of images field, so n=4 is never read.
        pytest.param("qwen-image", {"n": 4}, {"n": 1, "size": "1328x1328"}, id="qwen-one-image"),
    ]
    return cases


@pytest.mark.parametrize(("model", "changes", "options"), accepted())
def test_each_model_accepts_values_it_takes_with_the_exact_options(
    model: str, changes: dict[str, Any], options: dict[str, Any]
) -> None:
    form = form_for(model, **changes)
    assert form.is_valid(), form.errors
    assert form.options() == options


def refused() -> list[Any]:
    """(model, changes, the field the error is shown on, part of its message)."""
    cases = []
    for model in GPT:
        cases += [
            pytest.param(
                model,
                {"output_compression": 50},
                "output_compression",
                "Compression applies only when Output format is JPEG or WebP.",
                id=f"{model}-compression-with-png",
            ),
            pytest.param(
                model,
                {"output_format": "jpeg", "background": "transparent"},
                "background",
                "When Background is Transparent, Output format is PNG or WebP.",
                id=f"{model}-transparent-with-jpeg",
            ),
            pytest.param(
                model,
                {"stream": "on", "n": 2},
                "stream",
                "When Stream partial previews is On, Number of images is 1.",
                id=f"{model}-stream-with-two-images",
            ),
            pytest.param(
                model,
                {"partial_images": 3},
                "partial_images",
                "Partial previews applies only when Stream partial previews is On.",
                id=f"{model}-partial-images-without-stream",
            ),
            pytest.param(
                model,
                {"stream": "on", "partial_images": 4},
                "partial_images",
                "Partial previews must be from 0 to 3.",
                id=f"{model}-four-partial-images",
            ),
            pytest.param(
                model,
                {"n": 11},
                "n",
                "Number of images must be from 1 to 10.",
                id=f"{model}-eleven-images",
            ),
            pytest.param(
                model,
                {"size": "256x256"},
                "size",
                "256x256 is not one of the available choices.",
                id=f"{model}-a-size-it-does-not-name",
            ),
            pytest.param(
                model,
                {"size": "custom", "width": 1000, "height": 1008},
                "width",
                "Both edges must be multiples of 16.",
                id=f"{model}-custom-size-off-the-grid",
            ),
            pytest.param(
                model,
                {"moderation": "high"},
                "moderation",
                "high is not one of the available choices.",
                id=f"{model}-unknown-moderation",
            ),
        ]
    for model in [name for name in GPT if name not in GPT_26]:
        cases.append(
            pytest.param(
                model,
                {"output_format": "gif"},
                "output_format",
                "gif is not one of the available choices.",
                id=f"{model}-no-gif",
            )
        )
    cases.append(
        pytest.param(
            "gpt-image-2",
            {"quality": "xhigh"},
            "quality",
            "xhigh is not one of the available choices.",
            id="gpt-image-2-no-xhigh",
        )
    )
    for model in GPT_26:
        cases += [
            pytest.param(
                model,
                {"output_format": "gif", "stream": "on"},
                "output_format",
                "When Output format is GIF or SVG, Stream partial previews is Off.",
                id=f"{model}-gif-does-not-stream",
            ),
            pytest.param(
                model,
                {"output_format": "svg", "stream": "on"},
                "output_format",
                "When Output format is GIF or SVG, Stream partial previews is Off.",
                id=f"{model}-svg-does-not-stream",
            ),
            pytest.param(
                model,
                {"output_format": "gif", "output_compression": 50},
                "output_compression",
                "Compression applies only when Output format is JPEG or WebP.",
                id=f"{model}-gif-takes-no-compression",
            ),
            pytest.param(
                model,
                {"output_format": "gif", "background": "transparent"},
                "background",
                "When Background is Transparent, Output format is PNG or WebP.",
                id=f"{model}-transparent-with-gif",
            ),
            pytest.param(
                model,
                {"output_format": "svg", "n": 2},
                "output_format",
                "When Output format is SVG, Number of images is 1.",
                id=f"{model}-svg-is-one-image",
            ),
            pytest.param(
                model,
                {"frame_count": 4},
                "frame_count",
                "Frames applies only when Output format is GIF.",
                id=f"{model}-frames-without-gif",
            ),
            pytest.param(
                model,
                {"frame_duration_ms": 100, "output_format": "webp"},
                "frame_duration_ms",
                "Frame duration (ms) applies only when Output format is GIF.",
                id=f"{model}-frame-duration-without-gif",
            ),
            pytest.param(
                model,
                {"output_format": "gif", "frame_count": 17},
                "frame_count",
                "Frames must be from 2 to 16.",
                id=f"{model}-too-many-frames",
            ),
            pytest.param(
                model,
                {"complexity": "max"},
                "complexity",
                "max is not one of the available choices.",
                id=f"{model}-unknown-complexity",
            ),
        ]
    for model in SEEDREAM:
        cases += [
            pytest.param(
                model,
                {"n": 16},
                "n",
                "Number of images must be from 1 to 15.",
                id=f"{model}-sixteen-images",
            ),
            pytest.param(
                model,
                {"guidance_scale": 11},
                "guidance_scale",
                "Guidance scale must be from 1 to 10.",
                id=f"{model}-guidance-above-ten",
            ),
            pytest.param(
                model,
                {"guidance_scale": 0.5},
                "guidance_scale",
                "Guidance scale must be from 1 to 10.",
                id=f"{model}-guidance-below-one",
            ),
            pytest.param(
                model,
                {"seed": -1},
                "seed",
                "Seed must be from 0 to 2,147,483,647.",
                id=f"{model}-negative-seed",
            ),
            pytest.param(
                model,
                {"response_format": "png"},
                "response_format",
                "png is not one of the available choices.",
                id=f"{model}-unknown-response-format",
            ),
            pytest.param(
                model,
                {"size": "custom", "width": 640, "height": 480},
                "width",
                "The image must have between 921,600 and 16,777,216 pixels.",
                id=f"{model}-custom-size-too-small",
            ),
        ]
    cases += [
        pytest.param(
            "qwen-image",
            {"size": "1024x1024"},
            "size",
            "1024x1024 is not one of the available choices.",
            id="qwen-a-size-it-does-not-take",
        ),
        pytest.param(
            "qwen-image",
            {"size": "custom", "width": 1024, "height": 1024},
            "size",
            "custom is not one of the available choices.",
            id="qwen-no-custom-size",
        ),
        pytest.param(
            "qwen-image",
            {"prompt": "x" * 801},
            "prompt",
            "Qwen Image takes at most 800 characters; this prompt has 801.",
            id="qwen-prompt-too-long",
        ),
    ]
    return cases


@pytest.mark.parametrize(("model", "changes", "field", "message"), refused())
def test_each_model_refuses_values_it_does_not_take_on_the_right_field(
    model: str, changes: dict[str, Any], field: str, message: str
) -> None:
    form = form_for(model, **changes)
    assert not form.is_valid()
    assert list(form.errors) == [field], form.errors
    assert message in " ".join(form.errors[field])


def test_the_default_is_gpt_image_2_on_a_fresh_database() -> None:
    form = GenerateForm()
    assert form.spec.name == "gpt-image-2"
    assert form["model"].value() == "gpt-image-2"
    assert form["size"].initial == "auto"
    assert form["output_format"].initial == "png"
    assert form["n"].initial == 1
    assert form.replaced == ""
    assert form.retirement is None


def test_the_default_is_dall_e_3_while_the_key_still_offers_it() -> None:
    live("dall-e-3")
    form = GenerateForm()
    assert form.spec.name == "dall-e-3"
    assert list(form.fields) == ["model", "prompt", "size", "quality", "style", "response_format"]
    assert [name for name, _label in form.fields["model"].choices] == ["dall-e-3", *FIELDS]


@pytest.mark.parametrize("model", RETIRED)
def test_a_retired_model_chosen_in_post_data_is_refused(model: str) -> None:
    form = GenerateForm({"model": model, "prompt": PROMPT, "size": "1024x1024"})
    assert not form.is_valid()
    assert "is not one of the available choices" in form.errors["model"][0]
    assert model not in dict(form.fields["model"].choices)


def test_a_model_the_key_no_longer_offers_is_refused() -> None:
    live("qwen-image", offered=False)
    form = GenerateForm({"model": "qwen-image", "prompt": PROMPT, "size": "1328x1328"})
    assert not form.is_valid()
    assert "model" in form.errors
    assert "qwen-image" not in dict(form.fields["model"].choices)


def test_a_model_is_refused_from_the_day_the_live_list_says_it_shuts_down() -> None:
    data = {"model": "qwen-image", "prompt": PROMPT, "size": "1328x1328"}
    live("qwen-image", shutdown_in=0)
    assert "model" in GenerateForm(data).errors
    UpstreamModel.objects.filter(name="qwen-image").update(
        shutdown_on=timezone.localdate() + timedelta(days=1)
    )
    assert GenerateForm(data).is_valid()


def test_a_disabled_model_cannot_be_chosen() -> None:
    ImageModel.objects.filter(name="qwen-image").update(enabled=False)
    form = GenerateForm({"model": "qwen-image", "prompt": PROMPT, "size": "1328x1328"})
    assert "qwen-image" not in dict(form.fields["model"].choices)
    assert not form.is_valid()
    assert "model" in form.errors


def test_with_every_model_disabled_there_is_no_form_to_show() -> None:
    ImageModel.objects.update(enabled=False)
    with pytest.raises(NoModelAvailable):
        GenerateForm()
    with pytest.raises(NoModelAvailable):
        GenerateForm({"model": "gpt-image-2", "prompt": PROMPT})


def test_retired_models_do_not_stand_in_when_every_current_model_is_disabled() -> None:
    ImageModel.objects.filter(name__in=FIELDS).update(enabled=False)
    with pytest.raises(NoModelAvailable):
        GenerateForm()


def test_it_refuses_an_empty_prompt() -> None:
    form = form_for("qwen-image", prompt="   ")
    assert not form.is_valid()
    assert "prompt" in form.errors


def test_it_refuses_a_prompt_over_the_model_limit_with_grouped_digits() -> None:
    form = form_for("doubao-seedream-5-0-260128", prompt="x" * 1001)
    assert not form.is_valid()
    assert "1,000" in form.errors["prompt"][0]
    assert form_for("doubao-seedream-5-0-260128", prompt="x" * 1000).is_valid()


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (1000, 1008, "multiples of 16"),
        (3840, 1008, "3 times"),
        (4096, 2048, "exceed"),
        (512, 512, "pixels"),
        (None, 1024, "width and a height"),
    ],
)
def test_it_refuses_a_custom_size_outside_the_rules(
    width: int | None, height: int, message: str
) -> None:
    form = form_for("gpt-image-2", size="custom", width=width, height=height)
    assert not form.is_valid()
    assert list(form.errors) == ["width"]
    assert message in " ".join(form.errors["width"])


def test_switching_model_keeps_only_values_the_new_model_takes() -> None:
    values = {"size": "1792x1024", "quality": "xhigh", "output_format": "webp", "prompt": "kept"}
    form = GenerateForm(initial={"model": "gpt-image-2", **values})
    assert form.initial["size"] == "custom"  # gpt-image-2 takes any WxH within its rules
    assert (form.initial["width"], form.initial["height"]) == (1792, 1024)
    assert "quality" not in form.initial  # xhigh is a 2.5 quality
    assert form["quality"].value() == "auto"
    assert form.initial["output_format"] == "webp"
    assert form.initial["prompt"] == "kept"

    form = GenerateForm(initial={"model": "qwen-image", **values})
    assert "size" not in form.initial  # qwen-image has fixed sizes
    assert form["size"].value() == "1328x1328"
    assert form.initial["prompt"] == "kept"


def test_a_remixed_custom_size_selects_custom() -> None:
    form = GenerateForm(initial={"model": "gpt-image-2", "size": "2048x1152"})
    assert form.initial["size"] == "custom"
    assert (form["width"].value(), form["height"].value()) == (2048, 1152)


def test_remix_of_a_dall_e_3_generation_opens_gpt_image_2_with_what_it_takes() -> None:
    owner = User.objects.create_user("remixer")
    generation = Generation.objects.create(
        owner=owner,
        model_name="dall-e-3",
        prompt="a tin robot",
        parameters={
            "n": 1,
            "size": "1792x1024",
            "quality": "hd",
            "style": "natural",
            "response_format": "b64_json",
        },
    )
    form = GenerateForm(initial=generation.form_initial())
    assert form.spec.name == "gpt-image-2"
    assert form.replaced == "DALL·E 3"
    assert form["model"].value() == "gpt-image-2"
    assert list(form.fields) == GPT_FIELDS
    shown = {name: form[name].value() for name in form.fields}
    assert shown == {
        "model": "gpt-image-2",
        "prompt": "a tin robot",
        "size": "custom",
        "width": 1792,
        "height": 1024,
        "n": 1,
        "quality": "auto",  # "hd" is a DALL·E quality
        "output_format": "png",
        "output_compression": None,
        "background": "auto",
        "moderation": "auto",
        "stream": False,
        "partial_images": None,
    }
    resent = GenerateForm({k: v for k, v in shown.items() if v not in (None, False)})
    assert resent.is_valid(), resent.errors
    assert resent.options() == GPT_AS_SHOWN | {"size": "1792x1024"}


def test_remix_of_a_retired_model_without_a_replacement_opens_the_default() -> None:
    ImageModel.objects.filter(name="dall-e-2").update(replacement="")
    form = GenerateForm(initial={"model": "dall-e-2", "size": "512x512", "n": 3})
    assert form.spec.name == "gpt-image-2"
    assert form.replaced == ""
    assert form["n"].value() == 3


def test_the_form_warns_when_the_chosen_model_shuts_down_within_30_days() -> None:
    live("gpt-image-1.5", shutdown_in=10)
    form = GenerateForm(initial={"model": "gpt-image-1.5"})
    assert form.spec.name == "gpt-image-1.5"
    assert form.retirement == Retirement(
        timezone.localdate() + timedelta(days=10), "GPT Image 2.6 Sunburst"
    )


def test_the_warning_starts_30_days_before() -> None:
    live("gpt-image-1.5", shutdown_in=30)
    warned = GenerateForm(initial={"model": "gpt-image-1.5"}).retirement
    assert warned is not None and warned.replacement == "GPT Image 2.6 Sunburst"
    UpstreamModel.objects.filter(name="gpt-image-1.5").update(
        shutdown_on=timezone.localdate() + timedelta(days=31)
    )
    assert GenerateForm(initial={"model": "gpt-image-1.5"}).retirement is None


def test_a_shutdown_40_days_away_shows_no_warning() -> None:
    live("gpt-image-1.5", shutdown_in=40)
    form = GenerateForm(initial={"model": "gpt-image-1.5"})
    assert form.spec.name == "gpt-image-1.5"
    assert form.retirement is None


def test_a_model_without_a_replacement_is_warned_about_without_one() -> None:
    live("gpt-image-2", shutdown_in=5)
    assert GenerateForm().retirement == Retirement(timezone.localdate() + timedelta(days=5), "")


def test_the_shipped_end_date_warns_when_the_live_list_gives_none() -> None:
    soon = timezone.localdate() + timedelta(days=20)
    ImageModel.objects.filter(name="qwen-image").update(
        retires_on=soon, replacement="doubao-seedream-5-0-260128"
    )
    form = GenerateForm(initial={"model": "qwen-image"})
    assert form.retirement == Retirement(soon, "Seedream 5.0")


def test_a_far_shipped_end_date_shows_no_warning() -> None:
    ImageModel.objects.filter(name="qwen-image").update(retires_on=date(2099, 1, 1))
    assert GenerateForm(initial={"model": "qwen-image"}).retirement is None
