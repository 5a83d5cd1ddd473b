"""service.generate with stream=true: server-sent events, partial images, mid-stream failures."""

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from imagegen.catalogue import ModelSpec as Profile
from imagegen.catalogue import shipped_spec as shipped_profile
from imagegen.event_stream import ServerSentEvent, iter_events
from imagegen.service import GenerationResult, PartialImage, UpstreamError, generate

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
PARTIALS = [b"\x89PNG\r\n\x1a\n" + bytes([index]) * 8 for index in range(3)]
PROMPT = "A lighthouse on a cliff at dusk"
STREAM_OPTIONS = {"stream": True, "partial_images": 2, "quality": "low", "size": "1024x1024"}
ECHOED = {"size": "1024x1024", "quality": "low", "background": "opaque", "output_format": "png"}
USAGE = {
    "input_tokens": 9,
    "input_tokens_details": {"text_tokens": 9, "image_tokens": 0},
    "output_tokens": 472,
    "total_tokens": 481,
}


def gpt_image_1() -> Profile:
    found = shipped_profile("gpt-image-1")
    assert found is not None
    return found


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    name = event or (data.get("type") if isinstance(data, dict) else None)
    return (f"event: {name}\n" if name else "").encode() + f"data: {text}\n\n".encode()


def partial(index: int) -> bytes:
    return sse(
        {
            "type": "image_generation.partial_image",
            "b64_json": b64(PARTIALS[index]),
            "created_at": 1_790_000_000,
            "partial_image_index": index,
            **ECHOED,
        }
    )


def completed(image: bytes = PNG) -> bytes:
    return sse(
        {
            "type": "image_generation.completed",
            "b64_json": b64(image),
            "created_at": 1_790_000_001,
            "usage": USAGE,
            **ECHOED,
        }
    )


class Chunks(httpx.SyncByteStream):
    """A response body sent chunk by chunk; logs each chunk as it leaves, or raises."""

    def __init__(self, chunks: list[bytes | Exception], log: list[str] | None = None) -> None:
        self.chunks = chunks
        self.log = log if log is not None else []

    def __iter__(self) -> Iterator[bytes]:
        for number, chunk in enumerate(self.chunks):
            if isinstance(chunk, Exception):
                raise chunk
            self.log.append(f"sent chunk {number}")
            yield chunk


def event_stream(*chunks: bytes | Exception, log: list[str] | None = None) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "x-request-id": "req_stream"},
        stream=Chunks(list(chunks), log),
    )


