"""The models the studio ships, as data (values from shared/reference/api.md §1, §5, §7, §8).

A migration copies these into `ImageModel` rows; from then on the rows are the truth, and an
administrator changes or adds models in admin. `sync_shipped_models` brings new shipped models
and facts (end dates, replacements) into an existing database without touching what an
administrator edited. Labels and help are English, marked for translation.
"""

from datetime import date
from typing import Any

from django.utils.translation import gettext_noop as _

from imagegen.catalogue.spec import SPEC_FACTS, ModelSpec

GPT_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"]
# gpt-image-2 and later: any WxH, both edges multiples of 16, 1:3 to 3:1, at most 3840x2160.
GPT_CUSTOM_SIZES = {
    "multiple_of": 16,
    "max_edge": 3840,
    "max_ratio": 3.0,
    "min_pixels": 655_360,
    "max_pixels": 8_294_400,
}
# Seedream: total pixels from 1280x720 to 4096x4096, ratio up to 16:1 ([comet]).
SEEDREAM_CUSTOM_SIZES = {
    "multiple_of": 1,
    "max_edge": 4096,
    "max_ratio": 16.0,
    "min_pixels": 921_600,
    "max_pixels": 16_777_216,
}


def choice(name: str, label: str, choices: list[str], default: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "kind": "choice", "label": label, "choices": choices,
            "default": default, "send_default": True, **more}  # fmt: skip


def size(choices: list[str], default: str, **more: Any) -> dict[str, Any]:
    return {"name": "size", "kind": "size", "label": _("Size"), "choices": choices,
            "default": default, "send_default": True, **more}  # fmt: skip


# URL or base64 results is how the bytes travel, not what the image looks like: "Advanced".
# Its default is base64 (the upstream's own is url): the studio keeps every image it is sent, and
# base64 hands it the bytes in the answer itself, so nothing is left to fetch from a second host
# (no link that expires, in an hour on OpenAI, before a delayed or retried job fetches it; no
# download to fail after the image was paid for; no copy of a private image at a public URL).
# The price, about a third more bytes in one answer, is small beside those.
RESPONSE_FORMAT = choice(
    "response_format", _("Response format"), ["url", "b64_json"], "b64_json", advanced=True
)
TRANSPARENT_NEEDS_ALPHA = {"if": {"background": ["transparent"]},
                           "then": {"output_format": ["png", "webp"]}}  # fmt: skip
STREAM_MAKES_ONE = {"if": {"stream": [True]}, "then": {"n": [1]}}
# GPT image models take images only on the edits endpoint: up to 16, the first one edited.
GPT_REFERENCES = {"name": "image", "kind": "images", "label": _("Reference images"),
                  "maximum": 16, "endpoints": ["edits"]}  # fmt: skip
# gpt-image-1 and 1.5 could be told to keep the input's details; later models always do.
INPUT_FIDELITY = {"name": "input_fidelity", "kind": "choice", "label": _("Input fidelity"),
                  "help": _("High keeps faces and details of the input images."),
                  "choices": ["low", "high"], "default": "low", "endpoints": ["edits"]}  # fmt: skip


def gpt_image_schema(
    *, sizes: dict[str, Any], qualities: list[str], formats: list[str], more: list[dict[str, Any]]
) -> dict[str, Any]:
    """The parameters every GPT image model shares, with the ones that differ filled in."""
    parameters = [
        sizes,
        choice("quality", _("Quality"), qualities, "auto"),
        choice("output_format", _("Output format"), formats, "png"),
        {"name": "output_compression", "kind": "integer", "label": _("Compression"),
         "help": _("0-100, for JPEG and WebP. Leave empty for the default."),
         "minimum": 0, "maximum": 100, "default": 100,
         "only_when": {"output_format": ["jpeg", "webp"]}},
        choice("background", _("Background"), ["auto", "opaque", "transparent"], "auto"),
        # OpenAI's multipart edit has no moderation field (api.md §7).
        choice("moderation", _("Moderation"), ["auto", "low"], "auto", endpoints=["generations"]),
        *more,
        {"name": "stream", "kind": "boolean", "label": _("Stream partial previews"),
         "help": _("Shows rough previews while the image is drawn (one image only)."),
         "default": False},
        {"name": "partial_images", "kind": "integer", "label": _("Partial previews"),
         "minimum": 0, "maximum": 3, "default": 2, "send_default": True,
         "only_when": {"stream": [True]}},
        GPT_REFERENCES,
    ]  # fmt: skip
    return {"parameters": parameters, "rules": [TRANSPARENT_NEEDS_ALPHA, STREAM_MAKES_ONE]}


