"""The model catalogue: what each image model accepts and returns.

`SHIPPED_MODELS` is the one place where the shipped defaults live (values from
shared/reference/api.md). A data migration copies them into `ImageModel` rows, which an
administrator can then change, disable or add to in Django admin; everything else (the form, the
request body, the offline provider) reads a `Profile`, never this list directly.
"""

from dataclasses import dataclass, field, fields
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

DALL_E = "dall-e"
GPT_IMAGE = "gpt-image"
QWEN = "qwen"
FAMILIES = [(DALL_E, "DALL·E"), (GPT_IMAGE, "GPT image"), (QWEN, "Qwen image")]

STANDARD_GPT_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"]
GPT_OUTPUT_FORMATS = ["png", "jpeg", "webp"]
COMPRESSIBLE_FORMATS = frozenset({"jpeg", "webp"})
TRANSPARENT_FORMATS = frozenset({"png", "webp"})


@dataclass(frozen=True)
class SizeRules:
    """Rules for any WxH size, for models that take sizes outside their fixed list."""

    multiple_of: int = 16
    max_edge: int = 3840
    max_ratio: float = 3.0
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400

    def problem_with(self, width: int, height: int) -> str | None:
        """Why width x height is not allowed, or None when it is, in the active language."""
        if width % self.multiple_of or height % self.multiple_of:
            return _("Both edges must be multiples of %(multiple)s.") % {
                "multiple": number_format(self.multiple_of)
            }
        if max(width, height) > self.max_edge:
            return _("Neither edge may exceed %(max_edge)s pixels.") % {
                "max_edge": number_format(self.max_edge)
            }
        if max(width, height) / min(width, height) > self.max_ratio:
            ratio = int(self.max_ratio) if self.max_ratio.is_integer() else self.max_ratio
            return _("The long edge may be at most %(ratio)s times the short edge.") % {
                "ratio": number_format(ratio)
            }
        if not self.min_pixels <= width * height <= self.max_pixels:
            return _("The image must have between %(min)s and %(max)s pixels.") % {
                "min": number_format(self.min_pixels, force_grouping=True),
                "max": number_format(self.max_pixels, force_grouping=True),
            }
        return None


@dataclass(frozen=True)
class Profile:
    """One model's capabilities. An empty choice list means the parameter is never sent."""

    name: str
    label: str
    family: str
    prompt_max_length: int
    max_images: int
    sizes: list[str]
    default_size: str
    custom_sizes: bool = False
    qualities: list[str] = field(default_factory=list)
    default_quality: str = ""
    styles: list[str] = field(default_factory=list)
    default_style: str = ""
    response_formats: list[str] = field(default_factory=list)
    default_response_format: str = ""
    output_formats: list[str] = field(default_factory=list)
    default_output_format: str = ""
    backgrounds: list[str] = field(default_factory=list)
    default_background: str = ""
    moderations: list[str] = field(default_factory=list)
    default_moderation: str = ""
    supports_compression: bool = False
    supports_streaming: bool = False
    max_partial_images: int = 0
    returns_revised_prompt: bool = False
    returns_usage: bool = False

    @property
    def size_rules(self) -> SizeRules | None:
        return SizeRules() if self.custom_sizes else None

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "Profile":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def _gpt_image(name: str, label: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "label": label,
        "family": GPT_IMAGE,
        "prompt_max_length": 32000,
        "max_images": 10,
        "sizes": STANDARD_GPT_SIZES,
        "default_size": "auto",
        "qualities": ["auto", "low", "medium", "high"],
        "default_quality": "auto",
        "output_formats": GPT_OUTPUT_FORMATS,
        "default_output_format": "png",
        "backgrounds": ["auto", "opaque", "transparent"],
        "default_background": "auto",
        "moderations": ["auto", "low"],
        "default_moderation": "auto",
        "supports_compression": True,
        "supports_streaming": True,
        "max_partial_images": 3,
        "returns_usage": True,
    }
    values.update(overrides)
    return values


SHIPPED_MODELS: list[dict[str, Any]] = [
    {
        "name": "dall-e-3",
        "label": "DALL·E 3",
        "family": DALL_E,
        "prompt_max_length": 4000,
        "max_images": 1,
        "sizes": ["1024x1024", "1792x1024", "1024x1792"],
        "default_size": "1024x1024",
        "qualities": ["standard", "hd"],
        "default_quality": "standard",
        "styles": ["vivid", "natural"],
        "default_style": "vivid",
        "response_formats": ["url", "b64_json"],
        "default_response_format": "url",
        "returns_revised_prompt": True,
    },
    {
        "name": "dall-e-2",
        "label": "DALL·E 2",
        "family": DALL_E,
        "prompt_max_length": 1000,
        "max_images": 10,
        "sizes": ["256x256", "512x512", "1024x1024"],
        "default_size": "1024x1024",
        "response_formats": ["url", "b64_json"],
        "default_response_format": "url",
    },
    _gpt_image("gpt-image-2", "GPT Image 2", custom_sizes=True),
    _gpt_image("gpt-image-1.5", "GPT Image 1.5"),
    _gpt_image("gpt-image-1", "GPT Image 1"),
    _gpt_image("gpt-image-1-mini", "GPT Image 1 mini"),
    {
        "name": "qwen-image",
        "label": "Qwen Image",
        "family": QWEN,
        "prompt_max_length": 800,
        "max_images": 1,
        # CometAPI does not document qwen-image's sizes; these are Alibaba's, in OpenAI spelling.
        "sizes": ["1328x1328", "1664x928", "928x1664", "1472x1140", "1140x1472"],
        "default_size": "1328x1328",
    },
]

DEFAULT_MODEL = "dall-e-3"


def shipped_profile(name: str) -> Profile | None:
    """The shipped profile for a model name, or None for a model we do not ship."""
    for values in SHIPPED_MODELS:
        if values["name"] == name:
            return Profile.from_mapping(values)
    return None
