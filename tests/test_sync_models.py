"""The live model list (imagegen.catalogue.sync) and `manage.py sync_models` (api.md §8).

Three layers: `service.list_models` and `service.public_catalogue` against httpx.MockTransport
(what is sent, what is read, how each can fail); the sync's bookkeeping with those two replaced by
plain lists; and the command against the offline provider, as a fresh install runs it.
"""

import calendar
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from imagegen import service
from imagegen.catalogue.shipped import BASIC_SCHEMA
from imagegen.catalogue.sync import SyncReport, add_with_basic_schema, sync_models
from imagegen.models import ImageModel, UpstreamModel
from imagegen.offline import OFFERED, RETIRED, OfflineProvider
from imagegen.service import UpstreamError

pytestmark = pytest.mark.django_db

KEY = "sk-sync-test-0123456789abcdef"
API = "https://api.cometapi.com/v1"
CATALOGUE = "https://api.cometapi.com/api/models"  # the same host: the key must still stay home
TODAY = date(2026, 12, 4)
CURRENT = [
    "gpt-image-2",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "qwen-image",
    "doubao-seedream-4-5-251128",
    "doubao-seedream-5-0-260128",
]
HTML_PAGE = "<!doctype html><html><body><div id='root'>Loading…</div></body></html>"

type Answer = Callable[[httpx.Request], httpx.Response]


def model(name: str, **more: Any) -> dict[str, Any]:
    """One item of `GET /models`, OpenAI's shape."""
    return {"id": name, "object": "model", "created": 1_776_729_600, "owned_by": "openai", **more}


def record(name: str, **more: Any) -> dict[str, Any]:
    """One record of CometAPI's public catalogue."""
    return {
        "id": name,
        "provider": "openai",
        "model_type": "image",
        "features": ["text-to-image", "image-to-image"],
        "pricing": {"currency": "USD", "input": 4, "output": 24, "per_request": None},
        "api_doc_url": "https://apidoc.cometapi.com/api/image/openai/images",
        **more,
    }


def listing(*items: dict[str, Any]) -> Answer:
    return lambda request: httpx.Response(200, json={"object": "list", "data": list(items)})


def catalogue_of(*records: dict[str, Any]) -> Answer:
    return lambda request: httpx.Response(200, json={"success": True, "data": list(records)})


def connection_refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def overloaded(request: httpx.Request) -> httpx.Response:
    error = {"message": "The engine is currently overloaded.", "type": "server_error",
             "param": None, "code": "server_is_overloaded"}  # fmt: skip
    return httpx.Response(503, json={"error": error})


def web_page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/html"}, text=HTML_PAGE)


def malformed_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=b'{"data": [')


def no_data(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"object": "list", "success": True})


# Each way a list can be down, and the code the studio reports for it.
DOWN: dict[str, tuple[Answer, str]] = {
    "connection error": (connection_refused, "connection_failed"),
    "503": (overloaded, "upstream_unavailable"),
    "HTML page": (web_page, "bad_response"),
    "malformed JSON": (malformed_json, "bad_response"),
    "missing data": (no_data, "bad_response"),
}


@dataclass
class Upstream:
    """The network as the service's own clients see it: each GET answered by a MockTransport."""

    models: Answer = field(default_factory=lambda: listing(*map(model, CURRENT)))
    catalogue: Answer = field(default_factory=lambda: catalogue_of(*map(record, CURRENT)))
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == CATALOGUE:
            return self.catalogue(request)
        if str(request.url) == f"{API}/models":
            return self.models(request)
        return httpx.Response(404, text="not here")

    def sent_to(self, url: str) -> httpx.Request:
        (request,) = [r for r in self.requests if str(r.url) == url]
        return request