# Prices (USD), each model's beside its schema: api.md §8 where it gives them, else as noted.
# Tokens an estimate counts before the upstream does: OpenAI's published output tokens for a
# 1024x1024 image at each quality (more with the area); xhigh and max are not published: twice
# and four times high, guessed.
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 8320, "max": 16640}
INPUT_IMAGE_TOKENS = 765  # one 1024x1024 input image, as OpenAI counts image inputs


def per_token(text_input: str, image_input: str, image_output: str) -> dict[str, Any]:
    return {"currency": "USD",
            "per_million_tokens": {"text_input": text_input, "image_input": image_input,
                                   "image_output": image_output},
            "output_tokens": OUTPUT_TOKENS, "input_image_tokens": INPUT_IMAGE_TOKENS}  # fmt: skip


def per_1024_image(low: str, medium: str, high: str) -> dict[str, Any]:
    """Priced per 1024x1024 image by quality, more with the area; "auto" as high."""
    cases = [{"when": {"quality": [quality]}, "per_image": price}
             for quality, price in (("low", low), ("medium", medium))]  # fmt: skip
    return {"currency": "USD", "per_image": high, "cases": cases, "per_pixels": 1024 * 1024}


def gpt_image(
    name: str, label: str, position: int, *, fidelity: bool = False, **facts: Any
) -> dict[str, Any]:
    schema = facts.pop("schema", None) or gpt_image_schema(
        sizes=size(GPT_SIZES, "auto"),
        qualities=["auto", "low", "medium", "high"],
        formats=["png", "jpeg", "webp"],
        more=[INPUT_FIDELITY] if fidelity else [],
    )
    return {"name": name, "label": label, "family": "gpt-image", "position": position,
            "prompt_max_length": 32000, "max_images": 10, "result_kind": "b64_json",
            "returns_usage": True, "can_edit": True, "schema": schema, **facts}  # fmt: skip


GPT_IMAGE_2_SCHEMA = gpt_image_schema(
    sizes=size(GPT_SIZES, "auto", custom=GPT_CUSTOM_SIZES),
    qualities=["auto", "low", "medium", "high"],
    formats=["png", "jpeg", "webp"],
    more=[],
)
GPT_IMAGE_25_SCHEMA = gpt_image_schema(
    sizes=size(GPT_SIZES, "auto", custom=GPT_CUSTOM_SIZES),
    qualities=["auto", "low", "medium", "high", "xhigh", "max"],
    formats=["png", "jpeg", "webp"],
    more=[],
)
# 2.6: GIF and SVG output; a GIF needs its frames; neither streams; SVG is one image. Edits are
# documented only for raster output (api.md §7), so the edits endpoint has an output format of
# its own: a name may be described twice for endpoints that do not overlap.
GPT_IMAGE_26_SCHEMA = gpt_image_schema(
    sizes=size(GPT_SIZES, "auto", custom=GPT_CUSTOM_SIZES),
    qualities=["auto", "low", "medium", "high", "xhigh", "max"],
    formats=["png", "jpeg", "webp", "gif", "svg"],
    more=[
        {"name": "complexity", "kind": "choice", "label": _("Complexity"),
         "help": _("How much detail to draw; High when left out, at no extra charge."),
         "choices": ["low", "medium", "high"], "default": "high"},
        {"name": "frame_count", "kind": "integer", "label": _("Frames"),
         "help": _("Frames in an animated GIF."), "minimum": 2, "maximum": 16, "default": 9,
         "send_default": True, "only_when": {"output_format": ["gif"]},
         "endpoints": ["generations"]},
        {"name": "frame_duration_ms", "kind": "integer", "label": _("Frame duration (ms)"),
         "minimum": 20, "maximum": 10000, "default": 200, "send_default": True,
         "only_when": {"output_format": ["gif"]}, "endpoints": ["generations"]},
    ],
)  # fmt: skip
_FORMATS_26 = GPT_IMAGE_26_SCHEMA["parameters"]
_AT = next(i for i, p in enumerate(_FORMATS_26) if p["name"] == "output_format")
_FORMATS_26[_AT] = {**_FORMATS_26[_AT], "endpoints": ["generations"]}
_FORMATS_26.insert(_AT + 1, choice("output_format", _("Output format"), ["png", "jpeg", "webp"],
                                   "png", endpoints=["edits"]))  # fmt: skip
