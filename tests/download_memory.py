"""Many large downloads at once, and the memory they take: for tests/test_download_memory.py and
bench/downloads.py.

    python -m tests.download_memory URL [--threads 64] [--hold 0.05] [--whole]

Runs in a process of its own (so its memory is only this): starts THREADS threads that each
fetch URL through the studio's own path (imagegen.service.downloaded_image, an httpx client:
downloads.py's checks, the spool to a temporary file, the process's memory budget) and hold
the bytes for HOLD seconds, as ingest would; prints one JSON line: the resident memory before
and at its peak, tracemalloc's peak, the budget's peak, and how many downloads were kept or
refused. With --whole, each thread reads its whole body into memory instead, as downloads did
before the budget (the bench's "before"). `slow_server()` serves the bodies, slowly, on loopback.
"""

import argparse
import http.server
import json
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

PNG_START = b"\x89PNG\r\n\x1a\n"
CHUNK = 64 * 1024


class SlowBodies(http.server.BaseHTTPRequestHandler):
    """GET /<bytes>: a PNG-looking body of that many bytes, in 64 KiB chunks a little apart,
    with no Content-Length (so the client cannot refuse it before reading)."""

    protocol_version = "HTTP/1.1"
    pause = 0.005

    def do_GET(self) -> None:
        size = int(self.path.strip("/"))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = PNG_START + bytes(CHUNK - len(PNG_START))
        sent = 0
        try:
            while sent < size:
                part = chunk[: min(CHUNK, size - sent)]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sent += len(part)
                time.sleep(self.pause)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client refused an oversized body part way

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def slow_server() -> Iterator[str]:
    """A threaded HTTP server on a free loopback port; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowBodies)
    server.daemon_threads = True
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def resident_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(urls: list[str], *, hold: float, whole: bool) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
    django.setup()
    import httpx

    from imagegen import downloads, service

    # A real client on a real socket (offline, the studio's own client answers from the offline
    # provider), with a connection for every thread, as COMETAPI_MAX_CONNECTIONS gives a worker.
    client = httpx.Client(limits=httpx.Limits(max_connections=len(urls) + 1))

    def fetch_whole(url: str) -> None:  # before: the body joined in memory, as it was
        with client.stream("GET", url) as response:
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > downloads.settings.DOWNLOAD_MAX_BYTES:
                    raise service.UpstreamError("download_failed", "too large", retryable=False)
                chunks.append(chunk)
            data = b"".join(chunks)
        time.sleep(hold)
        del data

    def fetch(url: str) -> None:
        with service.downloaded_image(url, client=client, max_retries=0):
            time.sleep(hold)

    fetch_one = fetch_whole if whole else fetch
    fetch_one(urls[0].rsplit("/", 1)[0] + "/1000")  # imports and the client, before the baseline
    kept = refused = 0
    lock = threading.Lock()

    def run(url: str) -> None:
        nonlocal kept, refused
        try:
            fetch_one(url)
            outcome = "kept"
        except service.UpstreamError:
            outcome = "refused"
        with lock:
            if outcome == "kept":
                kept += 1
            else:
                refused += 1

    threads = [threading.Thread(target=run, args=(url,)) for url in urls]
    baseline = resident_bytes()
    samples = [baseline]
    done = threading.Event()

    def sample() -> None:  # the resident memory every 5 ms, for its peak
        while not done.wait(0.005):
            samples.append(resident_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tracemalloc.start()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    done.set()
    sampler.join()
    return {
        "baseline_rss": baseline,
        "rss_growth": max(samples) - baseline,
        "traced_peak": traced_peak,
        "budget": downloads.settings.DOWNLOAD_MEMORY_BUDGET,
        "budget_peak": downloads.memory_budget().peak,
        "kept": kept,
        "refused": refused,
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--hold", type=float, default=0.05)
    parser.add_argument("--whole", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(args.urls, hold=args.hold, whole=args.whole)))


if __name__ == "__main__":
    main()
