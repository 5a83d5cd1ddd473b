"""Bring your own key (issue 13): a person's CometAPI key is kept encrypted, used for their jobs
and their model list only, never shown back beyond its last four characters, never logged, and
removable; the site key serves people without one only where the administrator allows it."""

import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from imagegen import service
from imagegen.catalogue.personal import sync_personal_models
from imagegen.forms import GenerateForm
from imagegen.forms.edit import EditForm
from imagegen.models import Allowance, Generation, ImageModel, UpstreamModel
from imagegen.models.keys import KEY_UNREADABLE, PersonalKey, job_key
from imagegen.offline import FEW_MODELS, OfflineProvider
from imagegen.service.personal_keys import PERSONAL_MESSAGES
from imagegen.tasks import run_generation
from tests.conftest import CommittingClient
from tests.test_no_server_errors import PATH_KINDS, url_patterns, world  # noqa: F401

KEY = "sk-alice-own-key-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b"
FEW_KEY = "sk-few-models-key-0c1d2e3f4a5b6c7d8e9f"
REVOKED_KEY = "sk-revoked-key-9a8b7c6d5e4f3a2b1c0d"
SITE_KEY = "sk-site-key-of-the-studio-00000000000"
GPT = "gpt-image-2"
PARAMETERS = {"n": 1, "size": "1024x1024", "quality": "low", "output_format": "png"}


class Recorder(httpx.BaseTransport):
    """The offline provider, noting the Authorization each request carried."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.path, request.headers.get("authorization")))
        return self.inner.handle_request(request)


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """No site key: the offline provider answers, through the shared client."""
    recorder = Recorder(OfflineProvider(latency=0))
    monkeypatch.setattr(service.clients, "_offline_transport", lambda: recorder)
    monkeypatch.setattr(service.clients, "_clients", {})
    return recorder


@pytest.fixture
def online(settings, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """A site key is set: the shared client's real transport is answered by the offline provider
    (it answers any host), so the online code path runs without the network."""
    settings.COMETAPI_KEY = SITE_KEY
    recorder = Recorder(OfflineProvider(latency=0))
    monkeypatch.setattr(
        httpx.HTTPTransport,
        "handle_request",
        lambda self, request: recorder.handle_request(request),
    )
    monkeypatch.setattr(service.clients, "_clients", {})
    return recorder


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, those that do not propagate (django) included."""
    for name in ("", "django", "httpx", "httpcore", "imagegen", "gallery"):
        caplog.set_level(logging.DEBUG, logger=name)
    django_logger = logging.getLogger("django")
    django_logger.addHandler(caplog.handler)
    yield caplog
    django_logger.removeHandler(caplog.handler)


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def save_key(client: Client, key: str) -> Any:
    return client.post(reverse("personal_key_save"), {"key": key})


def queued(owner: User, prompt: str = "a kite") -> Generation:
    return Generation.objects.create(
        owner=owner, model_name=GPT, prompt=prompt, parameters=dict(PARAMETERS)
    )


def forbid_site_key() -> None:
    Allowance.objects.update_or_create(site_default=True, defaults={"site_key_allowed": False})


# --- Kept encrypted ----------------------------------------------------------------------------


