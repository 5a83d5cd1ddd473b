"""service.download_image: bounded, key-free fetches of URL results."""

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from imagegen import service
from imagegen.downloads import looks_like_image
from imagegen.service import UpstreamError, download_image
from tests.conftest import gif_bytes, svg_bytes

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
URL = "https://cdn.example/images/abc.png?sig=1"
KEY = "sk-live-0123456789abcdefSECRET"

type Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class Host:
    """A scripted image host: answers in turn (the last one repeats) and records requests."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), headers=headers)


class Chunks(httpx.SyncByteStream):
    """A body sent chunk by chunk, counting how many chunks were read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk


class Clock:
    """A clock that moves on by `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def image(status: int = 200, content: bytes = PNG, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content, headers={"content-type": "image/png", **headers})


def fetch(
    host: Host,
    url: str = URL,
    *,
    client: httpx.Client | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[bytes, list[float]]:
    sleeps: list[float] = []
    data = download_image(url, client=client or host.client(), sleep=sleeps.append, clock=clock)
    return data, sleeps


def fetch_fails(
    host: Host, url: str = URL, *, clock: Callable[[], float] = time.monotonic
) -> tuple[UpstreamError, list[float]]:
    sleeps: list[float] = []
    with pytest.raises(UpstreamError) as caught:
        download_image(url, client=host.client(), sleep=sleeps.append, clock=clock)
    assert caught.value.code == "download_failed"
    return caught.value, sleeps


def test_it_downloads_an_image() -> None:
    host = Host(image())

    data, sleeps = fetch(host)

    assert (data, sleeps) == (PNG, [])
    assert str(host.requests[0].url) == URL
    assert host.requests[0].method == "GET"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(gif_bytes(), id="gif89a"),
        pytest.param(b"GIF87a" + bytes(20), id="gif87a"),
        pytest.param(svg_bytes(), id="svg-with-xml-declaration"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', id="bare-svg"),
        pytest.param(
            b"\xef\xbb\xbf\n  <?xml version='1.0'?>\n<!-- made by a model -->\n<!---->\n<svg\n>",
            id="svg-after-bom-whitespace-declaration-and-comments",
        ),
    ],
)
def test_gif_and_svg_look_like_images(data: bytes) -> None:
    assert looks_like_image(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"junk that is not an image", id="junk"),
        pytest.param(b"<!DOCTYPE html><html><body><svg></svg></body></html>", id="html-page"),
        pytest.param(b"<html><svg></svg></html>", id="html-without-doctype"),
        pytest.param(b"<!DOCTYPE svg><svg/>", id="svg-with-doctype"),
        pytest.param(b"<!-- <svg> --><html></html>", id="svg-only-in-a-comment"),
        pytest.param(b"<svgx/>", id="another-element"),
        pytest.param(b'{"error": "<svg>"}', id="json"),
        pytest.param(b"<?xml version='1.0'?><html><svg/></html>", id="xhtml"),
    ],
)
def test_junk_and_html_do_not_look_like_images(data: bytes) -> None:
    assert not looks_like_image(data)


def test_it_downloads_an_svg() -> None:
    drawing = svg_bytes()
    host = Host(httpx.Response(200, content=drawing, headers={"content-type": "image/svg+xml"}))

    data, _sleeps = fetch(host)

    assert data == drawing


def test_it_never_sends_the_api_key_even_when_handed_a_client_that_carries_it(settings) -> None:
    settings.COMETAPI_KEY = KEY
    host = Host(image())
    client = host.client(headers={"Authorization": f"Bearer {KEY}"})

    fetch(host, client=client)

    assert "Authorization" not in host.requests[0].headers
    assert KEY not in str(host.requests[0].headers)


def test_the_default_download_client_has_no_authorization_header(settings) -> None:
    settings.COMETAPI_KEY = KEY

    client = service.clients.download_client()

    assert "Authorization" not in client.headers
    assert client.follow_redirects is False
    assert client is not service.get_client()


def test_it_refuses_an_image_whose_content_length_is_too_large_before_reading_it(
    settings,
) -> None:
    settings.DOWNLOAD_MAX_BYTES = 1000
    body = Chunks(iter([PNG] * 100))
    host = Host(httpx.Response(200, headers={"content-length": "5000000"}, stream=body))

    raised, sleeps = fetch_fails(host)

    assert "too large" in raised.message
    assert (raised.retryable, raised.attempts, sleeps) == (False, 1, [])
    assert body.sent == 0


def test_it_stops_reading_an_undeclared_body_once_it_passes_the_limit(settings) -> None:
    settings.DOWNLOAD_MAX_BYTES = 4096

    def endless() -> Iterator[bytes]:
        yield PNG
        while True:
            yield bytes(1024)

    body = Chunks(endless())
    host = Host(httpx.Response(200, stream=body))

    raised, _ = fetch_fails(host)

    assert "too large" in raised.message
    assert raised.retryable is False
    assert body.sent <= 6


def test_it_gives_up_when_the_overall_deadline_passes_mid_body(settings) -> None:
    settings.DOWNLOAD_TIMEOUT = 10.0
    body = Chunks(iter([PNG] + [bytes(10)] * 100))  # every chunk arrives in time, but slowly
    host = Host(httpx.Response(200, stream=body))

    raised, sleeps = fetch_fails(host, clock=Clock(step=1.0))

    assert "took too long" in raised.message
    assert raised.retryable is True
    assert (raised.attempts, sleeps) == (1, [])  # no time left to try again
    assert body.sent < 15


def test_it_bounds_each_read_by_what_is_left_of_the_deadline(settings) -> None:
    settings.DOWNLOAD_TIMEOUT = 10.0
    host = Host(image())

    fetch(host, clock=Clock(step=2.0))

    timeouts = host.requests[0].extensions["timeout"]
    assert 0 < timeouts["read"] <= 8.0
    assert 0 < timeouts["connect"] <= 8.0


def test_it_refuses_a_body_that_is_not_an_image() -> None:
    raised, _ = fetch_fails(Host(image(content=b"<html>Access denied</html>")))

    assert "not lead to an image" in raised.message
    assert (raised.retryable, raised.attempts) == (False, 1)


@pytest.mark.parametrize("status", [403, 404, 410])
def test_it_reports_an_expired_link_without_retrying(status: int) -> None:
    body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    host = Host(image(status, body, **{"content-type": "application/xml"}))

    raised, sleeps = fetch_fails(host)

    assert "expired" in raised.message
    assert (raised.retryable, raised.status, raised.attempts, sleeps) == (False, status, 1, [])


def test_it_refuses_another_non_200_answer_without_retrying() -> None:
    raised, _ = fetch_fails(Host(image(204, b"")))

    assert (raised.retryable, raised.status, raised.attempts) == (False, 204, 1)


def test_it_retries_a_failing_image_host_a_bounded_number_of_times() -> None:
    host = Host(image(503, b"busy"))

    raised, sleeps = fetch_fails(host)

    assert (raised.retryable, raised.attempts, len(host.requests)) == (True, 3, 3)
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


def test_it_recovers_from_a_transient_failure_and_honours_retry_after() -> None:
    host = Host(image(429, b"slow down", **{"retry-after": "1"}), image())

    data, sleeps = fetch(host)

    assert (data, sleeps) == (PNG, [1.0])


def raise_connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def raise_read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("raiser", "reason"),
    [(raise_connect_error, "connection failed"), (raise_read_timeout, "took too long")],
)
def test_it_retries_connection_errors_and_timeouts(
    raiser: Callable[[httpx.Request], httpx.Response], reason: str
) -> None:
    host = Host(raiser)

    raised, sleeps = fetch_fails(host)

    assert reason in raised.message
    assert (raised.retryable, raised.attempts, len(sleeps)) == (True, 3, 2)
    assert "Errno" not in raised.message


def test_it_refuses_a_plain_http_link_when_online(settings) -> None:
    settings.COMETAPI_KEY = KEY
    host = Host(image())

    raised, _ = fetch_fails(host, "http://cdn.example/a.png")

    assert "not https" in raised.message
    assert raised.retryable is False
    assert host.requests == []


def test_it_allows_a_plain_http_link_offline(settings) -> None:
    settings.COMETAPI_KEY = ""

    data, _ = fetch(Host(image()), "http://localhost:8000/offline-files/a.png")

    assert data == PNG


@pytest.mark.parametrize(
    "url",
    ["ftp://cdn.example/a.png", "file:///etc/passwd", "data:image/png;base64,AAAA", "", "//x/"],
)
def test_it_refuses_a_link_that_is_not_a_web_address(url: str) -> None:
    host = Host(image())

    raised, _ = fetch_fails(host, url)

    assert raised.retryable is False
    assert host.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/a.png",
        "https://10.0.0.8/a.png",
        "https://[::1]/a.png",
        "https://localhost/a",
    ],
)
def test_it_refuses_an_internal_address_when_online(settings, url: str) -> None:
    settings.COMETAPI_KEY = KEY
    host = Host(image())

    raised, _ = fetch_fails(host, url)

    assert "inside the network" in raised.message
    assert host.requests == []


def test_it_follows_a_few_redirects_checking_each_hop_and_sending_no_key(settings) -> None:
    settings.COMETAPI_KEY = KEY
    host = Host(
        httpx.Response(302, headers={"location": "https://cdn2.example/b.png"}),
        httpx.Response(307, headers={"location": "/c.png"}),
        image(),
    )
    client = host.client(headers={"Authorization": f"Bearer {KEY}"})

    data, _ = fetch(host, client=client)

    assert data == PNG
    assert [str(r.url) for r in host.requests] == [
        URL,
        "https://cdn2.example/b.png",
        "https://cdn2.example/c.png",
    ]
    assert all("Authorization" not in r.headers for r in host.requests)


def test_it_refuses_a_redirect_to_plain_http_when_online(settings) -> None:
    settings.COMETAPI_KEY = KEY
    host = Host(httpx.Response(302, headers={"location": "http://cdn.example/a.png"}), image())

    raised, _ = fetch_fails(host)

    assert "not https" in raised.message
    assert len(host.requests) == 1


def test_it_stops_after_too_many_redirects() -> None:
    host = Host(httpx.Response(302, headers={"location": "https://cdn.example/again.png"}))

    raised, sleeps = fetch_fails(host)

    assert "redirected too many times" in raised.message
    assert (raised.retryable, sleeps) == (False, [])
    assert len(host.requests) == 4
