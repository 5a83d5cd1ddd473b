"""What changes when a request carries a person's own key: the errors it can end in.

The upstream's 401 echoes the key it was sent, masked (`Incorrect API key provided: sk-ab***wxyz`),
and a gateway's 400 may quote a header back. A person's key is not the site key, so
`upstream_errors.safe_text` (which scrubs the site key and `sk-` tokens) may not recognise it:
here every message raised for their request is scrubbed of it, and a refused key is named as
theirs, with what to do, instead of telling them to ask the administrator. A model their key
does not know is reported as `model_not_offered`, not `model_not_found`: what one person's key
lacks must not withdraw the model from everyone (the job marks a `model_not_found` model gone).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext_noop

from imagegen.upstream_errors import UpstreamError

# Stored in English on the job, translated when shown (imagegen.job_messages).
PERSONAL_MESSAGES = {
    "auth_failed": gettext_noop(
        "CometAPI did not accept your key: replace it, or remove it, in Settings."
    ),
    "model_not_found": gettext_noop(
        "Your CometAPI key does not offer this model: see which models it offers in Settings."
    ),
    "insufficient_quota": gettext_noop(
        "Your CometAPI account is out of credit or over its quota: top it up at CometAPI."
    ),
}
_MASKED = re.compile(r"\S*\*{3,}\S*")  # a key as the upstream echoes it: sk-ab****wxyz


@contextmanager
def for_personal_key(api_key: str | None) -> Iterator[None]:
    """Rewrite any UpstreamError raised inside for a request sent with `api_key` (if any)."""
    try:
        yield
    except UpstreamError as error:
        if api_key:
            _own(error, api_key)
        raise


def scrub(text: str, api_key: str) -> str:
    """`text` without the key, in full, in part (its first eight characters) or masked."""
    for part in (api_key, api_key[:8]):
        if len(part) >= 8:
            text = text.replace(part, "[redacted]")
    return _MASKED.sub("[redacted]", text)


def _own(error: UpstreamError, api_key: str) -> None:
    message = PERSONAL_MESSAGES.get(error.code) or scrub(error.message, api_key)
    if error.code == "model_not_found":
        error.code = "model_not_offered"
    error.message = message
    error.args = (message,)