def test_the_database_never_holds_the_key_in_clear(alice, alice_client, upstream) -> None:
    assert save_key(alice_client, f"  {KEY}\n").status_code == 302  # trimmed
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {PersonalKey._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert KEY not in repr(rows) and KEY[3:-4] not in repr(rows)
    key = PersonalKey.objects.get(user=alice)
    assert (key.secret(), key.last_four) == (KEY, KEY[-4:])


def test_rotation_re_encrypts_with_the_first_key_and_the_old_one_can_then_go(
    settings, alice, capsys
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.KEY_ENCRYPTION_KEYS = [old]
    PersonalKey.objects.keep(alice, KEY)
    before = PersonalKey.objects.get(user=alice).encrypted
    settings.KEY_ENCRYPTION_KEYS = [new, old]  # new first: encrypts; old still decrypts
    call_command("rotate_personal_keys")
    assert "Encrypted again: 1 keys." in capsys.readouterr().out
    rotated = PersonalKey.objects.get(user=alice)
    assert rotated.encrypted != before
    settings.KEY_ENCRYPTION_KEYS = [new]
    assert rotated.secret() == KEY


def test_rotation_reports_a_key_no_encryption_key_opens_and_keeps_it(
    settings, alice, bob, capsys
) -> None:
    settings.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    PersonalKey.objects.keep(alice, KEY)
    lost = PersonalKey.objects.get(user=alice).encrypted
    settings.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    PersonalKey.objects.keep(bob, FEW_KEY)
    with pytest.raises(CommandError, match="1 keys could not be read"):
        call_command("rotate_personal_keys")
    out = capsys.readouterr()
    assert "Encrypted again: 1 keys." in out.out and "alice" in out.err
    assert PersonalKey.objects.get(user=alice).encrypted == lost  # not lost, not changed


# --- The settings page -------------------------------------------------------------------------


def test_the_page_shows_only_the_last_four_and_never_fills_the_field_back(
    alice_client, upstream
) -> None:
    save_key(alice_client, KEY)
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert f"Ending in …{KEY[-4:]}, added" in page
    assert "Your jobs use your key." in page
    assert KEY not in page and KEY[:-4] not in page
    field = re.search(r'<input type="password" name="key"[^>]*>', page)
    assert field and "value=" not in field.group(0)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Paste your key: the field is empty."),
        ("   \n ", "Paste your key: the field is empty."),
        ("sk-abc def", "no spaces or line breaks inside"),
        ("sk-abc\tdef", "no spaces or line breaks inside"),
        ("sk-abc\x07def", "control characters"),
        ("sk-" + "x" * 198, "at most 200 characters"),
        ("sk-clé-secrète", "plain letters, digits and punctuation"),
    ],
)
def test_a_key_that_cannot_be_one_is_refused_with_a_clear_error(
    alice_client, upstream, typed: str, error: str
) -> None:
    response = save_key(alice_client, typed)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not PersonalKey.objects.exists()
    assert upstream.seen == []  # nothing asked upstream either


def test_a_key_cometapi_refuses_is_not_saved(alice_client, upstream) -> None:
    response = save_key(alice_client, REVOKED_KEY)
    page = response.content.decode()
    assert response.status_code == 400
    assert "CometAPI refused this key, so it was not saved" in page
    assert REVOKED_KEY not in page and REVOKED_KEY[-4:] not in page
    assert not PersonalKey.objects.exists()
    assert upstream.seen == [("/v1/models", f"Bearer {REVOKED_KEY}")]


@pytest.mark.parametrize("fault", ["connection_error", "timeout", "unavailable"])
def test_a_key_is_saved_unchecked_when_cometapi_cannot_be_reached(
    alice, alice_client, monkeypatch, fault: str
) -> None:
    monkeypatch.setattr(
        service.clients, "_offline_transport", lambda: OfflineProvider(faults=[fault])
    )
    monkeypatch.setattr(service.clients, "_clients", {})
    response = save_key(alice_client, KEY)
    page = alice_client.get(response.url).content.decode()
    assert "CometAPI could not be reached to check it" in page
    key = PersonalKey.objects.get(user=alice)
    assert key.offered_models is None and key.secret() == KEY


def test_saving_a_key_reads_the_models_it_offers(alice, alice_client, upstream) -> None:
    save_key(alice_client, FEW_KEY)
    key = PersonalKey.objects.get(user=alice)
    assert set(key.offered_models) == FEW_MODELS
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert "Models your key offers here" in page
    assert "CometAPI listed 2 models for it in all" in page


def test_replacing_a_key_forgets_what_the_old_one_offered(alice, alice_client, upstream) -> None:
    save_key(alice_client, FEW_KEY)
    save_key(alice_client, KEY)
    key = PersonalKey.objects.get(user=alice)
    assert key.secret() == KEY and len(key.offered_models) > len(FEW_MODELS)
    assert PersonalKey.objects.count() == 1