GPT_IMAGE_26_SCHEMA["rules"] += [
    {"if": {"output_format": ["gif", "svg"]}, "then": {"stream": [False]}},
    {"if": {"output_format": ["svg"]}, "then": {"n": [1]}},
]


def seedream(name: str, label: str, position: int, released_on: date, price: str) -> dict[str, Any]:
    sizes = ["2K", "4K", "2048x2048", "2304x1728", "1728x2304", "2848x1600", "1600x2848"]
    parameters = [
        size(sizes, "2048x2048", custom=SEEDREAM_CUSTOM_SIZES),
        RESPONSE_FORMAT,
        {"name": "watermark", "kind": "boolean", "label": _("Watermark"),
         "help": _("Marks the image as AI-generated in a corner."),
         "default": True, "send_default": True},
        {"name": "guidance_scale", "kind": "number", "label": _("Guidance scale"),
         "help": _("How closely to follow the prompt (1-10)."), "minimum": 1, "maximum": 10},
        {"name": "seed", "kind": "integer", "label": _("Seed"),
         "help": _("The same seed and prompt give the same image."),
         "minimum": 0, "maximum": 2147483647, "new_on_vary": True},
        {"name": "image", "kind": "images", "label": _("Reference images"), "maximum": 14,
         "endpoints": ["generations"]},
    ]  # fmt: skip
    rules = [{"at_most": 15, "total": ["image", "n"]}]
    return {"name": name, "label": label, "family": "seedream", "position": position,
            "prompt_max_length": 1000, "max_images": 15, "result_kind": "url",
            "returns_usage": True, "released_on": released_on,
            "schema": {"parameters": parameters, "rules": rules},
            "price": {"currency": "USD", "per_image": price},
            "price_note": GUESSED_PRICE}  # fmt: skip


GUESSED_PRICE = _("No published price was found: a guess until the catalogue gives one.")
API_MD_PRICE = _("CometAPI's price (reference/api.md §8).")
THIRD_PARTY_PRICE = _("A third party's figure (reference/api.md §8), unverified.")
OPENAI_PRICE = _("OpenAI's published price.")


