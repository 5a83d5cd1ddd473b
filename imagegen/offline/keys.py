"""The keys the offline provider is sent, and the test shapes that change its answers.

Any `Authorization: Bearer <key>` is accepted, as is none at all (the site has no key). Two
shapes of key, documented here for tests and demos, behave as real keys can:
  a key containing `revoked`     every keyed request (generations, edits, GET /models) answers
                                 CometAPI's real 401 `invalid_api_key`, which echoes the key
                                 masked (its first three and last four characters), as OpenAI's does
  a key containing `few-models`  GET /models lists only FEW_MODELS, so a person's own model
                                 list visibly differs from the site's
URL results and the public catalogue (GET /api/models) need no key, so none is checked there.
"""

import httpx

from imagegen.offline.faults import error_body, json_response

REVOKED = "revoked"
FEW = "few-models"
FEW_MODELS = frozenset({"gpt-image-2", "qwen-image"})


def bearer_key(request: httpx.Request) -> str:
    """The key the request was sent with; "" when none."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def refused(request: httpx.Request, request_id: str) -> httpx.Response | None:
    """The 401 for a revoked key, worded as the upstream words it; None for any other key."""
    key = bearer_key(request)
    if REVOKED not in key:
        return None
    masked = f"{key[:3]}{'*' * max(len(key) - 7, 4)}{key[-4:]}"
    message = f"Incorrect API key provided: {masked}. You can find your API key in your dashboard."
    body = error_body(
        message, error_type="invalid_request_error", param=None, code="invalid_api_key"
    )
    return json_response(401, body, request_id)


def offers_few(request: httpx.Request) -> bool:
    return FEW in bearer_key(request)
