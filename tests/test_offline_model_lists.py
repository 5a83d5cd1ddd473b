"""The offline provider's two model lists: the key's GET /models and CometAPI's public catalogue."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from imagegen.offline import OFFERED, RETIRED, OfflineProvider

API = "https://api.cometapi.com/v1"
CATALOGUE = "https://api.cometapi.com/api/models"
CURRENT_IMAGE_MODELS = {
    "gpt-image-2",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "qwen-image",
    "doubao-seedream-4-5-251128",
    "doubao-seedream-5-0-260128",
}


def client_for(provider: OfflineProvider) -> httpx.Client:
    return httpx.Client(transport=provider, base_url=API)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with client_for(OfflineProvider(latency=0)) as client:
        yield client


def listed(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in client.get("/models").json()["data"]}


def catalogue(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in client.get(CATALOGUE).json()["data"]}


# GET /models


def test_the_model_list_has_openais_shape(client: httpx.Client) -> None:
    response = client.get("/models")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert body["object"] == "list"
    for item in body["data"]:
        assert {"id", "object", "created", "owned_by"} <= set(item)
        assert item["object"] == "model"
        assert isinstance(item["created"], int)


def test_the_model_list_offers_every_current_image_model(client: httpx.Client) -> None:
    assert set(listed(client)) >= CURRENT_IMAGE_MODELS


def test_the_model_list_leaves_out_the_models_openai_has_shut_down(client: httpx.Client) -> None:
    assert {"dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"} == RETIRED
    assert not RETIRED & set(listed(client))


def test_the_model_list_mixes_in_other_kinds_of_model_and_an_unknown_image_model(
    client: httpx.Client,
) -> None:
    assert {"gpt-5", "claude-sonnet-4-5", "text-embedding-3-small", "flux-2-pro"} <= set(
        listed(client)
    )


def test_only_a_deprecated_model_carries_a_shutdown_date(client: httpx.Client) -> None:
    models = listed(client)

    assert models["gpt-image-2"]["shutdown_date"] == "2027-04-21"
    dated = {name for name, item in models.items() if "shutdown_date" in item}
    assert dated == {"gpt-image-2"}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", models[name]["shutdown_date"]) for name in dated)


def test_extra_models_are_offered_after_the_shipped_ones_once_each() -> None:
    provider = OfflineProvider(extra_models=lambda: ["house-model", "gpt-image-2", "house-model"])
    with client_for(provider) as client:
        names = [item["id"] for item in client.get("/models").json()["data"]]

    assert names.count("house-model") == 1
    assert names.count("gpt-image-2") == 1
    assert names[-1] == "house-model"


def test_extra_models_are_read_again_on_every_request() -> None:
    extra: list[str] = []
    with client_for(OfflineProvider(extra_models=lambda: extra)) as client:
        before = listed(client)
        extra.append("added-in-admin")
        after = listed(client)

    assert "added-in-admin" not in before
    assert after["added-in-admin"]["object"] == "model"


def test_without_extra_models_the_list_is_exactly_the_shipped_offer(client: httpx.Client) -> None:
    assert set(listed(client)) == {model.id for model in OFFERED}


# GET /api/models, CometAPI's public catalogue


def test_the_catalogue_answers_without_a_key_at_the_hosts_root(client: httpx.Client) -> None:
    response = client.get(CATALOGUE)

    assert "authorization" not in response.request.headers
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert body["success"] is True
    assert isinstance(body["data"], list)


def test_every_catalogue_record_has_cometapis_fields(client: httpx.Client) -> None:
    for record in catalogue(client).values():
        assert set(record) == {"id", "provider", "model_type", "features", "pricing", "api_doc_url"}
        assert set(record["pricing"]) == {
            "currency",
            "input",
            "output",
            "per_request",
            "per_second",
        }
        assert record["pricing"]["currency"] == "USD"
        assert record["api_doc_url"].startswith("https://")


def test_the_catalogue_describes_the_same_models_the_key_offers(client: httpx.Client) -> None:
    assert set(catalogue(client)) == set(listed(client))


def test_the_catalogue_tells_image_models_from_others(client: httpx.Client) -> None:
    records = catalogue(client)
    images = {name for name, record in records.items() if record["model_type"] == "image"}

    assert images == CURRENT_IMAGE_MODELS | {"flux-2-pro"}
    assert "text-to-image" in records["gpt-image-2"]["features"]


@pytest.mark.parametrize(
    ("model", "field", "price"),
    [
        ("gpt-image-2", "input", 4),
        ("gpt-image-2", "output", 24),
        ("gpt-image-2.5-flare", "output", 30),
        ("gpt-image-2.6-sunburst", "input", 5),
        ("doubao-seedream-4-5-251128", "per_request", 0.03),
        ("doubao-seedream-5-0-260128", "per_request", 0.04),
        ("qwen-image", "per_request", 0.02),
    ],
)
def test_the_catalogue_carries_each_models_price(
    client: httpx.Client, model: str, field: str, price: float
) -> None:
    assert catalogue(client)[model]["pricing"][field] == price


def test_a_token_priced_model_has_no_per_request_price(client: httpx.Client) -> None:
    pricing = catalogue(client)["gpt-image-2"]["pricing"]

    assert pricing["per_request"] is None
    assert pricing["per_second"] is None


# When the upstream is down


@pytest.mark.parametrize("url", [f"{API}/models", CATALOGUE])
def test_models_down_makes_both_lists_answer_503_with_an_error_body(url: str) -> None:
    with client_for(OfflineProvider(models_down=True)) as client:
        first = client.get(url)
        again = client.get(url)

    assert first.status_code == again.status_code == 503
    error = first.json()["error"]
    assert error["code"] == "server_is_overloaded"
    assert error["message"]


@pytest.mark.django_db  # the request is checked against the catalogue, which may be in the database
def test_models_down_leaves_generation_working() -> None:
    body = {"model": "gpt-image-2", "prompt": "A boat", "size": "1024x1024"}
    with client_for(OfflineProvider(latency=0, models_down=True)) as client:
        assert client.post("/images/generations", json=body).status_code == 200


@pytest.mark.parametrize("url", [f"{API}/models", CATALOGUE])
def test_a_queued_fault_answers_a_model_list(url: str) -> None:
    with client_for(OfflineProvider(faults=["unavailable", "html"])) as client:
        down = client.get(url)
        page = client.get(url)
        fine = client.get(url)

    assert down.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert fine.status_code == 200


def test_a_queued_timeout_raises_on_a_model_list() -> None:
    with (
        client_for(OfflineProvider(faults=["timeout"])) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/models")


def test_a_queued_body_fault_is_used_up_by_a_model_list_without_spoiling_it() -> None:
    with client_for(OfflineProvider(faults=["bad_base64", "unavailable"])) as client:
        statuses = [client.get("/models").status_code for _ in range(3)]

    assert statuses == [200, 503, 200]


def test_only_get_reads_a_model_list(client: httpx.Client) -> None:
    response = client.post("/models", json={})

    assert response.headers["content-type"].startswith("text/html")