class Upstream:
    """Answers in turn (the last one repeats) and records each request."""

    def __init__(self, *answers: httpx.Response | Callable[[], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer() if callable(answer) else answer

    def client(self) -> httpx.Client:
        transport = httpx.MockTransport(self.handle)
        return httpx.Client(base_url="https://api.cometapi.com/v1", transport=transport)


def stream(
    upstream: Upstream,
    on_partial: Callable[[PartialImage], None] | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[GenerationResult, list[float]]:
    sleeps: list[float] = []
    result = generate(
        gpt_image_1(),
        PROMPT,
        STREAM_OPTIONS if options is None else options,
        client=upstream.client(),
        on_partial=on_partial,
        sleep=sleeps.append,
    )
    return result, sleeps


def stream_failure(upstream: Upstream) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        stream(upstream)
    return caught.value


def test_it_asks_for_a_stream_with_partial_images() -> None:
    upstream = Upstream(event_stream(completed()))

    stream(upstream)

    body = json.loads(upstream.requests[0].content)
    assert (body["stream"], body["partial_images"], body["n"]) == (True, 2, 1)


def test_it_delivers_partials_in_order_while_streaming_before_the_final_image() -> None:
    log: list[str] = []
    upstream = Upstream(event_stream(partial(0), partial(1), completed(), log=log))

    def on_partial(image: PartialImage) -> None:
        log.append(f"partial {image.index}")
        assert image.data == PARTIALS[image.index]

    result, _ = stream(upstream, on_partial)
    log.append("result")

    assert log == [
        "sent chunk 0",
        "partial 0",
        "sent chunk 1",
        "partial 1",
        "sent chunk 2",
        "result",
    ]
    assert result.images[0].data == PNG


def test_it_returns_the_completed_image_with_its_usage_and_echoed_settings() -> None:
    result, _ = stream(Upstream(event_stream(partial(0), completed())))

    assert [image.data for image in result.images] == [PNG]
    assert result.usage == USAGE
    assert result.returned_settings == ECHOED
    assert result.created == 1_790_000_001
    assert result.request_id == "req_stream"
    assert result.attempts == 1


def test_it_accepts_fewer_partials_than_asked_for() -> None:
    partials: list[PartialImage] = []

    result, _ = stream(Upstream(event_stream(completed())), partials.append)

    assert partials == []
    assert result.images[0].data == PNG


def test_it_parses_events_split_across_chunks_with_crlf_comments_and_a_done_line() -> None:
    raw = partial(0).replace(b"\n", b"\r\n") + b": keep-alive\n\n" + completed()
    chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)] + [b"data: [DONE]\n\n"]
    partials: list[PartialImage] = []

    result, _ = stream(Upstream(event_stream(*chunks)), partials.append)

    assert [p.index for p in partials] == [0]
    assert result.images[0].data == PNG


def test_it_fails_with_stream_incomplete_when_the_stream_ends_without_completed() -> None:
    upstream = Upstream(event_stream(partial(0), partial(1)))

    raised = stream_failure(upstream)

    assert (raised.code, raised.retryable, raised.attempts) == ("stream_incomplete", True, 1)
    assert len(upstream.requests) == 1  # the image may have been billed: no automatic retry
    assert raised.request_id == "req_stream"


def test_it_treats_done_before_completed_as_an_incomplete_stream() -> None:
    raised = stream_failure(Upstream(event_stream(partial(0), b"data: [DONE]\n\n")))

    assert raised.code == "stream_incomplete"


def test_it_drops_an_event_cut_off_by_the_end_of_the_stream() -> None:
    raised = stream_failure(Upstream(event_stream(completed()[:-2])))

    assert raised.code == "stream_incomplete"


def test_it_fails_on_an_error_event_without_retrying() -> None:
    error = {"type": "error", "error": {"message": "The server had an error.", "code": "x"}}
    upstream = Upstream(event_stream(partial(0), sse(error, "error")))

    raised = stream_failure(upstream)

    assert (raised.code, raised.retryable, raised.attempts) == ("upstream_unavailable", True, 1)
    assert len(upstream.requests) == 1


def test_it_fails_on_any_event_whose_data_has_a_top_level_error() -> None:
    error = {"error": {"message": "Rejected by the safety system.", "code": "moderation_blocked"}}
    upstream = Upstream(event_stream(sse(error)))

    raised = stream_failure(upstream)

    assert (raised.code, raised.retryable, raised.attempts) == ("moderation_blocked", False, 1)


def test_it_fails_on_an_event_that_is_not_json() -> None:
    raised = stream_failure(Upstream(event_stream(sse("<html>", "message"))))

    assert (raised.code, raised.attempts) == ("bad_response", 1)


def test_it_fails_when_the_completed_image_is_not_an_image() -> None:
    raised = stream_failure(Upstream(event_stream(completed(b"%PDF-1.7"))))

    assert (raised.code, raised.retryable) == ("bad_image", False)


def test_it_skips_a_partial_that_is_not_an_image_and_still_returns_the_final() -> None:
    bad = sse(
        {"type": "image_generation.partial_image", "b64_json": "!!", "partial_image_index": 0}
    )
    partials: list[PartialImage] = []

    result, _ = stream(Upstream(event_stream(bad, partial(1), completed())), partials.append)

    assert [p.index for p in partials] == [1]
    assert result.images[0].data == PNG


def test_it_does_not_retry_a_read_timeout_in_the_middle_of_a_stream() -> None:
    timeout = httpx.ReadTimeout("The read operation timed out")
    upstream = Upstream(event_stream(partial(0), timeout))

    raised = stream_failure(upstream)

    assert (raised.code, raised.retryable, raised.attempts) == ("timeout", True, 1)
    assert len(upstream.requests) == 1


def test_it_retries_failures_before_the_stream_starts_like_any_request() -> None:
    overloaded = httpx.Response(503, json={"error": {"message": "busy", "code": None}})
    upstream = Upstream(overloaded, lambda: event_stream(completed()))

    result, sleeps = stream(upstream)

    assert result.attempts == 2
    assert len(sleeps) == 1


def test_it_maps_an_http_error_before_the_stream_starts() -> None:
    body = {"error": {"message": "quota", "code": "insufficient_quota"}}
    upstream = Upstream(httpx.Response(429, json=body))

    raised = stream_failure(upstream)

    assert (raised.code, raised.retryable, raised.attempts) == ("insufficient_quota", False, 1)


def test_it_accepts_an_ordinary_json_answer_to_a_stream_request() -> None:
    answer = httpx.Response(200, json={"created": 5, "data": [{"b64_json": b64(PNG)}]})

    result, _ = stream(Upstream(answer))

    assert result.images[0].data == PNG
    assert result.created == 5


def test_an_exception_raised_by_on_partial_stops_the_generation_unchanged() -> None:
    class Cancelled(Exception):
        pass

    def on_partial(image: PartialImage) -> None:
        raise Cancelled

    upstream = Upstream(event_stream(partial(0), completed()))

    with pytest.raises(Cancelled):
        stream(upstream, on_partial)
    assert len(upstream.requests) == 1


def test_iter_events_joins_data_lines_and_defaults_the_event_name() -> None:
    lines = ["event: ping", "data: a", "data: b", "", ": comment", "data:c", "", "data: cut"]

    assert list(iter_events(lines)) == [
        ServerSentEvent("ping", "a\nb"),
        ServerSentEvent("message", "c"),
    ]
