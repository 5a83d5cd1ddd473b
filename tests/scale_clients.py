"""The scale run's people: browsers that sign in through the real login form and use the real
pages, behind a round-robin balancer that retries on another web process when one is gone (what
an nginx `upstream` does). Used by tests/scale_run.py.
"""

import itertools
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx

IMAGE_LINK = re.compile(r'href="/images/([0-9a-f-]{36})/"')
JOB_TOKEN = re.compile(r'name="job" value="([^"]+)" data-job-state')
CREATED_JOB = re.compile(r"^/generations/([0-9a-f-]{36})/$")
# A request whose answer never came: the web process died with it.
ANSWER_LOST = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)
NOT_SENT = (httpx.ConnectError,)  # nothing listens there: safe to send anywhere else


class NoWebProcess(Exception):
    """Every web process refused the request."""


class Recorder:
    """What the clients saw: seconds per request by page kind, and the unexpected answers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.unexpected: Counter[str] = Counter()  # "kind: status"
        self.retries = 0  # sent again to another web process: the first was down or died
        self.answers_lost = 0  # of those, submits whose answer was lost (sent again as they were)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.seconds[kind].append(seconds)

    def count(self, field: str, key: str = "") -> None:
        with self.lock:
            if field == "unexpected":
                self.unexpected[key] += 1
            else:
                setattr(self, field, getattr(self, field) + 1)


class Balancer:
    """Round robin over the web processes; a request goes to the next one when its own is down."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.turn = itertools.count()
        self.lock = threading.Lock()

    def order(self) -> list[str]:
        with self.lock:
            first = next(self.turn) % len(self.urls)
        return self.urls[first:] + self.urls[:first]


class FormFields(HTMLParser):
    """The fields a browser would send for the form posting to `action`, as (name, value)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        if not self.inside or "disabled" in found or (tag != "option" and "name" not in found):
            return
        if tag == "input":
            kind = found.get("type", "text")
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in found:
                return
            default = "on" if kind == "checkbox" else ""
            self.fields.append((found["name"], found.get("value", default)))
        elif tag == "select":
            self.select, self.options = found["name"], []
        elif tag == "option" and self.select:
            self.options.append((found.get("value", ""), "selected" in found))
        elif tag == "textarea":
            self.textarea, self.text = found["name"], ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.options if selected] or [
                value for value, _ in self.options[:1]
            ]
            self.fields.extend((self.select, value) for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data


def form_fields(page: str, action: str) -> dict[str, list[str]]:
    reader = FormFields(action)
    reader.feed(page)
    fields: dict[str, list[str]] = defaultdict(list)
    for name, value in reader.fields:
        fields[name].append(value)
    if not fields:
        raise AssertionError(f"no form posting to {action} on the page")
    return dict(fields)


class Browser:
    """One person's browser: its own cookies, any web process for each request."""

    def __init__(self, balancer: Balancer, recorder: Recorder) -> None:
        self.balancer = balancer
        self.recorder = recorder
        self.http = httpx.Client(timeout=120, follow_redirects=False)

    def request(
        self, kind: str, method: str, path: str, expected: set[int], **options: Any
    ) -> httpx.Response:
        """Send to the next web process, then to the others while they refuse it or die with
        it. A POST whose answer was lost is sent again as it was only if `resend` says so
        (the form's token makes that safe); seconds are counted from the first try."""
        resend = options.pop("resend", method == "GET")
        started = time.perf_counter()
        for tries, base in enumerate(self.balancer.order()):
            if tries:
                self.recorder.count("retries")
            try:
                response = self.http.request(method, base + path, **options)
            except NOT_SENT:
                continue
            except ANSWER_LOST:
                if not resend:
                    raise
                if method == "POST":
                    self.recorder.count("answers_lost")
                continue
            self.recorder.record(kind, time.perf_counter() - started)
            if response.status_code not in expected:
                self.recorder.count("unexpected", f"{kind}: {response.status_code}")
            return response
        raise NoWebProcess(f"{method} {path}: no web process answered")

    def sign_in(self, username: str, password: str) -> None:
        page = self.request("sign-in", "GET", "/accounts/login/", {200})
        fields = form_fields(page.text, "/accounts/login/")
        fields.update(username=[username], password=[password])
        answer = self.request("sign-in", "POST", "/accounts/login/", {302}, data=fields)
        if answer.status_code != 302:
            raise AssertionError(f"{username} could not sign in: {answer.status_code}")

    def submit(self, prompt: str) -> str:
        """The generate form, filled in and posted as a browser without JavaScript would;
        returns the id of the job it made."""
        for _ in range(10):  # an error page is counted (unexpected answers); then try again
            page = self.request("generate form", "GET", "/generate/", {200})
            if page.status_code == 200:
                break
            time.sleep(1)
        fields = form_fields(page.text, "/generate/")
        fields["prompt"] = [prompt]
        answer = self.request("submit", "POST", "/generate/", {302}, data=fields, resend=True)
        made = CREATED_JOB.match(answer.headers.get("location", ""))
        if not made:
            raise AssertionError(f"the submit was refused ({answer.status_code}): {answer.text}")
        return made.group(1)

    def browse_once(self) -> None:
        """The pages a person goes through: the gallery, an image and its thumbnail, the
        generate page, and its poll for the jobs still running there."""
        gallery = self.request("gallery", "GET", "/images/", {200})
        shown = IMAGE_LINK.findall(gallery.text)
        if shown:
            image = random.choice(shown)
            self.request("image page", "GET", f"/images/{image}/", {200})
            thumbnail = self.request("thumbnail", "GET", f"/images/{image}/thumbnail", {200, 302})
            if thumbnail.status_code == 302:  # object storage: a signed URL, fetched from there
                self.fetch_signed(thumbnail.headers["location"])
        page = self.request("generate form", "GET", "/generate/", {200})
        running = JOB_TOKEN.findall(page.text)
        if running:
            poll = [("job", token) for token in running]
            self.request("status poll", "GET", "/generations/status/", {200, 286}, params=poll)

    def fetch_signed(self, url: str) -> None:
        started = time.perf_counter()
        answer = httpx.get(url, timeout=120)  # no cookies: the signature is the permission
        self.recorder.record("signed file", time.perf_counter() - started)
        if answer.status_code != 200:
            self.recorder.count("unexpected", f"signed file: {answer.status_code}")

    def close(self) -> None:
        self.http.close()


class Task(threading.Thread):
    """A piece of work in a thread of its own; a failure is kept for whoever joins it."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as failure:  # reported by the caller, after join()
            self.failure = failure
