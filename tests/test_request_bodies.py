"""service.build_request_body: the exact JSON sent for each model, and what is never sent."""

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from imagegen.catalogue import SHIPPED_MODELS, ModelSpec, shipped_spec
from imagegen.service import build_request_body

# CI clones the repository with shared/ beside it.
SPEC = Path(__file__).resolve().parents[2] / "shared" / "reference" / "openai-images-openapi.yaml"
PROMPT = "A lighthouse on a cliff at dusk"
OPENAI_MODELS = [
    "dall-e-2",
    "dall-e-3",
    "gpt-image-2",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "gpt-image-1.5",
    "gpt-image-1",
    "gpt-image-1-mini",
]
GPT_MODELS = [name for name in OPENAI_MODELS if name.startswith("gpt-image")]


def profile(name: str) -> ModelSpec:
    found = shipped_spec(name)
    assert found is not None, name
    return found


@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


@cache
def create_image_request_validator() -> Draft202012Validator:
    """CreateImageRequest, with its #/components/schemas/... refs resolved inside the spec."""
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openai-images", resource)
    schema = {"$ref": "urn:openai-images#/components/schemas/CreateImageRequest"}
    return Draft202012Validator(schema, registry=registry)


def assert_valid_for_openai(body: dict[str, Any]) -> None:
    create_image_request_validator().validate(body)
    # The schema allows unknown keys; an unknown key would still be refused upstream.
    known = spec()["components"]["schemas"]["CreateImageRequest"]["properties"]
    assert set(body) <= set(known)


GPT_DEFAULTS = {
    "n": 1,
    "size": "auto",
    "quality": "auto",
    "output_format": "png",
    "background": "auto",
    "moderation": "auto",
}

# (model, options, the exact body expected apart from model and prompt)
BODIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "dall-e-3",
        {},
        {
            "n": 1,
            "size": "1024x1024",
            "quality": "standard",
            "style": "vivid",
            "response_format": "b64_json",  # the studio's default: the bytes in the answer
        },
    ),
    (
        "dall-e-3",
        {"size": "1792x1024", "quality": "hd", "style": "natural", "response_format": "url"},
        {
            "n": 1,
            "size": "1792x1024",
            "quality": "hd",
            "style": "natural",
            "response_format": "url",
        },
    ),
    ("dall-e-2", {}, {"n": 1, "size": "1024x1024", "response_format": "b64_json"}),
    (
        "dall-e-2",
        {"n": 4, "size": "256x256", "response_format": "url"},
        {"n": 4, "size": "256x256", "response_format": "url"},
    ),
    *[(name, {}, GPT_DEFAULTS) for name in GPT_MODELS],
    *[
        (
            name,
            {
                "n": 2,
                "size": "1024x1536",
                "quality": "high",
                "output_format": "jpeg",
                "output_compression": 60,
                "background": "opaque",
                "moderation": "low",
            },
            {
                "n": 2,
                "size": "1024x1536",
                "quality": "high",
                "output_format": "jpeg",
                "background": "opaque",
                "moderation": "low",
                "output_compression": 60,
            },
        )
        for name in GPT_MODELS
    ],
    (
        "gpt-image-2",
        {"size": "1536x864", "output_format": "webp", "background": "transparent"},
        GPT_DEFAULTS | {"size": "1536x864", "output_format": "webp", "background": "transparent"},
    ),
    (
        "gpt-image-1.5",
        {"quality": "low", "stream": True, "partial_images": 2},
        GPT_DEFAULTS | {"quality": "low", "stream": True, "partial_images": 2},
    ),
    (
        "gpt-image-2.5-sunburst",
        {"size": "2048x1152", "quality": "high"},
        GPT_DEFAULTS | {"size": "2048x1152", "quality": "high"},
    ),
    (
        "gpt-image-2.6-flare",
        {"stream": True, "partial_images": 3, "output_format": "webp", "output_compression": 80},
        GPT_DEFAULTS
        | {"stream": True, "partial_images": 3, "output_format": "webp", "output_compression": 80},
    ),
    (
        "gpt-image-2.6-sunburst",
        {"background": "opaque", "quality": "low"},
        GPT_DEFAULTS | {"background": "opaque", "quality": "low"},
    ),
    ("qwen-image", {}, {"n": 1, "size": "1328x1328"}),
    ("qwen-image", {"size": "1664x928"}, {"n": 1, "size": "1664x928"}),
]


