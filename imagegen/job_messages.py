"""What a generation's card says went wrong: stored in English, shown in the reader's language.

A job's error message is written by a worker, in no one's language, and read later by its owner
in theirs (and may be read again after they switch language). So every message is marked with
gettext_noop where it is made, stored in English, and translated by `shown_message()` when a page
shows it. A message with details (the upstream's own words, a size, an HTTP status) is stored
filled in; its template is one of `TEMPLATES`, so the stored text can still be matched, and its
details are translated in turn when they are themselves known messages.
"""

import re

from django.utils.translation import gettext, gettext_noop

REJECTED_WITH_REASON = gettext_noop("The image service rejected the request: %(detail)s")
REJECTED_WITH_STATUS = gettext_noop("The image service rejected the request (HTTP %(status)s).")
DOWNLOAD_FAILED = gettext_noop("Could not download the image: %(reason)s.")
DOWNLOAD_HOST_STATUS = gettext_noop("the image host answered HTTP %(status)s")
TOO_MANY_PIXELS = gettext_noop("The image is too large (%(width)sx%(height)s pixels).")
MODEL_GONE = gettext_noop("%(model)s is no longer available from the image service.")
MODEL_GONE_USE = gettext_noop(
    "%(model)s is no longer available from the image service; use %(replacement)s instead."
)
INPUT_GONE = gettext_noop("An image this job starts from was deleted before the job ran.")

TEMPLATES = [
    REJECTED_WITH_REASON,
    REJECTED_WITH_STATUS,
    DOWNLOAD_FAILED,
    DOWNLOAD_HOST_STATUS,
    TOO_MANY_PIXELS,
    MODEL_GONE,
    MODEL_GONE_USE,
]
_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")  # a %(name)s, once re.escape() has escaped it
_PATTERNS = [
    (template, re.compile(_PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(template)), re.DOTALL))
    for template in TEMPLATES
]


def shown_message(stored: str) -> str:
    """`stored` in the active language when it is a known message; otherwise as it is."""
    if not stored:
        return stored  # gettext("") is the catalogue's header
    translated = gettext(stored)
    if translated != stored:
        return translated
    for template, pattern in _PATTERNS:
        if match := pattern.fullmatch(stored):
            details = {name: shown_message(value) for name, value in match.groupdict().items()}
            return gettext(template) % details
    return stored
