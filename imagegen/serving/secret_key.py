"""The secret key kept in a file: made at random on first run, readable only by its owner.

Two processes starting at once (the web server and the workers) must end up with the same key:
the key is written to a temporary file and linked into place, which fails if the file exists,
so whoever links first wins and everyone reads the winner's key.
"""

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_LENGTH = 64  # characters of URL-safe base64: 384 bits


def read_secret_key(path: Path) -> str:
    """The key in `path`; refused if anyone but its owner may read it (as ssh does)."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ImproperlyConfigured(
            f"{path} holds the secret key and others may read it: run `chmod 600 {path}`."
        )
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no secret key of 50 characters or more.")
    return key


def secret_key_from_file(path: Path) -> str:
    """The key in `path`, made there first if it does not exist yet."""
    try:
        return read_secret_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")  # 0600
    try:
        os.write(descriptor, secrets.token_urlsafe(KEY_LENGTH * 3 // 4).encode() + b"\n")
        os.fsync(descriptor)
        os.close(descriptor)
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return read_secret_key(path)