# Values OpenAI's August 2026 spec does not list yet (api.md §6.6): xhigh and max quality,
# complexity, gif and svg output with their frames. Exact bodies, not checked against the spec.
NEWER_THAN_THE_SPEC: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "gpt-image-2.5-flare",
        {"quality": "xhigh"},
        GPT_DEFAULTS | {"quality": "xhigh"},
    ),
    (
        "gpt-image-2.6-flare",
        {"quality": "max", "complexity": "low"},
        GPT_DEFAULTS | {"quality": "max", "complexity": "low"},
    ),
    (
        "gpt-image-2.6-sunburst",
        {"output_format": "gif"},
        GPT_DEFAULTS | {"output_format": "gif", "frame_count": 9, "frame_duration_ms": 200},
    ),
    (
        "gpt-image-2.6-sunburst",
        {"output_format": "gif", "frame_count": 4, "frame_duration_ms": 500, "n": 3},
        GPT_DEFAULTS
        | {"n": 3, "output_format": "gif", "frame_count": 4, "frame_duration_ms": 500},
    ),
    ("gpt-image-2.6-flare", {"output_format": "svg"}, GPT_DEFAULTS | {"output_format": "svg"}),
    (
        "doubao-seedream-5-0-260128",
        {},
        {"n": 1, "size": "2048x2048", "response_format": "b64_json", "watermark": True},
    ),
    (
        "doubao-seedream-5-0-260128",
        {"size": "4K", "watermark": False, "seed": 42, "guidance_scale": 7.5, "n": 3},
        {"n": 3, "size": "4K", "response_format": "b64_json", "watermark": False,
         "guidance_scale": 7.5, "seed": 42},
    ),
    (
        "doubao-seedream-4-5-251128",
        {"size": "2K", "response_format": "url", "image": ["data:image/png;base64,iVBO"]},
        {"n": 1, "size": "2K", "response_format": "url", "watermark": True,
         "image": ["data:image/png;base64,iVBO"]},
    ),
    (
        "doubao-seedream-4-5-251128",
        {"size": "3000x1500", "n": 1, "image": ["https://example.org/ref.png"] * 14},
        {"n": 1, "size": "3000x1500", "response_format": "b64_json", "watermark": True,
         "image": ["https://example.org/ref.png"] * 14},
    ),
]  # fmt: skip
BODIES += NEWER_THAN_THE_SPEC