@pytest.fixture
def upstream(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Upstream:
    """A key is set, so the service builds its real clients (headers, URLs) with real transports;
    every request those transports would send goes to `Upstream.handle` instead."""
    settings.COMETAPI_KEY = KEY
    settings.COMETAPI_BASE_URL = API
    settings.COMETAPI_CATALOGUE_URL = CATALOGUE
    fake = Upstream()
    mock = httpx.MockTransport(fake.handle)
    monkeypatch.setattr(
        httpx.HTTPTransport, "handle_request", lambda _self, request: mock.handle_request(request)
    )
    return fake


# service.list_models and service.public_catalogue


def test_the_model_list_is_read_with_the_key_as_a_bearer_token(upstream: Upstream) -> None:
    names = [item["id"] for item in service.list_models()]

    assert names == CURRENT
    request = upstream.sent_to(f"{API}/models")
    assert request.method == "GET"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Accept"] == "application/json"


def test_the_public_catalogue_is_read_without_the_key(upstream: Upstream) -> None:
    names = [item["id"] for item in service.public_catalogue()]

    assert names == CURRENT
    request = upstream.sent_to(CATALOGUE)
    assert request.method == "GET"
    assert "authorization" not in request.headers
    assert not [value for value in request.headers.values() if KEY in value]


def test_a_sync_sends_the_key_to_the_model_list_only(upstream: Upstream) -> None:
    sync_models(today=TODAY)

    assert upstream.sent_to(f"{API}/models").headers["Authorization"] == f"Bearer {KEY}"
    assert "authorization" not in upstream.sent_to(CATALOGUE).headers


@pytest.mark.parametrize(
    "body",
    [
        [record("gpt-image-2"), record("qwen-image")],
        {"data": [record("gpt-image-2"), record("qwen-image")]},
        {"success": True, "data": [record("gpt-image-2"), record("qwen-image")]},
    ],
    ids=["bare list", "data", "success and data"],
)
def test_the_public_catalogue_is_read_as_a_bare_list_or_inside_data(
    upstream: Upstream, body: Any
) -> None:
    upstream.catalogue = lambda request: httpx.Response(200, json=body)

    assert [item["id"] for item in service.public_catalogue()] == ["gpt-image-2", "qwen-image"]


def test_items_without_a_string_id_are_left_out_of_both_lists(upstream: Upstream) -> None:
    junk = ["gpt-image-2", 7, None, {"object": "model"}, {"id": 12}, {"id": None}]
    upstream.models = listing(model("qwen-image"), *junk)  # type: ignore[arg-type]
    upstream.catalogue = catalogue_of(record("qwen-image"), *junk)  # type: ignore[arg-type]

    assert [item["id"] for item in service.list_models()] == ["qwen-image"]
    assert [item["id"] for item in service.public_catalogue()] == ["qwen-image"]


@pytest.mark.parametrize("down", DOWN)
@pytest.mark.parametrize("read", ["list_models", "public_catalogue"])
def test_a_list_that_cannot_be_read_raises_an_upstream_error_after_one_attempt(
    upstream: Upstream, read: str, down: str
) -> None:
    answer, code = DOWN[down]
    upstream.models = upstream.catalogue = answer

    with pytest.raises(UpstreamError) as raised:
        getattr(service, read)()

    assert raised.value.code == code
    assert raised.value.message  # safe to show: the command prints it
    assert KEY not in raised.value.message
    assert len(upstream.requests) == 1  # no retries: the sync runs again on its schedule


def test_an_html_page_is_reported_as_a_web_page(upstream: Upstream) -> None:
    upstream.models = web_page

    with pytest.raises(UpstreamError) as raised:
        service.list_models()

    assert "web page" in raised.value.message


# The sync's bookkeeping, with the two lists given directly


@dataclass
class Lists:
    """What `service.list_models()` and `service.public_catalogue()` answer; an UpstreamError
    in place of a list is raised."""

    listed: list[dict[str, Any]] | UpstreamError = field(
        default_factory=lambda: [model(name) for name in CURRENT]
    )
    catalogue: list[dict[str, Any]] | UpstreamError = field(
        default_factory=lambda: [record(name) for name in CURRENT]
    )

    def answer(self, which: str) -> list[dict[str, Any]]:
        value = getattr(self, which)
        if isinstance(value, UpstreamError):
            raise value
        return value


@pytest.fixture
def lists(monkeypatch: pytest.MonkeyPatch) -> Lists:
    given = Lists()
    monkeypatch.setattr(service, "list_models", lambda: given.answer("listed"))
    monkeypatch.setattr(service, "public_catalogue", lambda: given.answer("catalogue"))
    return given


def live(name: str) -> UpstreamModel:
    return UpstreamModel.objects.get(name=name)


def for_new_jobs(today: date = TODAY) -> list[str]:
    return [m.name for m in ImageModel.objects.for_new_jobs(today)]


def test_the_first_sync_records_every_listed_model_as_newly_offered(lists: Lists) -> None:
    report = sync_models(today=TODAY)

    assert report.listed == len(CURRENT)
    assert report.described == len(CURRENT)
    assert report.newly_offered == CURRENT
    assert report.withdrawn == []
    assert report.errors == []
    for name in CURRENT:
        row = live(name)
        assert row.offered is True
        assert row.last_seen_at is not None
        assert row.checked_at is not None


def test_a_model_added_to_the_list_is_newly_offered_and_nothing_else_is(lists: Lists) -> None:
    sync_models(today=TODAY)
    lists.listed = [*lists.listed, model("flux-2-pro")]  # type: ignore[misc]

    report = sync_models(today=TODAY)

    assert report.newly_offered == ["flux-2-pro"]
    assert report.withdrawn == []
    assert live("flux-2-pro").offered is True


def test_a_sync_that_finds_nothing_new_reports_nothing_new(lists: Lists) -> None:
    sync_models(today=TODAY)

    report = sync_models(today=TODAY)

    assert (report.newly_offered, report.withdrawn, report.errors) == ([], [], [])


def test_a_model_dropped_from_the_list_is_withdrawn_from_new_jobs(lists: Lists) -> None:
    sync_models(today=TODAY)
    last_seen = live("qwen-image").last_seen_at
    assert "qwen-image" in for_new_jobs()
    lists.listed = [model(name) for name in CURRENT if name != "qwen-image"]

    report = sync_models(today=TODAY)

    assert report.withdrawn == ["qwen-image"]
    assert live("qwen-image").offered is False
    assert live("qwen-image").last_seen_at == last_seen  # when it was last listed, kept
    assert "qwen-image" not in for_new_jobs()
    assert set(for_new_jobs()) == set(CURRENT) - {"qwen-image"}


def test_a_withdrawn_model_listed_again_is_offered_again(lists: Lists) -> None:
    lists.listed = [model("gpt-image-2")]
    sync_models(today=TODAY)
    lists.listed = [model("gpt-image-2"), model("qwen-image")]

    report = sync_models(today=TODAY)

    assert report.newly_offered == ["qwen-image"]
    assert "qwen-image" in for_new_jobs()


def test_catalogue_models_the_list_never_named_are_not_offered_and_not_withdrawn(
    lists: Lists,
) -> None:
    report = sync_models(today=TODAY)

    assert report.withdrawn == []  # they were never offered
    for name in RETIRED:  # shipped, retired: the key does not list them
        assert live(name).offered is False
    assert not RETIRED & set(for_new_jobs())


def test_a_public_catalogue_model_the_key_does_not_list_is_marked_not_offered(
    lists: Lists,
) -> None:
    lists.catalogue = [*lists.catalogue, record("midjourney-v7")]  # type: ignore[misc]

    sync_models(today=TODAY)

    assert live("midjourney-v7").offered is False


def test_a_future_shutdown_date_is_recorded_and_reported_as_retiring(lists: Lists) -> None:
    lists.listed = [model("gpt-image-2", shutdown_date="2027-04-21"), model("qwen-image")]

    report = sync_models(today=TODAY)

    assert live("gpt-image-2").shutdown_on == date(2027, 4, 21)
    assert report.retiring == [("gpt-image-2", date(2027, 4, 21))]
    assert "gpt-image-2" in for_new_jobs()
    assert "gpt-image-2" not in for_new_jobs(date(2027, 4, 21))  # gone on the day itself


def test_a_past_shutdown_date_ends_a_model_the_list_still_offers(lists: Lists) -> None:
    lists.listed = [model("gpt-image-2"), model("qwen-image", shutdown_date="2026-12-01")]

    report = sync_models(today=TODAY)

    assert live("qwen-image").offered is True
    assert live("qwen-image").shutdown_on == date(2026, 12, 1)
    assert report.retiring == []
    assert "qwen-image" not in for_new_jobs()
    assert "gpt-image-2" in for_new_jobs()


@pytest.mark.parametrize("extra", [{}, {"shutdown_date": None}], ids=["missing", "null"])
def test_a_model_without_a_shutdown_date_has_none(lists: Lists, extra: dict[str, Any]) -> None:
    lists.listed = [model("qwen-image", **extra)]

    report = sync_models(today=TODAY)

    assert live("qwen-image").shutdown_on is None
    assert report.retiring == []
    assert "qwen-image" in for_new_jobs()


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("2027-04-21", date(2027, 4, 21)),
        ("2027-04-21T00:00:00Z", date(2027, 4, 21)),
        (calendar.timegm((2027, 4, 21, 0, 0, 0)), date(2027, 4, 21)),  # Unix time, seconds
        (calendar.timegm((2027, 4, 21, 23, 59, 59)), date(2027, 4, 21)),  # read in UTC
        ("soon", None),
        ("", None),
        (0, None),
        (-5, None),
        (True, None),
        ({"date": "2027-04-21"}, None),
    ],
)
def test_a_shutdown_date_is_read_as_iso_or_unix_time_and_anything_else_is_none(
    lists: Lists, given: Any, recorded: date | None
) -> None:
    lists.listed = [model("gpt-image-2", shutdown_date=given)]

    report = sync_models(today=TODAY)

    assert live("gpt-image-2").shutdown_on == recorded
    assert report.errors == []