SHIPPED_MODELS: list[dict[str, Any]] = [
    {
        "name": "dall-e-3",
        "label": "DALL·E 3",
        "family": "dall-e",
        "position": 10,
        "prompt_max_length": 4000,
        "max_images": 1,
        "result_kind": "url",
        "returns_revised_prompt": True,
        "retires_on": date(2026, 5, 12),
        "replacement": "gpt-image-2",
        "price": {"currency": "USD", "per_image": "0.04", "cases": [
            {"when": {"quality": ["hd"], "size": ["1792x1024", "1024x1792"]}, "per_image": "0.12"},
            {"when": {"quality": ["hd"]}, "per_image": "0.08"},
            {"when": {"size": ["1792x1024", "1024x1792"]}, "per_image": "0.08"},
        ]},
        "price_note": OPENAI_PRICE,
        "schema": {
            "parameters": [
                size(["1024x1024", "1792x1024", "1024x1792"], "1024x1024"),
                choice("quality", _("Quality"), ["standard", "hd"], "standard"),
                choice("style", _("Style"), ["vivid", "natural"], "vivid"),
                RESPONSE_FORMAT,
            ],
            "rules": [],
        },
    },
    gpt_image("gpt-image-2", "GPT Image 2", 20, released_on=date(2026, 4, 21),
              schema=GPT_IMAGE_2_SCHEMA, price=per_token("4", "4", "24"), price_note=API_MD_PRICE),
    gpt_image("gpt-image-2.6-sunburst", "GPT Image 2.6 Sunburst", 30,
              released_on=date(2026, 11, 5), schema=GPT_IMAGE_26_SCHEMA,
              price=per_token("5", "8", "30"), price_note=THIRD_PARTY_PRICE),
    gpt_image("gpt-image-2.6-flare", "GPT Image 2.6 Flare", 40,
              released_on=date(2026, 11, 4), schema=GPT_IMAGE_26_SCHEMA,
              price=per_token("5", "8", "30"), price_note=THIRD_PARTY_PRICE),
    gpt_image("gpt-image-2.5-sunburst", "GPT Image 2.5 Sunburst", 50,
              released_on=date(2026, 9, 8), schema=GPT_IMAGE_25_SCHEMA,
              price=per_token("5", "8", "30"), price_note=THIRD_PARTY_PRICE),
    gpt_image("gpt-image-2.5-flare", "GPT Image 2.5 Flare", 60,
              released_on=date(2026, 9, 8), schema=GPT_IMAGE_25_SCHEMA,
              price=per_token("5", "8", "30"), price_note=THIRD_PARTY_PRICE),
    seedream("doubao-seedream-5-0-260128", "Seedream 5.0", 70, date(2026, 1, 28), "0.04"),
    seedream("doubao-seedream-4-5-251128", "Seedream 4.5", 80, date(2025, 11, 28), "0.03"),
    {
        "name": "qwen-image",
        "label": "Qwen Image",
        "family": "qwen",
        "position": 90,
        "prompt_max_length": 800,
        "max_images": 1,
        "result_kind": "url",  # undocumented (api.md §1); the studio handles url and b64 alike
        "price": {"currency": "USD", "per_image": "0.02"},
        "price_note": GUESSED_PRICE,
        "schema": {
            "parameters": [
                # CometAPI does not document qwen-image's sizes; these are Alibaba's.
                size(["1328x1328", "1664x928", "928x1664", "1472x1140", "1140x1472"], "1328x1328")
            ],
            "rules": [],
        },
    },
    gpt_image("gpt-image-1.5", "GPT Image 1.5", 100, released_on=date(2025, 12, 16),
              retires_on=date(2026, 12, 1), replacement="gpt-image-2.6-sunburst", fidelity=True,
              price=per_1024_image("0.009", "0.034", "0.133"), price_note=THIRD_PARTY_PRICE),
    gpt_image("gpt-image-1", "GPT Image 1", 110, retires_on=date(2026, 10, 23),
              replacement="gpt-image-2", fidelity=True,
              price=per_token("5", "10", "40"), price_note=OPENAI_PRICE),
    gpt_image("gpt-image-1-mini", "GPT Image 1 mini", 120, retires_on=date(2026, 12, 1),
              replacement="gpt-image-2.6-flare",
              price=per_1024_image("0.005", "0.011", "0.036"), price_note=THIRD_PARTY_PRICE),
    {
        "name": "dall-e-2",
        "label": "DALL·E 2",
        "family": "dall-e",
        "position": 130,
        "prompt_max_length": 1000,
        "max_images": 10,
        "result_kind": "url",
        "retires_on": date(2026, 5, 12),
        "replacement": "gpt-image-2",
        "price": {"currency": "USD", "per_image": "0.02", "cases": [
            {"when": {"size": ["256x256"]}, "per_image": "0.016"},
            {"when": {"size": ["512x512"]}, "per_image": "0.018"},
        ]},
        "price_note": OPENAI_PRICE,
        "schema": {
            "parameters": [size(["256x256", "512x512", "1024x1024"], "1024x1024"), RESPONSE_FORMAT],
            "rules": [],
        },
    },
]  # fmt: skip

# What "add with a basic schema" gives a model the upstream offers and the catalogue lacks.
BASIC_SCHEMA: dict[str, Any] = {"parameters": [size(["1024x1024"], "1024x1024")], "rules": []}


def shipped_model(name: str) -> dict[str, Any] | None:
    return next((values for values in SHIPPED_MODELS if values["name"] == name), None)


def shipped_spec(name: str) -> ModelSpec | None:
    """A shipped model as the studio ships it, before any administrator's edit."""
    values = shipped_model(name)
    if values is None:
        return None
    facts = {fact: values[fact] for fact in SPEC_FACTS if fact in values}
    return ModelSpec.from_schema(values["schema"], **facts)
