"""A person's own key and the models it offers: checked when they save it, synced when they ask.

The site's sync (sync.py) reads `GET /models` with the site key into `UpstreamModel` rows that
everyone shares; a person's key may offer other models (another account, another plan), so what
*their* key's `GET /models` lists is kept on their `PersonalKey` alone, and narrows only their
own model list (GenerateForm.offered_models). Both go through imagegen.service, which sends
their key in that one request's header and scrubs it from any error.
"""

import logging
from dataclasses import dataclass
from typing import Any

from imagegen import service
from imagegen.models.keys import PersonalKey
from imagegen.service import UpstreamError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyCheck:
    """What saving a key came to: refused by CometAPI (nothing saved), saved unchecked (the
    upstream could not be asked), or saved with the models it offers."""

    key: PersonalKey | None
    refused: bool = False
    unchecked: bool = False


def save_checked_key(user: Any, secret: str) -> KeyCheck:
    """Ask `GET /models` with the new key first: a key CometAPI refuses is not kept."""
    try:
        names = _listed_names(secret)
    except UpstreamError as error:
        if error.code == "auth_failed":
            logger.info("a personal key was refused by the upstream user_id=%s", user.pk)
            return KeyCheck(None, refused=True)
        logger.warning("a personal key was saved unchecked user_id=%s code=%s", user.pk, error.code)
        return KeyCheck(PersonalKey.objects.keep(user, secret), unchecked=True)
    key = PersonalKey.objects.keep(user, secret)
    key.record_offered(names)
    logger.info("a personal key was saved user_id=%s models=%d", user.pk, len(names))
    return KeyCheck(key)


def sync_personal_models(key: PersonalKey) -> list[str]:
    """Read what the person's key offers now and keep it on the key; raises UpstreamError, or
    KeyUnreadable when the stored key can no longer be decrypted."""
    names = _listed_names(key.secret())
    key.record_offered(names)
    logger.info("personal model sync user_id=%s models=%d", key.user_id, len(names))
    return names


def _listed_names(secret: str) -> list[str]:
    return [item["id"][:200] for item in service.list_models(api_key=secret)]