def test_a_shutdown_date_in_milliseconds_does_not_stop_the_sync(lists: Lists) -> None:
    lists.listed = [model("gpt-image-2", shutdown_date=1_808_265_600_000), model("qwen-image")]

    sync_models(today=TODAY)

    assert live("qwen-image").offered is True


def test_the_public_catalogues_type_provider_features_and_prices_are_recorded(
    lists: Lists,
) -> None:
    seedream = "doubao-seedream-5-0-260128"
    pricing = {"currency": "USD", "input": None, "output": None, "per_request": 0.04}
    lists.catalogue = [
        record(seedream, provider="bytedance", features=["text-to-image"], pricing=pricing),
        record("gpt-5", provider="openai", model_type="text", features=["chat"]),
    ]

    report = sync_models(today=TODAY)

    assert report.described == 2
    row = live(seedream)
    assert (row.provider, row.model_type) == ("bytedance", "image")
    assert row.features == ["text-to-image"]
    assert row.pricing == pricing
    assert live("gpt-5").model_type == "text"


def test_a_catalogue_record_with_odd_features_or_prices_is_recorded_without_them(
    lists: Lists,
) -> None:
    lists.catalogue = [
        {"id": "qwen-image", "features": "text-to-image", "pricing": [0.02]},
        {"id": "gpt-image-2", "provider": None, "model_type": 7},
    ]

    sync_models(today=TODAY)

    assert (live("qwen-image").features, live("qwen-image").pricing) == ([], {})
    assert (live("gpt-image-2").provider, live("gpt-image-2").model_type) == ("", "7")


