"""The token each form that makes jobs carries, so that sending the same form twice (its answer
lost on the way, a reload that posts again) makes, and bills, one job.

Every such form renders `{% submit_token %}` (imagegen/templatetags/submit_tokens.py): a new
random UUID each time the form is drawn. The view reads it with `submit_token_from()` and hands
it to imagegen.tasks, which looks for a job of the same person with the same token under the
submit's lock before making one. A form without a token, or with one that is not a UUID (an old
page, a script), still works: it only goes without that protection.
"""

import uuid
from collections.abc import Mapping
from typing import Any

SUBMIT_TOKEN = "submit_token"  # noqa: S105 (the hidden field's name, not a secret)


def new_submit_token() -> str:
    return str(uuid.uuid4())


def submit_token_from(data: Mapping[str, Any]) -> uuid.UUID | None:
    """The form's token, or None when it has none or not a UUID (never an error)."""
    value = data.get(SUBMIT_TOKEN)
    if not isinstance(value, str) or not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
