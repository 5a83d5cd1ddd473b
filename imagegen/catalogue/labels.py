"""How the upstream's values are shown: `hd` as "HD", `b64_json` as "Base64"; others as they are.

These name values, not parameters: a value first used by a new model is simply shown raw until
someone adds a label here (and its translations).
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

CUSTOM_SIZE = "custom"

VALUE_LABELS: dict[str, Any] = {
    "auto": _("Automatic"),
    "standard": _("Standard"),
    "hd": _("HD"),
    "low": _("Low"),
    "medium": _("Medium"),
    "high": _("High"),
    "xhigh": _("Extra high"),
    "max": _("Maximum"),
    "vivid": _("Vivid"),
    "natural": _("Natural"),
    "url": _("URL"),
    "b64_json": _("Base64"),
    "png": "PNG",
    "jpeg": "JPEG",
    "webp": "WebP",
    "gif": "GIF",
    "svg": "SVG",
    "opaque": _("Opaque"),
    "transparent": _("Transparent"),
    CUSTOM_SIZE: _("Custom…"),
}


def value_label(value: Any) -> Any:
    """The label shown for one of a parameter's values."""
    if isinstance(value, bool):
        return _("On") if value else _("Off")
    return VALUE_LABELS.get(value, value) if isinstance(value, str) else value
