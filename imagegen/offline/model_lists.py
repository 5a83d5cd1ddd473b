"""The two model lists the offline provider answers with, as things stand on 2026-12-04.

`GET …/models` (api.md §8) is what the offline key may use: OpenAI's shape, with the optional
`shutdown_date` OpenAI now sends for deprecated models. The models OpenAI has shut down
(`RETIRED`) are not in it, as they would not be for a real key. It mixes in non-image models and
one image model the studio's catalogue does not describe, as a real key's list does.

`GET …/api/models` is CometAPI's public catalogue (no key). Its records follow CometAPI's guide
(id, provider, model_type, features, pricing, api_doc_url), but the exact envelope has not been
seen on the wire: this provider sends `{"success": true, "data": [...]}`, and the studio must
accept either that or a bare list of records. Prices are USD; token prices per million tokens.
"""

import calendar
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_OPENAI_DOC = "https://apidoc.cometapi.com/api/image/openai/images"
_SEEDREAM_DOC = "https://apidoc.cometapi.com/api/image/seededit-seedream/bytedance-image-generation"
# Where no model page is known, the documentation's front page.
_GENERAL_DOC = "https://apidoc.cometapi.com/"
_IMAGE_FEATURES = ("text-to-image", "image-to-image")


def _day(date: str) -> int:
    return calendar.timegm(time.strptime(date, "%Y-%m-%d"))


@dataclass(frozen=True)
class Price:
    input: float | None = None  # per million input tokens
    output: float | None = None  # per million output tokens
    per_request: float | None = None  # per image or call
    per_second: float | None = None


@dataclass(frozen=True)
class Listed:
    id: str
    owned_by: str
    released: str  # YYYY-MM-DD, the list's `created`
    model_type: str = "image"
    features: tuple[str, ...] = _IMAGE_FEATURES
    price: Price = field(default_factory=Price)
    api_doc_url: str = _OPENAI_DOC
    shutdown_date: str | None = None  # YYYY-MM-DD, only for a deprecated model


_GPT_25 = Price(input=5, output=30)  # [3p] api.md §8: $5 text in, $30 image out
OFFERED: tuple[Listed, ...] = (
    # Current, with an end date in the future (assumed, not announced) so "retiring" shows.
    Listed(
        "gpt-image-2",
        "openai",
        "2026-04-21",
        price=Price(input=4, output=24),
        shutdown_date="2027-04-21",
    ),
    Listed("gpt-image-2.5-flare", "openai", "2026-09-08", price=_GPT_25),
    Listed("gpt-image-2.5-sunburst", "openai", "2026-09-08", price=_GPT_25),
    Listed("gpt-image-2.6-flare", "openai", "2026-11-04", price=_GPT_25),
    Listed("gpt-image-2.6-sunburst", "openai", "2026-11-05", price=_GPT_25),
    # No per-image price for qwen-image or Seedream was found (api.md §5): these are guesses.
    Listed(
        "qwen-image",
        "alibaba",
        "2025-08-04",
        features=("text-to-image",),
        price=Price(per_request=0.02),
    ),
    Listed(
        "doubao-seedream-4-5-251128",
        "bytedance",
        "2025-11-28",
        price=Price(per_request=0.03),
        api_doc_url=_SEEDREAM_DOC,
    ),
    Listed(
        "doubao-seedream-5-0-260128",
        "bytedance",
        "2026-01-28",
        price=Price(per_request=0.04),
        api_doc_url=_SEEDREAM_DOC,
    ),
    # An image model the studio's catalogue does not describe (price guessed).
    Listed(
        "flux-2-pro",
        "black-forest-labs",
        "2025-11-25",
        features=("text-to-image",),
        price=Price(per_request=0.05),
        api_doc_url=_GENERAL_DOC,
    ),
    # Not image models: the studio must leave them out. Prices are list prices, unverified.
    Listed(
        "gpt-5",
        "openai",
        "2025-08-07",
        model_type="text",
        features=("chat",),
        price=Price(input=1.25, output=10),
        api_doc_url=_GENERAL_DOC,
    ),
    Listed(
        "claude-sonnet-4-5",
        "anthropic",
        "2025-09-29",
        model_type="text",
        features=("chat",),
        price=Price(input=3, output=15),
        api_doc_url=_GENERAL_DOC,
    ),
    Listed(
        "text-embedding-3-small",
        "openai",
        "2024-01-25",
        model_type="embedding",
        features=("embedding",),
        price=Price(input=0.02),
        api_doc_url=_GENERAL_DOC,
    ),
)
# Shut down by OpenAI (api.md §8): a key no longer lists them.
RETIRED = frozenset({"dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"})


def models_page(extra: Iterable[str] = (), *, created: int = 0) -> dict[str, Any]:
    """The body of GET /models: the offered models, then any extra names not already listed."""
    data = []
    for model in OFFERED:
        item = {"id": model.id, "object": "model", "created": _day(model.released)}
        item["owned_by"] = model.owned_by
        if model.shutdown_date:
            item["shutdown_date"] = model.shutdown_date
        data.append(item)
    listed = {model.id for model in OFFERED}
    for name in dict.fromkeys(extra):  # in order, once each
        if name not in listed and name not in RETIRED:
            data.append({"id": name, "object": "model", "created": created, "owned_by": "system"})
    return {"object": "list", "data": data}


def public_catalogue() -> dict[str, Any]:
    """The body of GET /api/models: every offered model with its type, features and price."""
    records = [
        {
            "id": model.id,
            "provider": model.owned_by,
            "model_type": model.model_type,
            "features": list(model.features),
            "pricing": {
                "currency": "USD",
                "input": model.price.input,
                "output": model.price.output,
                "per_request": model.price.per_request,
                "per_second": model.price.per_second,
            },
            "api_doc_url": model.api_doc_url,
        }
        for model in OFFERED
    ]
    return {"success": True, "data": records}