def test_removing_asks_first_then_deletes_the_key(alice_client, upstream) -> None:
    save_key(alice_client, KEY)
    confirm = alice_client.get(reverse("personal_key_remove"))
    assert confirm.status_code == 200
    assert f"…{KEY[-4:]}" in confirm.content.decode() and KEY not in confirm.content.decode()
    assert PersonalKey.objects.exists()  # asking removes nothing
    response = alice_client.post(reverse("personal_key_remove"))
    assert response.status_code == 302
    assert not PersonalKey.objects.exists()
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert "Your key is removed." in page and "your jobs use this site's key" in page
    assert alice_client.get(reverse("personal_key_remove")).status_code == 302


def test_one_person_cannot_touch_anothers_key(alice, bob_client, upstream) -> None:
    PersonalKey.objects.keep(alice, KEY)
    bob_client.post(reverse("personal_key_remove"))
    bob_client.post(reverse("personal_key_models"))
    assert PersonalKey.objects.get(user=alice).secret() == KEY
    assert upstream.seen == []


def test_the_key_views_refuse_the_wrong_method(alice_client) -> None:
    assert alice_client.get(reverse("personal_key_save")).status_code == 405
    assert alice_client.get(reverse("personal_key_models")).status_code == 405


def test_the_page_says_a_person_without_a_key_needs_one_when_the_site_key_is_not_theirs(
    alice_client,
) -> None:
    forbid_site_key()
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert "This site's key is not offered to you: add your own CometAPI key" in page


# --- Their jobs --------------------------------------------------------------------------------


def test_a_job_is_sent_with_its_owners_key(alice, online) -> None:
    PersonalKey.objects.keep(alice, KEY)
    generation = queued(alice)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    assert online.seen == [("/v1/images/generations", f"Bearer {KEY}")]


def test_a_job_of_someone_without_a_key_goes_with_the_site_key(bob, online) -> None:
    generation = queued(bob)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    assert online.seen == [("/v1/images/generations", f"Bearer {SITE_KEY}")]


def test_without_a_site_key_a_personal_key_still_reaches_the_offline_provider(
    alice, upstream
) -> None:
    PersonalKey.objects.keep(alice, KEY)
    assert run_generation.call(str(queued(alice).pk)) == "succeeded"
    assert upstream.seen == [("/v1/images/generations", f"Bearer {KEY}")]


def test_an_edit_is_sent_with_its_owners_key(alice, upstream, make_image) -> None:
    from gallery.models import ImageInput

    image = make_image(alice)
    PersonalKey.objects.keep(alice, KEY)
    generation = Generation.objects.create(
        owner=alice, model_name=GPT, prompt="make it blue", parameters=dict(PARAMETERS),
        endpoint="edits",
    )  # fmt: skip
    ImageInput.objects.create(
        generation=generation,
        image=image,
        image_uuid=image.uuid,
        role=ImageInput.Role.EDITED,
        position=0,
    )
    assert run_generation.call(str(generation.pk)) == "succeeded"
    assert ("/v1/images/edits", f"Bearer {KEY}") in upstream.seen


def test_a_job_fails_before_any_request_when_the_site_key_was_taken_away(alice, upstream) -> None:
    generation = queued(alice)  # submitted while the site key was still allowed
    forbid_site_key()
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "no_key"
    assert "Add your own CometAPI key in Settings" in generation.error_message
    assert upstream.seen == []


def test_a_key_that_can_no_longer_be_read_fails_the_job_and_says_so_in_settings(
    settings, alice, alice_client, upstream
) -> None:
    settings.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    PersonalKey.objects.keep(alice, KEY)
    settings.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old one was lost
    generation = queued(alice)
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert (generation.error_code, generation.error_message) == ("key_unreadable", KEY_UNREADABLE)
    assert upstream.seen == []  # never the site key instead
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert "Your saved key can no longer be read: add it again in Settings." in page
    alice_client.post(reverse("personal_key_models"))
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert page.count("Your saved key can no longer be read") == 2  # the state, the message