@pytest.mark.parametrize(("model", "options", "expected"), BODIES)
def test_it_builds_the_exact_body_for_each_shipped_model(
    model: str, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    body = build_request_body(profile(model), PROMPT, options)

    assert body == {"model": model, "prompt": PROMPT, **expected}


@pytest.mark.parametrize(
    ("model", "options", "expected"),
    [b for b in BODIES if b[0] in OPENAI_MODELS and b not in NEWER_THAN_THE_SPEC],
)
def test_every_body_for_an_openai_model_validates_against_create_image_request(
    model: str, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert_valid_for_openai(build_request_body(profile(model), PROMPT, options))


def test_the_cases_cover_every_shipped_model() -> None:
    assert {values["name"] for values in SHIPPED_MODELS} == {model for model, _, _ in BODIES}


def test_the_schema_check_catches_a_wrong_body() -> None:
    with pytest.raises(Exception, match="is not one of"):
        create_image_request_validator().validate({"prompt": "x", "quality": "ultra"})


def test_it_fills_missing_and_empty_options_with_the_profiles_defaults() -> None:
    options = {"size": "", "quality": None, "style": "", "response_format": None}

    assert build_request_body(profile("dall-e-3"), PROMPT, options) == build_request_body(
        profile("dall-e-3"), PROMPT, {}
    )


@pytest.mark.parametrize(
    ("model", "options", "never_sent"),
    [
        ("gpt-image-1", {"response_format": "b64_json"}, "response_format"),
        ("gpt-image-2", {"response_format": "url"}, "response_format"),
        ("gpt-image-1", {"output_format": "png", "output_compression": 100}, "output_compression"),
        ("gpt-image-2.6-flare", {"frame_count": 9}, "frame_count"),  # only with gif
        ("gpt-image-2.6-flare", {"complexity": "high"}, "complexity"),  # the default, left out
        ("doubao-seedream-5-0-260128", {"quality": "hd"}, "quality"),
        ("dall-e-2", {"style": "natural"}, "style"),
        ("dall-e-2", {"quality": "hd"}, "quality"),
        ("dall-e-3", {"output_format": "png"}, "output_format"),
        ("dall-e-3", {"background": "transparent"}, "background"),
        ("dall-e-3", {"moderation": "low"}, "moderation"),
        ("dall-e-3", {"output_compression": 50}, "output_compression"),
        ("dall-e-3", {"stream": True, "partial_images": 2}, "stream"),
        ("dall-e-3", {"stream": True, "partial_images": 2}, "partial_images"),
        ("gpt-image-1", {"stream": False, "partial_images": 2}, "partial_images"),
        ("gpt-image-1", {"partial_images": 2}, "stream"),
        ("qwen-image", {"quality": "hd", "response_format": "url"}, "quality"),
        ("qwen-image", {"quality": "hd", "response_format": "url"}, "response_format"),
    ],
)
def test_it_never_sends_a_parameter_the_model_does_not_take(
    model: str, options: dict[str, Any], never_sent: str
) -> None:
    assert never_sent not in build_request_body(profile(model), PROMPT, options)


def test_it_sends_compression_only_with_jpeg_or_webp() -> None:
    gpt = profile("gpt-image-1")

    assert (
        build_request_body(gpt, PROMPT, {"output_format": "webp", "output_compression": 0})[
            "output_compression"
        ]
        == 0
    )
    assert "output_compression" not in build_request_body(gpt, PROMPT, {"output_format": "webp"})


def test_it_accepts_a_prompt_of_exactly_the_maximum_length() -> None:
    prompt = "a" * profile("dall-e-2").prompt_max_length

    assert build_request_body(profile("dall-e-2"), prompt, {})["prompt"] == prompt


@pytest.mark.parametrize(
    ("model", "prompt", "options"),
    [
        ("dall-e-2", "a" * 1001, {}),
        ("qwen-image", "a" * 801, {}),
        ("dall-e-3", "", {}),
        ("dall-e-3", "   ", {}),
        ("gpt-image-1", PROMPT, {"quality": "ultra"}),
        ("dall-e-3", PROMPT, {"quality": "low"}),
        ("dall-e-3", PROMPT, {"style": "pastel"}),
        ("dall-e-2", PROMPT, {"response_format": "png"}),
        ("gpt-image-1", PROMPT, {"output_format": "gif"}),
        ("gpt-image-1", PROMPT, {"background": "transparent", "output_format": "jpeg"}),
        ("gpt-image-1", PROMPT, {"moderation": "off"}),
        ("gpt-image-1", PROMPT, {"n": 0}),
        ("gpt-image-1", PROMPT, {"n": 11}),
        ("gpt-image-1", PROMPT, {"n": "2"}),
        ("gpt-image-1", PROMPT, {"n": True}),
        ("dall-e-3", PROMPT, {"n": 2}),
        ("qwen-image", PROMPT, {"n": 2}),
        ("dall-e-3", PROMPT, {"size": "1024x1536"}),
        ("dall-e-2", PROMPT, {"size": "2048x2048"}),
        ("qwen-image", PROMPT, {"size": "1024x1024"}),
        ("gpt-image-1", PROMPT, {"size": "1536x864"}),  # only gpt-image-2 takes any WxH
        ("gpt-image-2", PROMPT, {"size": "1000x1000"}),  # not multiples of 16
        ("gpt-image-2", PROMPT, {"size": "4096x1536"}),  # edge over 3840
        ("gpt-image-2", PROMPT, {"size": "3072x768"}),  # ratio 4:1
        ("gpt-image-2", PROMPT, {"size": "512x512"}),  # too few pixels
        ("gpt-image-2", PROMPT, {"size": "0x1024"}),
        ("gpt-image-2", PROMPT, {"size": "big"}),
        ("gpt-image-1", PROMPT, {"output_format": "jpeg", "output_compression": 101}),
        ("gpt-image-1", PROMPT, {"output_format": "webp", "output_compression": -1}),
        ("gpt-image-1", PROMPT, {"output_format": "webp", "output_compression": "80"}),
        ("gpt-image-1", PROMPT, {"stream": True, "n": 2}),
        ("gpt-image-1", PROMPT, {"stream": True, "partial_images": 4}),
        ("gpt-image-1", PROMPT, {"stream": "yes"}),
        ("gpt-image-1", PROMPT, {"output_format": "png", "output_compression": 50}),
        ("gpt-image-1", PROMPT, {"output_compression": 50}),  # png by default
        ("gpt-image-2", PROMPT, {"quality": "xhigh"}),  # 2.5 and later only
        ("gpt-image-2.5-flare", PROMPT, {"output_format": "gif"}),  # 2.6 only
        ("gpt-image-2.6-flare", PROMPT, {"output_format": "svg", "n": 2}),
        ("gpt-image-2.6-flare", PROMPT, {"output_format": "gif", "stream": True}),
        ("gpt-image-2.6-sunburst", PROMPT, {"output_format": "gif", "frame_count": 17}),
        ("gpt-image-2.6-sunburst", PROMPT, {"output_format": "gif", "frame_count": 1}),
        ("gpt-image-2.6-sunburst", PROMPT, {"output_format": "png", "frame_count": 4}),
        ("gpt-image-2.6-sunburst", PROMPT, {"output_format": "gif", "output_compression": 50}),
        ("gpt-image-2.6-sunburst", PROMPT, {"complexity": "extreme"}),
        ("doubao-seedream-5-0-260128", PROMPT, {"size": "8K"}),
        ("doubao-seedream-5-0-260128", PROMPT, {"size": "640x480"}),  # under 1280x720 pixels
        ("doubao-seedream-5-0-260128", PROMPT, {"guidance_scale": 11.0}),
        ("doubao-seedream-5-0-260128", PROMPT, {"guidance_scale": "high"}),
        ("doubao-seedream-5-0-260128", PROMPT, {"seed": -5}),
        ("doubao-seedream-5-0-260128", PROMPT, {"seed": 1.5}),
        ("doubao-seedream-5-0-260128", PROMPT, {"watermark": "no"}),
        ("doubao-seedream-5-0-260128", PROMPT, {"n": 16}),
        ("doubao-seedream-5-0-260128", PROMPT, {"image": ["data:image/png;base64,AAAA"] * 15}),
        ("doubao-seedream-5-0-260128", PROMPT, {"n": 2, "image": ["https://e.x/a.png"] * 14}),
        ("doubao-seedream-4-5-251128", PROMPT, {"response_format": "png"}),
    ],
)
def test_it_raises_value_error_for_an_invalid_combination(
    model: str, prompt: str, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        build_request_body(profile(model), prompt, options)


def test_it_checks_a_schema_default_like_any_other_value() -> None:
    broken = ModelSpec.from_schema(
        {
            "parameters": [
                {"name": "quality", "kind": "choice", "label": "Quality",
                 "choices": ["low", "high"], "default": "medium", "send_default": True}
            ]
        },
        name="admin-made",
        label="Admin made",
        family="gpt-image",
        prompt_max_length=100,
        max_images=1,
    )  # fmt: skip

    with pytest.raises(ValueError, match="quality"):
        build_request_body(broken, PROMPT, {})