def test_a_new_price_replaces_the_old_one(lists: Lists) -> None:
    sync_models(today=TODAY)
    cheaper = {"currency": "USD", "input": 3, "output": 18, "per_request": None}
    lists.catalogue = [record("gpt-image-2", pricing=cheaper)]

    sync_models(today=TODAY)

    assert live("gpt-image-2").pricing == cheaper
    assert live("qwen-image").pricing["output"] == 24  # a model the catalogue left out: kept


# When the upstream is down: what each list said before is kept, and the errors reported


def failures(report: SyncReport) -> list[tuple[str, str]]:
    """(which list, error code) for each line of the report's errors."""
    return [(where, code) for where, code, *_message in (e.split(": ") for e in report.errors)]


def snapshot() -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in UpstreamModel.objects.values()}


LIST_FIELDS = ["offered", "shutdown_on", "last_seen_at"]
CATALOGUE_FIELDS = ["model_type", "provider", "features", "pricing"]


def fields(rows: dict[str, dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    return {model: [row[name] for name in names] for model, row in rows.items()}


@pytest.fixture
def synced_once(upstream: Upstream) -> dict[str, dict[str, Any]]:
    """A studio that has synced once, with gpt-image-2 retiring; what it knew then."""
    upstream.models = listing(
        *[model(name, shutdown_date="2027-04-21") for name in CURRENT[:1]],
        *map(model, CURRENT[1:]),
    )
    assert sync_models(today=TODAY).errors == []
    upstream.requests.clear()
    return snapshot()


@pytest.mark.parametrize("down", DOWN)
def test_a_model_list_that_cannot_be_read_changes_no_offer_and_the_catalogue_is_still_read(
    upstream: Upstream, synced_once: dict[str, dict[str, Any]], down: str, caplog
) -> None:
    answer, code = DOWN[down]
    upstream.models = answer
    dearer = {"currency": "USD", "input": 5, "output": 30, "per_request": None}
    upstream.catalogue = catalogue_of(record("gpt-image-2", pricing=dearer), record("flux-2-pro"))

    report = sync_models(today=TODAY)

    assert report.listed is None
    assert report.described == 2
    assert failures(report) == [("model list", code)]
    after = snapshot()
    assert fields(after, LIST_FIELDS) == fields(synced_once, LIST_FIELDS) | {
        "flux-2-pro": [None, None, None]  # described, never listed: not known to be offered
    }
    assert after["gpt-image-2"]["pricing"] == dearer
    assert after["flux-2-pro"]["model_type"] == "image"
    assert set(for_new_jobs()) == set(CURRENT)
    assert "sync_models could not read the model list" in caplog.text


@pytest.mark.parametrize("down", DOWN)
def test_a_public_catalogue_that_cannot_be_read_loses_no_price_and_the_list_is_still_read(
    upstream: Upstream, synced_once: dict[str, dict[str, Any]], down: str, caplog
) -> None:
    answer, code = DOWN[down]
    upstream.catalogue = answer
    upstream.models = listing(*map(model, [*CURRENT[1:], "flux-2-pro"]))  # 2 gone, flux new

    report = sync_models(today=TODAY)

    assert report.listed == len(CURRENT)
    assert report.described is None
    assert failures(report) == [("public catalogue", code)]
    assert (report.newly_offered, report.withdrawn) == (["flux-2-pro"], ["gpt-image-2"])
    after = snapshot()
    assert fields(after, CATALOGUE_FIELDS) == fields(synced_once, CATALOGUE_FIELDS) | {
        "flux-2-pro": ["", "", [], {}]  # listed, never described
    }
    assert after["gpt-image-2"]["offered"] is False
    assert after["gpt-image-2"]["shutdown_on"] == date(2027, 4, 21)  # kept from the last list
    assert "sync_models could not read the public catalogue" in caplog.text


@pytest.mark.parametrize("down", DOWN)
def test_when_both_lists_cannot_be_read_nothing_changes_and_both_errors_are_reported(
    upstream: Upstream, synced_once: dict[str, dict[str, Any]], down: str
) -> None:
    answer, code = DOWN[down]
    upstream.models = upstream.catalogue = answer

    report = sync_models(today=TODAY)

    assert (report.listed, report.described) == (None, None)
    assert failures(report) == [("model list", code), ("public catalogue", code)]
    assert snapshot() == synced_once
    assert set(for_new_jobs()) == set(CURRENT)


def test_the_command_reports_what_it_could_not_read_on_stderr(upstream: Upstream) -> None:
    upstream.models = overloaded
    out, err = io.StringIO(), io.StringIO()

    call_command("sync_models", stdout=out, stderr=err)

    assert "The key offers" not in out.getvalue()
    assert f"The public catalogue describes {len(CURRENT)} models." in out.getvalue()
    assert err.getvalue().startswith("Could not read the model list: upstream_unavailable: ")
    assert KEY not in out.getvalue() + err.getvalue()


# Against the offline provider (no key), as a fresh install runs it


def run_command() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_models", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_names_the_counts_and_the_newly_offered_models() -> None:
    out, err = run_command()

    assert err == ""
    assert f"The key offers {len(OFFERED)} models." in out
    assert f"The public catalogue describes {len(OFFERED)} models." in out
    for listed in OFFERED:
        assert f"  newly offered: {listed.id}\n" in out
    assert "no longer offered" not in out  # nothing was offered before


def test_the_offline_key_offers_the_current_models_and_not_the_retired_ones() -> None:
    run_command()

    assert {name: live(name).offered for name in CURRENT} == dict.fromkeys(CURRENT, True)
    assert {name: live(name).offered for name in RETIRED} == dict.fromkeys(RETIRED, False)
    assert live("gpt-image-2").shutdown_on == date(2027, 4, 21)
    assert live("gpt-image-2").pricing["output"] == 24
    assert set(for_new_jobs()) == set(CURRENT)


def test_the_offline_sync_reports_gpt_image_2_as_retiring() -> None:
    report = sync_models(today=TODAY)

    assert report.retiring == [("gpt-image-2", date(2027, 4, 21))]
    assert report.errors == []


def test_an_image_model_the_catalogue_does_not_describe_is_found_and_can_be_added() -> None:
    run_command()

    assert list(UpstreamModel.objects.undescribed_images().values_list("name", flat=True)) == [
        "flux-2-pro"
    ]  # and not gpt-5, claude-sonnet-4-5 or text-embedding-3-small: they make no images
    added = add_with_basic_schema(live("flux-2-pro"))

    assert (added.enabled, added.schema) == (False, BASIC_SCHEMA)
    assert not UpstreamModel.objects.undescribed_images().exists()
    assert "flux-2-pro" not in for_new_jobs()  # until an administrator enables it


def test_a_model_an_administrator_added_is_offered_by_the_offline_key() -> None:
    ImageModel.objects.create(
        name="acme-paint-1", label="Acme Paint", family="other", schema=BASIC_SCHEMA
    )

    out, _err = run_command()

    assert "  newly offered: acme-paint-1\n" in out
    assert live("acme-paint-1").offered is True
    assert "acme-paint-1" in for_new_jobs()


def test_a_second_offline_sync_finds_nothing_new() -> None:
    run_command()

    out, err = run_command()

    assert err == ""
    assert "newly offered" not in out
    assert "no longer offered" not in out


def test_the_command_survives_the_offline_provider_being_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_command()
    before = snapshot()
    down = OfflineProvider(models_down=True)
    monkeypatch.setattr(service.clients, "_offline_transport", lambda: down)
    monkeypatch.setattr(service.clients, "_clients", {})  # built afresh, and forgotten afterwards

    out, err = run_command()

    assert out == ""
    assert err.splitlines() == [
        "Could not read the model list: upstream_unavailable: "
        "The image service is unavailable or overloaded. Try again shortly.",
        "Could not read the public catalogue: upstream_unavailable: "
        "The image service is unavailable or overloaded. Try again shortly.",
    ]
    assert snapshot() == before
    assert set(for_new_jobs()) == set(CURRENT)