def test_a_refused_personal_key_fails_the_job_with_the_studios_own_words(alice, upstream) -> None:
    PersonalKey.objects.keep(alice, REVOKED_KEY)
    generation = queued(alice)
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "auth_failed"
    assert generation.error_message == PERSONAL_MESSAGES["auth_failed"]


def test_job_key_prefers_the_persons_key_even_when_the_site_key_is_not_theirs(alice) -> None:
    forbid_site_key()
    PersonalKey.objects.keep(alice, KEY)
    assert job_key(alice) == KEY


# --- Their model list --------------------------------------------------------------------------


def test_their_sync_uses_their_key_and_narrows_only_their_forms(
    alice, bob, alice_client, upstream
) -> None:
    save_key(alice_client, KEY)  # offers everything
    rows_before = list(UpstreamModel.objects.values_list("name", "offered"))
    key = PersonalKey.objects.keep(alice, FEW_KEY)
    upstream.seen.clear()
    assert alice_client.post(reverse("personal_key_models")).status_code == 302
    assert upstream.seen == [("/v1/models", f"Bearer {FEW_KEY}")]
    key.refresh_from_db()
    assert set(key.offered_models) == FEW_MODELS and key.models_checked_at is not None
    # The site's own list is left as it was.
    assert list(UpstreamModel.objects.values_list("name", "offered")) == rows_before
    everyone = {m.name for m in ImageModel.objects.for_new_jobs()}
    assert {m.name for m in GenerateForm(owner=alice).offered_models()} == everyone & FEW_MODELS
    assert {m.name for m in GenerateForm(owner=bob).offered_models()} == everyone
    page = alice_client.get(reverse("generate")).content.decode()
    assert 'value="qwen-image"' in page and 'value="doubao-seedream-4-5-251128"' not in page


def test_the_edit_form_too_offers_only_what_their_key_offers(alice, make_image) -> None:
    image = make_image(alice)
    PersonalKey.objects.keep(alice, FEW_KEY).record_offered([GPT])
    assert [m.name for m in EditForm(owner=alice, source=image).offered_models()] == [GPT]


def test_a_key_whose_models_are_unknown_leaves_the_list_as_it_is(alice) -> None:
    PersonalKey.objects.keep(alice, KEY)
    everyone = [m.name for m in ImageModel.objects.for_new_jobs()]
    assert [m.name for m in GenerateForm(owner=alice).offered_models()] == everyone


def test_a_refused_sync_says_so_without_the_key(alice, alice_client, upstream) -> None:
    key = PersonalKey.objects.keep(alice, REVOKED_KEY)
    response = alice_client.post(reverse("personal_key_models"), follow=True)
    page = response.content.decode()
    assert "CometAPI did not accept your key" in page
    assert REVOKED_KEY not in page and REVOKED_KEY[:-4] not in page
    key.refresh_from_db()
    assert key.offered_models is None


# --- Never shown, never logged -----------------------------------------------------------------


def test_no_error_message_carries_the_key_even_when_the_upstream_echoes_it(alice) -> None:
    odd_key = "my-company-key-without-prefix-1234abcd"

    def echo(request: httpx.Request) -> httpx.Response:
        sent = request.headers["authorization"].removeprefix("Bearer ")
        masked = sent[:3] + "*****" + sent[-4:]
        message = f"Bad header {sent}, also known as {masked}"
        return httpx.Response(400, json={"error": {"message": message, "type": "x", "code": None}})

    client = httpx.Client(base_url="https://api.example/v1", transport=httpx.MockTransport(echo))
    spec = ImageModel.objects.get(name=GPT).spec()
    for call in (
        lambda: service.generate(spec, "a kite", PARAMETERS, client=client, api_key=odd_key),
        lambda: service.list_models(client=client, api_key=odd_key),
    ):
        with pytest.raises(service.UpstreamError) as raised:
            call()
        shown = f"{raised.value.message} {raised.value} {raised.value.args}"
        assert odd_key not in shown and odd_key[:8] not in shown and "*****" not in shown
        assert "[redacted]" in shown


