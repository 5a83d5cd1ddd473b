"""Shared fixtures: named test users, a private media root per test (or a fresh S3 bucket: `s3`),
the offline provider."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import serializers
from django.db import connections
from django.test import Client, TestCase

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Every test writes its files under its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Pages render without a collectstatic run: no manifest of hashed names in tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.COMETAPI_KEY = ""
    # A fast hasher: the default PBKDF2 costs ~0.4 s for every user a test creates.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OFFLINE_LATENCY = 0.0
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """One S3-compatible server (moto, tests/s3_server.py) for the whole run, started on demand."""
    from tests.s3_server import running_server

    with running_server() as server:
        yield server


@pytest.fixture
def s3(s3_server, settings, monkeypatch: pytest.MonkeyPatch, media_root: Path) -> Any:
    """This test keeps its files in a fresh bucket: the environment a deployment would set,
    read by the settings' own object_storage(). Image FileFields use default_storage, which
    Django resets when STORAGES changes, so they follow."""
    from imagegen.environment import object_storage
    from tests.s3_server import Bucket

    name = s3_server.new_bucket()
    for variable, value in s3_server.environment(name).items():
        monkeypatch.setenv(variable, value)
    settings.STORAGES = {**settings.STORAGES, "default": object_storage()}
    return Bucket(name, s3_server.client())


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing under test may close the database connection that the test runs in.

    close_old_connections() (sent by `response.close()` through request_finished, and called by
    django-tasks-db's worker loop) closes a PostgreSQL connection found inside a transaction:
    the test's own. An in-memory SQLite database is never closed, so only PostgreSQL noticed.
    """
    for connection in connections.all():
        monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)


class CommittingClient(Client):
    """A test client whose requests end as a real request does: with a commit.

    Tests run inside a transaction that is never committed, so `transaction.on_commit` callbacks
    (the task enqueue) would never run; this runs them at the end of each request.
    """

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", "alice@example.org", PASSWORD)


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user("bob", "bob@example.org", PASSWORD)


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = CommittingClient()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob: User) -> Client:
    client = CommittingClient()
    client.force_login(bob)
    return client


def png_bytes(width: int = 64, height: int = 48, colour: str = "teal") -> bytes:
    from io import BytesIO

    from PIL import Image as PILImage

    buffer = BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def gif_bytes(
    colours: tuple[str, ...] = ("red", "green", "blue"), size: tuple[int, int] = (64, 48)
) -> bytes:
    """An animated GIF, one frame of each colour, looping for ever."""
    from io import BytesIO

    from PIL import Image as PILImage

    frames = [PILImage.new("RGB", size, colour) for colour in colours]
    buffer = BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)
    return buffer.getvalue()


def svg_bytes(fill: str = "red", width: int = 300, height: int = 200) -> bytes:
    """A plain drawing: one rectangle filling it, with an id that marks its markup."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect id="studio-test-rect" width="{width}" height="{height}" fill="{fill}"/></svg>\n'
    ).encode()


@pytest.fixture
def make_image(db):
    """Make a saved image for a user through the real ingest path (a PNG unless given `data`)."""
    from gallery.ingest import ingest_image
    from imagegen.models import Generation

    def make(
        owner: User,
        prompt: str = "a quiet harbour",
        model_name: str = "dall-e-3",
        data: bytes | None = None,
    ):
        generation = Generation.objects.create(
            owner=owner,
            model_name=model_name,
            prompt=prompt,
            parameters={"n": 1, "size": "1024x1024"},
            status=Generation.Status.SUCCEEDED,
        )
        return ingest_image(generation, 0, png_bytes() if data is None else data)

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests, and run them last.

    Last, because Playwright's sync API keeps an event loop in the main thread once started, and
    Django refuses database access from a thread with a running loop; the browser tests never
    touch the database directly, so they are safe at the end and nothing runs after them.
    """
    browser_tests = [item for item in items if "tests/browser/" in item.nodeid]
    for item in browser_tests:
        item.add_marker(pytest.mark.browser)
    items[:] = [item for item in items if item not in browser_tests] + browser_tests


def kept_shipped_models(django_db_blocker: Any) -> Iterator[str]:
    """The models the data migrations shipped, as rows to put back (yielded), put back at the end.

    A test on `transactional_db` ends by emptying every table, those rows too; the tests after it
    expect them (the migration tests edit them)."""
    from imagegen.models import ImageModel

    with django_db_blocker.unblock():
        shipped = serializers.serialize("json", ImageModel.objects.all())
    yield shipped
    with django_db_blocker.unblock():
        put_back(shipped)


def put_back(shipped: str) -> None:
    for row in serializers.deserialize("json", shipped):
        row.save()


@pytest.fixture
def shipped_models_kept(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """For one test on `transactional_db`, named before it: the shipped models are put back after
    its emptying, so a later test finds them."""
    yield from kept_shipped_models(django_db_blocker)


@pytest.fixture(scope="module")
def shipped_models(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """For a module of tests on `transactional_db`: the shipped models as rows (a test may put
    them back with put_back before it starts), put back once the module is done."""
    yield from kept_shipped_models(django_db_blocker)
