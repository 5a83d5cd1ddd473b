"""service.generate and get_client against httpx.MockTransport: results, errors, retries, logs."""

import base64
import email.utils
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from imagegen import service
from imagegen.catalogue import ModelSpec as Profile
from imagegen.catalogue import shipped_spec as shipped_profile
from imagegen.service import GenerationResult, UpstreamError, build_request_body, generate

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
PNG_B64 = base64.b64encode(PNG).decode()
PROMPT = "A lighthouse on a cliff at dusk"
BASE_URL = "https://api.cometapi.com/v1"
KEY = "sk-live-0123456789abcdefSECRET"

type Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def profile(name: str) -> Profile:
    found = shipped_profile(name)
    assert found is not None, name
    return found


class Upstream:
    """A scripted endpoint: answers in turn (the last one repeats) and records each request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(self.handle), **kwargs)


def ok(payload: Any, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=payload, headers={"x-request-id": "req_ok", **headers})


def error(
    status: int, code: str | int | None = None, message: str = "", **headers: str
) -> httpx.Response:
    body = {"error": {"message": message, "type": "test_error", "param": None, "code": code}}
    return httpx.Response(status, json=body, headers=headers)


def gpt_success(**extra: Any) -> httpx.Response:
    return ok(
        {
            "created": 1_790_000_000,
            "data": [{"b64_json": PNG_B64}],
            "size": "1024x1024",
            "quality": "low",
            "background": "opaque",
            "output_format": "png",
            "usage": {"input_tokens": 9, "output_tokens": 272, "total_tokens": 281},
            **extra,
        }
    )


def run(
    upstream: Upstream, model: str = "gpt-image-1", options: dict[str, Any] | None = None
) -> tuple[GenerationResult, list[float]]:
    sleeps: list[float] = []
    result = generate(
        profile(model), PROMPT, options or {}, client=upstream.client(), sleep=sleeps.append
    )
    return result, sleeps


def fail(
    upstream: Upstream, model: str = "gpt-image-1", options: dict[str, Any] | None = None
) -> tuple[UpstreamError, list[float]]:
    sleeps: list[float] = []
    with pytest.raises(UpstreamError) as caught:
        generate(
            profile(model), PROMPT, options or {}, client=upstream.client(), sleep=sleeps.append
        )
    return caught.value, sleeps


# --- success ---------------------------------------------------------------------------------


def test_it_posts_the_request_body_as_json_to_images_generations() -> None:
    upstream = Upstream(gpt_success())
    options = {"quality": "low", "output_format": "webp", "output_compression": 70}

    run(upstream, options=options)

    (request,) = upstream.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.cometapi.com/v1/images/generations"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == build_request_body(
        profile("gpt-image-1"), PROMPT, options
    )


def test_it_reads_b64_images_usage_echoed_settings_and_the_request_id() -> None:
    result, _ = run(Upstream(gpt_success()))

    assert result.images == [service.ReturnedImage(0, PNG, None)]
    assert result.created == 1_790_000_000
    assert result.usage == {"input_tokens": 9, "output_tokens": 272, "total_tokens": 281}
    assert result.returned_settings == {
        "size": "1024x1024",
        "quality": "low",
        "background": "opaque",
        "output_format": "png",
    }
    assert result.request_id == "req_ok"
    assert result.attempts == 1
    assert result.upstream_ms >= 0


def test_it_returns_url_results_with_the_revised_prompt_for_dall_e_3() -> None:
    answer = ok(
        {
            "created": 1,
            "data": [{"url": "https://cdn.example/img.png", "revised_prompt": "A tall lighthouse"}],
        }
    )

    result, _ = run(Upstream(answer), model="dall-e-3")

    assert result.images == [
        service.ReturnedImage(0, None, "https://cdn.example/img.png", "A tall lighthouse")
    ]
    assert result.usage is None
    assert result.returned_settings == {}


def test_it_returns_every_image_of_a_multi_image_answer_in_order() -> None:
    gif, jpeg = b"GIF89a" + bytes(8), b"\xff\xd8\xff\xe0" + bytes(8)
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 "
    data = [{"b64_json": base64.b64encode(image).decode()} for image in (PNG, gif, jpeg, webp)]

    result, _ = run(Upstream(ok({"created": 1, "data": data})), "dall-e-2", {"n": 4})

    assert [image.data for image in result.images] == [PNG, gif, jpeg, webp]
    assert [image.index for image in result.images] == [0, 1, 2, 3]


def test_it_accepts_base64_sent_as_a_data_uri() -> None:
    answer = ok({"created": 1, "data": [{"b64_json": "data:image/png;base64," + PNG_B64}]})

    result, _ = run(Upstream(answer))

    assert result.images[0].data == PNG


def test_it_raises_value_error_before_sending_an_invalid_request() -> None:
    upstream = Upstream(gpt_success())

    with pytest.raises(ValueError):
        generate(profile("dall-e-3"), PROMPT, {"n": 2}, client=upstream.client())

    assert upstream.requests == []


# --- the shared client -----------------------------------------------------------------------


def test_get_client_sends_the_key_as_a_bearer_token_when_one_is_set(settings) -> None:
    settings.COMETAPI_KEY = KEY

    request = service.get_client().build_request("POST", "images/generations")

    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert str(request.url) == "https://api.cometapi.com/v1/images/generations"


def test_get_client_sends_no_authorization_header_without_a_key(settings) -> None:
    settings.COMETAPI_KEY = ""

    request = service.get_client().build_request("POST", "images/generations")

    assert "Authorization" not in request.headers


def test_get_client_sets_explicit_timeouts_and_limits_and_follows_no_redirects(
    settings, monkeypatch
) -> None:
    built: list[dict[str, Any]] = []
    real_client = httpx.Client

    def recording_client(**kwargs: Any) -> httpx.Client:
        built.append(kwargs)
        return real_client(**kwargs)

    monkeypatch.setattr(httpx, "Client", recording_client)
    settings.COMETAPI_KEY = KEY
    settings.COMETAPI_BASE_URL = "https://gateway.example/v1"
    settings.COMETAPI_CONNECT_TIMEOUT = 7.0
    settings.COMETAPI_READ_TIMEOUT = 240.0
    settings.COMETAPI_MAX_CONNECTIONS = 12

    client = service.get_client()

    (kwargs,) = built
    assert kwargs["limits"].max_connections == 12
    assert kwargs["follow_redirects"] is False
    assert client.follow_redirects is False
    assert client.base_url == "https://gateway.example/v1/"
    assert client.timeout.connect == 7.0
    assert client.timeout.read == 240.0
    assert client.timeout.write is not None
    assert client.timeout.pool is not None


def test_get_client_is_shared_until_its_settings_change(settings) -> None:
    settings.COMETAPI_READ_TIMEOUT = 301.0
    first = service.get_client()

    assert service.get_client() is first

    settings.COMETAPI_READ_TIMEOUT = 302.0
    assert service.get_client() is not first
    assert service.get_client().timeout.read == 302.0


# --- error mapping ---------------------------------------------------------------------------

COMET_500 = httpx.Response(
    500,
    json={
        "error": {
            "message": "invalid size value (request id: 20261122093015123456789)",
            "type": "comet_api_error",
            "param": "",
            "code": "invalid_request",
        }
    },
)
GATEWAY_PAGE = httpx.Response(
    502,
    text="<html><body><h1>502 Bad Gateway</h1></body></html>",
    headers={"content-type": "text/html"},
)


@pytest.mark.parametrize(
    ("answer", "code", "retryable", "attempts"),
    [
        (
            error(400, "moderation_blocked", "Rejected by the safety system."),
            "moderation_blocked",
            False,
            1,
        ),
        (error(400, "content_policy_violation", "Not allowed."), "moderation_blocked", False, 1),
        (error(400, None, "Invalid size."), "invalid_request", False, 1),
        (error(401, "invalid_api_key", "Incorrect API key provided."), "auth_failed", False, 1),
        (error(403, "unsupported_country_region_territory"), "forbidden", False, 1),
        (error(404, "model_not_found", "No such model."), "model_not_found", False, 1),
        (error(400, "model_not_found", "Retired."), "model_not_found", False, 1),
        (error(408), "timeout", True, 3),
        (error(409), "upstream_unavailable", True, 3),
        (error(429, "rate_limit_exceeded"), "rate_limited", True, 3),
        (error(429), "rate_limited", True, 3),
        (error(429, "insufficient_quota"), "insufficient_quota", False, 1),
        (error(429, "credit_balance_exhausted"), "insufficient_quota", False, 1),
        (error(500, None, "The server had an error."), "upstream_unavailable", True, 3),
        (error(502, 502, "Bad gateway."), "upstream_unavailable", True, 3),
        (error(503, "server_is_overloaded"), "upstream_unavailable", True, 3),
        (error(504), "upstream_unavailable", True, 3),
        (error(524), "upstream_unavailable", True, 3),
        (GATEWAY_PAGE, "upstream_unavailable", True, 3),
        (COMET_500, "invalid_request", False, 1),
        (error(422, None, "Unprocessable."), "invalid_request", False, 1),
    ],
)
def test_it_maps_each_upstream_failure_to_a_code_a_retryable_flag_and_attempts(
    answer: httpx.Response, code: str, retryable: bool, attempts: int
) -> None:
    upstream = Upstream(answer)

    raised, sleeps = fail(upstream)

    assert (raised.code, raised.retryable, raised.attempts) == (code, retryable, attempts)
    assert len(upstream.requests) == attempts
    assert len(sleeps) == attempts - 1
    assert raised.status == answer.status_code
    assert raised.message == str(raised)


def test_it_says_a_moderation_refusal_came_from_the_safety_system() -> None:
    raised, _ = fail(Upstream(error(400, "moderation_blocked", "safety_violations=[violence]")))

    assert "refused by the safety system" in raised.message


def test_it_shows_the_upstream_message_and_param_of_an_invalid_request() -> None:
    body = {
        "error": {
            "message": "Invalid value: '999x999'. Supported values are: 'auto'.",
            "type": "invalid_request_error",
            "param": "size",
            "code": "invalid_value",
        }
    }

    raised, _ = fail(Upstream(httpx.Response(400, json=body, headers={"x-request-id": "req_7"})))

    assert raised.code == "invalid_request"
    assert raised.param == "size"
    assert raised.request_id == "req_7"
    assert "Invalid value: '999x999'" in raised.message


def test_it_trims_a_long_upstream_message() -> None:
    raised, _ = fail(Upstream(error(400, None, "word " * 500)))

    assert len(raised.message) < 400


def test_it_does_not_retry_comet_invalid_request_and_reads_the_request_id_from_the_message() -> (
    None
):
    upstream = Upstream(COMET_500)

    raised, sleeps = fail(upstream)

    assert (raised.code, raised.retryable, raised.attempts, sleeps) == (
        "invalid_request",
        False,
        1,
        [],
    )
    assert raised.request_id == "20261122093015123456789"
    assert "request id" not in raised.message
    assert "invalid size value" in raised.message


def test_it_treats_a_redirect_as_a_wrong_base_url_and_does_not_follow_it() -> None:
    upstream = Upstream(
        httpx.Response(301, headers={"location": "https://www.cometapi.com/v1/images/generations"})
    )

    raised, _ = fail(upstream)

    assert (raised.code, raised.retryable, raised.attempts, raised.status) == (
        "bad_response",
        False,
        1,
        301,
    )
    assert "COMETAPI_BASE_URL" in raised.message
    assert len(upstream.requests) == 1


def test_it_blames_the_base_url_not_the_model_for_an_html_404_page() -> None:
    page = httpx.Response(404, text="<html>Not Found</html>", headers={"content-type": "text/html"})

    raised, _ = fail(Upstream(page))

    assert (raised.code, raised.retryable, raised.attempts) == ("bad_response", False, 1)
    assert "COMETAPI_BASE_URL" in raised.message


@pytest.mark.parametrize(
    "body",
    [
        {"detail": "Not Found"},
        {"error": "Not Found"},
        {"error": {"message": "no route", "code": ""}},
    ],
)
def test_a_json_404_that_names_no_model_blames_the_address_not_the_model(
    body: dict[str, Any],
) -> None:
    raised, _ = fail(Upstream(httpx.Response(404, json=body)))

    assert (raised.code, raised.retryable) == ("bad_response", False)
    assert "COMETAPI_BASE_URL" in raised.message


def test_a_404_that_says_the_model_does_not_exist_is_model_not_found() -> None:
    message = "The model `gpt-image-1` does not exist or you do not have access to it."
    raised, _ = fail(Upstream(error(404, None, message)))

    assert raised.code == "model_not_found"


def test_it_maps_an_error_envelope_inside_a_200_answer() -> None:
    answer = httpx.Response(200, json={"error": {"message": "x", "code": "moderation_blocked"}})

    raised, _ = fail(Upstream(answer))

    assert (raised.code, raised.attempts) == ("moderation_blocked", 1)


# --- retries ---------------------------------------------------------------------------------


def test_it_retries_rate_limits_honouring_retry_after_ms() -> None:
    limited = error(429, "rate_limit_exceeded", **{"retry-after-ms": "250", "retry-after": "3"})
    upstream = Upstream(limited, limited, gpt_success())

    result, sleeps = run(upstream)

    assert result.attempts == 3
    assert len(upstream.requests) == 3
    assert sleeps == [0.25, 0.25]


def test_it_honours_retry_after_in_seconds() -> None:
    upstream = Upstream(error(429, **{"retry-after": "2"}), gpt_success())

    result, sleeps = run(upstream)

    assert (result.attempts, sleeps) == (2, [2.0])


def test_it_honours_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    upstream = Upstream(error(503, **{"retry-after": when}), gpt_success())

    _, sleeps = run(upstream)

    assert len(sleeps) == 1
    assert 27 <= sleeps[0] <= 30


def test_it_does_not_retry_when_retry_after_is_over_two_minutes() -> None:
    upstream = Upstream(error(429, "rate_limit_exceeded", **{"retry-after": "300"}))

    raised, sleeps = fail(upstream)

    assert (raised.code, raised.retryable, raised.attempts, sleeps) == (
        "rate_limited",
        True,
        1,
        [],
    )
    assert raised.retry_after == 300


def test_it_does_not_retry_when_the_upstream_says_x_should_retry_false() -> None:
    upstream = Upstream(error(503, **{"x-should-retry": "false"}))

    raised, sleeps = fail(upstream)

    assert (raised.code, raised.attempts, sleeps) == ("upstream_unavailable", 1, [])
    assert raised.retryable is True  # a person may still try later


def test_it_retries_what_the_upstream_says_x_should_retry_true() -> None:
    upstream = Upstream(error(400, **{"x-should-retry": "true"}), gpt_success())

    result, sleeps = run(upstream)

    assert result.attempts == 2
    assert len(sleeps) == 1


def test_it_gives_up_after_three_attempts_at_an_unavailable_upstream() -> None:
    upstream = Upstream(error(503, "server_is_overloaded"))

    raised, sleeps = fail(upstream)

    assert raised.attempts == 3
    assert len(upstream.requests) == 3
    assert len(sleeps) == 2


def test_it_backs_off_exponentially_with_jitter_within_the_documented_ranges(settings) -> None:
    settings.COMETAPI_MAX_RETRIES = 6
    upstream = Upstream(error(500))

    raised, sleeps = fail(upstream)

    assert raised.attempts == 7
    ranges = [(0.375, 0.5), (0.75, 1.0), (1.5, 2.0), (3.0, 4.0), (6.0, 8.0), (6.0, 8.0)]
    assert len(sleeps) == len(ranges)
    for delay, (low, high) in zip(sleeps, ranges, strict=True):
        assert low <= delay <= high


def test_it_makes_one_attempt_when_retries_are_turned_off(settings) -> None:
    settings.COMETAPI_MAX_RETRIES = 0

    raised, sleeps = fail(Upstream(error(503)))

    assert (raised.attempts, sleeps) == (1, [])


def test_it_counts_attempts_on_a_result_that_succeeded_after_a_retry() -> None:
    result, sleeps = run(Upstream(error(502), gpt_success()))

    assert result.attempts == 2
    assert 0.375 <= sleeps[0] <= 0.5


# --- no usable answer ------------------------------------------------------------------------


def raise_read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("The read operation timed out", request=request)


def raise_connect_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectTimeout("timed out", request=request)


def raise_connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize(
    ("raiser", "code"),
    [
        (raise_read_timeout, "timeout"),
        (raise_connect_timeout, "timeout"),
        (raise_connect_error, "connection_failed"),
    ],
)
def test_it_retries_timeouts_and_connection_errors(
    raiser: Callable[[httpx.Request], httpx.Response], code: str
) -> None:
    upstream = Upstream(raiser)

    raised, sleeps = fail(upstream)

    assert (raised.code, raised.retryable, raised.attempts, len(sleeps)) == (code, True, 3, 2)
    assert raised.status is None
    assert "Errno" not in raised.message


def test_it_recovers_when_a_connection_error_is_followed_by_success() -> None:
    result, _ = run(Upstream(raise_connect_error, gpt_success()))

    assert result.attempts == 2


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (
            httpx.Response(
                200,
                text="<!doctype html><html><body>Loading…</body></html>",
                headers={"content-type": "text/html; charset=utf-8"},
            ),
            "bad_response",
        ),
        (httpx.Response(200, text="ok upstream said hello"), "bad_response"),
        (httpx.Response(200, content=b""), "bad_response"),
        (ok({"created": 1}), "bad_response"),
        (ok({"created": 1, "data": []}), "bad_response"),
        (ok({"created": 1, "data": [{}]}), "bad_response"),
        (ok({"created": 1, "data": "nope"}), "bad_response"),
        (ok([1, 2, 3]), "bad_response"),
        (
            ok({"created": 1, "data": [{"b64_json": "iVBORw0KGgo!!this*is~not=base64"}]}),
            "bad_image",
        ),
        (
            ok({"created": 1, "data": [{"b64_json": base64.b64encode(b"%PDF-1.7 ...").decode()}]}),
            "bad_image",
        ),
    ],
)
def test_it_refuses_a_2xx_answer_that_is_not_an_image_result(
    answer: httpx.Response, code: str
) -> None:
    upstream = Upstream(answer)

    raised, sleeps = fail(upstream)

    assert (raised.code, raised.retryable, raised.attempts, sleeps) == (code, False, 1, [])


def test_it_points_at_the_base_url_when_the_answer_is_a_web_page() -> None:
    page = httpx.Response(200, text="<html></html>", headers={"content-type": "text/html"})

    raised, _ = fail(Upstream(page))

    assert "COMETAPI_BASE_URL" in raised.message


# --- logs and secrets ------------------------------------------------------------------------


def test_it_logs_one_warning_per_failed_attempt_with_code_status_and_request_id(caplog) -> None:
    caplog.set_level(logging.WARNING)
    answer = error(503, "server_is_overloaded", **{"x-request-id": "req_503"})

    fail(Upstream(answer))

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for record in warnings:
        line = record.getMessage()
        assert "code=upstream_unavailable" in line
        assert "status=503" in line
        assert "request_id=req_503" in line


def key_echoes(request: httpx.Request) -> httpx.Response:
    """An upstream that repeats the key and the request headers back, as some gateways do."""
    echo = f"Incorrect API key provided: {KEY}. Headers: {dict(request.headers)}"
    return httpx.Response(400, json={"error": {"message": echo, "code": None}})


@pytest.mark.parametrize(
    "answer",
    [
        key_echoes,
        lambda request: error(401, "invalid_api_key", f"Incorrect API key provided: {KEY}"),
        lambda request: error(403, None, f"Key {KEY} is blocked"),
        lambda request: error(429, "rate_limit_exceeded", f"key {KEY}", **{"retry-after-ms": "1"}),
        lambda request: error(500, "invalid_request", f"bad (key {KEY}) (request id: r1)"),
        raise_read_timeout,
        raise_connect_error,
        lambda request: gpt_success(),
    ],
)
def test_the_api_key_never_appears_in_a_log_record_or_an_error_message(
    settings, caplog, answer: Answer
) -> None:
    settings.COMETAPI_KEY = KEY
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "imagegen"):
        caplog.set_level(logging.DEBUG, logger=name)
    upstream = Upstream(answer)
    # The shared client's headers, over a mock transport: exactly what would be sent.
    client = upstream.client(headers=service.get_client().headers)
    messages: list[str] = []

    try:
        result = generate(profile("gpt-image-1"), PROMPT, {}, client=client, sleep=lambda _: None)
    except UpstreamError as raised:
        messages += [raised.message, str(raised), repr(raised)]
    else:
        assert PNG_B64 not in caplog.text  # nor the body of a success
        assert result.images[0].data == PNG

    assert upstream.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert caplog.records  # httpx logs each request at INFO
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert "sk-live" not in record.getMessage()
    for message in messages:
        assert KEY not in message
        assert "sk-live" not in message