def test_the_key_is_in_no_log_line_across_saving_a_job_a_sync_and_a_refusal(
    alice, alice_client, online, every_log_line
) -> None:
    save_key(alice_client, KEY)
    run_generation.call(str(queued(alice).pk))
    alice_client.post(reverse("personal_key_models"))
    save_key(alice_client, REVOKED_KEY)
    PersonalKey.objects.keep(alice, REVOKED_KEY)
    run_generation.call(str(queued(alice).pk))
    alice_client.post(reverse("personal_key_models"))
    alice_client.post(reverse("personal_key_save"), {"key": KEY + " x"})  # invalid
    text = logged_text(every_log_line)
    assert every_log_line.records  # something was logged, at DEBUG too
    for secret in (KEY, REVOKED_KEY):
        assert secret not in text and secret[:-4] not in text


class _Upstream(BaseHTTPRequestHandler):
    """A real HTTP server, so that httpcore's own DEBUG lines run too."""

    def do_GET(self) -> None:
        refused = "revoked" in self.headers.get("authorization", "")
        body = (
            {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
            if refused
            else {"object": "list", "data": [{"id": GPT, "object": "model"}]}
        )
        data = json.dumps(body).encode()
        self.send_response(401 if refused else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_key_is_in_no_log_line_of_a_real_http_exchange(
    settings, alice, monkeypatch, every_log_line
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.COMETAPI_KEY = SITE_KEY
        settings.COMETAPI_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
        monkeypatch.setattr(service.clients, "_clients", {})
        assert sync_personal_models(PersonalKey.objects.keep(alice, KEY)) == [GPT]
        with pytest.raises(service.UpstreamError):
            sync_personal_models(PersonalKey.objects.keep(alice, REVOKED_KEY))
    finally:
        server.shutdown()
        server.server_close()
    text = logged_text(every_log_line)
    assert "httpcore" in {record.name.split(".")[0] for record in every_log_line.records}
    for secret in (KEY, REVOKED_KEY, SITE_KEY):
        assert secret not in text and secret[:-4] not in text


def test_the_key_is_in_no_page_a_signed_in_person_can_open(
    alice,
    world,  # noqa: F811
    upstream,
) -> None:
    client = CommittingClient()
    client.force_login(alice)
    save_key(client, KEY)
    run_generation.call(str(queued(alice).pk))
    opened = 0
    for route, pattern in url_patterns():
        if pattern.name in {"logout", "set_language"}:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: world[PATH_KINDS[m.group(1)]][0], route)
        response = client.get("/" + path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert KEY.encode() not in body and KEY[:-4].encode() not in body, route
        assert KEY not in str(response.headers), route
        opened += response.status_code == 200
    assert opened > 20


def test_admin_lists_keys_by_their_last_four_only(alice, client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    key = PersonalKey.objects.keep(alice, KEY)
    for url in (
        reverse("admin:imagegen_personalkey_changelist"),
        reverse("admin:imagegen_personalkey_change", args=[key.pk]),
        reverse("admin:imagegen_personalkey_delete", args=[key.pk]),
    ):
        page = client.get(url).content.decode()
        assert f"…{KEY[-4:]}" in page
        assert KEY not in page and key.encrypted not in page and key.encrypted[:20] not in page
    assert client.get(reverse("admin:imagegen_personalkey_add")).status_code == 403
    client.post(reverse("admin:imagegen_personalkey_delete", args=[key.pk]), {"post": "yes"})
    assert not PersonalKey.objects.exists()


def test_a_model_their_key_lacks_is_not_withdrawn_from_everyone(alice, monkeypatch) -> None:
    PersonalKey.objects.keep(alice, KEY)
    provider = OfflineProvider(latency=0, faults=["model_not_found"])
    monkeypatch.setattr(service.clients, "_offline_transport", lambda: provider)
    monkeypatch.setattr(service.clients, "_clients", {})
    generation = queued(alice)
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "model_not_offered"
    assert generation.error_message == PERSONAL_MESSAGES["model_not_found"]
    assert not UpstreamModel.objects.filter(name=GPT, offered=False).exists()
