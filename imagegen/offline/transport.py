"""The offline provider: an httpx transport that answers like CometAPI's image endpoint.

It is the upstream whenever COMETAPI_KEY is unset, and the one the tests use. Only the transport
changes, so imagegen/service/ runs the same code online and offline. It answers any host:
  POST …/images/generations          validates like the real endpoint (requests.py), reads
                                     Seedream's reference images (references.py), draws
  POST …/images/edits                multipart edits of uploaded images (edits.py), same answers
  GET  …/offline-files/<token>.<ext> a URL result, re-drawn from its signed token; expires (403)
  GET  …/api/models                  CometAPI's public catalogue, no key needed (model_lists.py)
  GET  …/models                      the models the offline key may use (model_lists.py)
  anything else                      an HTML page, as CometAPI answers a wrong path (api.md §5)
Keys (keys.py): any bearer key is accepted, or none; a key containing `revoked` is refused with
the real 401 `invalid_api_key`, and one containing `few-models` is offered fewer models by
GET /models (keys.py documents both shapes). Faults (faults.py) come from the constructor's
queue, which generations, edits and both model lists take from in turn, or from a `[fault:NAME]`
in a prompt; a directive with an unknown name is ignored, as the real endpoint would ignore it.
"""

import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
from django.conf import settings
from django.core import signing

from imagegen.offline.answers import (
    EventStream,
    draw,
    drawing_options,
    seedream_usage,
    sse,
    usage,
)
from imagegen.offline.drawing import MIME_TYPES, draw_image
from imagegen.offline.edits import Edit, parse_edit, read_form
from imagegen.offline.faults import (
    FAULT_NAMES,
    HTML_PAGE,
    NOT_AN_IMAGE,
    bucket_error,
    encode_image,
    fault_response,
    invalid_request,
    json_response,
    unparseable,
)
from imagegen.offline.keys import FEW_MODELS, offers_few, refused
from imagegen.offline.model_lists import models_page, public_catalogue
from imagegen.offline.references import ReferenceStore, read_references
from imagegen.offline.requests import Generation, Refused, parse_generation

logger = logging.getLogger(__name__)

GENERATIONS_PATH = "/images/generations"
EDITS_PATH = "/images/edits"
FILES_PATH = "/offline-files/"
MODELS_PATH = "/models"
CATALOGUE_PATH = "/api/models"  # on the host's root, not under /v1
_SIGNING_SALT = "imagegen.offline.files"
_GPT_IMAGE = "gpt-image"  # the family whose answers echo their settings and carry usage
_SEEDREAM = "seedream"  # answers with the images it made counted in its usage
_DIRECTIVE = re.compile(r"\[fault:([a-z0-9_]+)\]")


class OfflineProvider(httpx.BaseTransport):
    """Answers image requests locally. One instance is safe to share between threads."""

    def __init__(
        self,
        *,
        latency: float | None = None,
        faults: Iterable[str] = (),
        url_lifetime: float = 3600,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        extra_models: Callable[[], Iterable[str]] | None = None,
        models_down: bool = False,
    ) -> None:
        """`extra_models` names more models for GET /models to offer (read on each request);
        `models_down` makes both model lists answer 503, as when the upstream is down."""
        queued = list(faults)
        if unknown := sorted(set(queued) - FAULT_NAMES):
            raise ValueError(f"Unknown fault {', '.join(unknown)}; known: {sorted(FAULT_NAMES)}")
        self._latency = latency
        self._faults = deque(queued)
        self._faults_lock = threading.Lock()
        self._url_lifetime = url_lifetime
        self._clock = clock
        self._sleep = sleep
        self._extra_models = extra_models
        self._models_down = models_down
        self._references = ReferenceStore()  # for URL results drawn again when fetched

    @property
    def latency(self) -> float:
        """Seconds per generation. None reads the setting on each request, so overrides apply."""
        return settings.OFFLINE_LATENCY if self._latency is None else self._latency

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request_id = f"req_{secrets.token_hex(16)}"
        path = request.url.path
        keyed = FILES_PATH not in path and not path.endswith(CATALOGUE_PATH)
        if keyed and (answer := refused(request, request_id)):
            return answer
        if request.method == "POST" and path.endswith(GENERATIONS_PATH):
            return self._generate(request, request_id)
        if request.method == "POST" and path.endswith(EDITS_PATH):
            return self._edit(request, request_id)
        if request.method == "GET" and FILES_PATH in path:
            return self._serve_file(request, request_id)
        if request.method == "GET" and path.endswith((CATALOGUE_PATH, MODELS_PATH)):
            return self._list_models(request, request_id)
        headers = {"content-type": "text/html; charset=utf-8", "x-request-id": request_id}
        return httpx.Response(200, headers=headers, content=HTML_PAGE.encode())

    def _next_fault(self) -> str | None:
        with self._faults_lock:
            return self._faults.popleft() if self._faults else None

    def _list_models(self, request: httpx.Request, request_id: str) -> httpx.Response:
        fault = "unavailable" if self._models_down else self._next_fault()
        # A body fault (None here) spoils generated images; a list has none, so it answers.
        if fault and (answer := fault_response(fault, request, request_id, self._clock)):
            return answer
        if request.url.path.endswith(CATALOGUE_PATH):
            body = public_catalogue()
        else:
            extra = self._extra_models() if self._extra_models else ()
            body = models_page(extra, created=int(self._clock()))
            if offers_few(request):
                body["data"] = [item for item in body["data"] if item["id"] in FEW_MODELS]
        return json_response(200, json.dumps(body).encode(), request_id)

    def _generate(self, request: httpx.Request, request_id: str) -> httpx.Response:
        # The queue is consumed by every generation request, whatever happens next.
        fault = self._next_fault()
        body = _read_json(request)
        if fault is None and isinstance(body, dict):
            fault = _directive(body.get("prompt"))
        if fault and (answer := fault_response(fault, request, request_id, self._clock)):
            return answer
        if body is None:
            return unparseable(request, request_id)
        try:
            generation = read_references(parse_generation(body))
        except Refused as refused:
            return _refusal(refused, request_id)
        # What arrived, as a real upstream's request log would show it (reference images are
        # counted, not logged: they are whole pictures).
        received = {
            name: (f"<{len(value)} images>" if isinstance(value, list) else value)
            for name, value in generation.received.items()
        }
        logger.info(
            "offline provider received model=%s parameters=%s",
            generation.spec.name,
            json.dumps(received, sort_keys=True),
        )
        return self._answer(request, request_id, generation, fault)

    def _edit(self, request: httpx.Request, request_id: str) -> httpx.Response:
        # Faults as for a generation: the queue first, else a directive in the prompt field.
        fault = self._next_fault()
        form = read_form(request)
        if fault is None:
            fault = _directive(form.fields.get("prompt"))
        if fault and (answer := fault_response(fault, request, request_id, self._clock)):
            return answer
        try:
            edit = parse_edit(form)
        except Refused as refused:
            return _refusal(refused, request_id)
        logger.info(
            "offline provider received an edit model=%s images=%d mask=%s parameters=%s",
            edit.generation.spec.name,
            edit.image_count,
            edit.region is not None,
            json.dumps(edit.generation.received, sort_keys=True),
        )
        return self._answer(request, request_id, edit.generation, fault, edit)

    def _answer(
        self,
        request: httpx.Request,
        request_id: str,
        generation: Generation,
        fault: str | None,
        edit: Edit | None = None,
    ) -> httpx.Response:
        if generation.stream:
            headers = {"content-type": "text/event-stream", "x-request-id": request_id}
            events = EventStream(self._events(generation, fault, edit))
            return httpx.Response(200, headers=headers, stream=events)
        if self.latency > 0:
            self._sleep(self.latency)
        images = [
            self._image(request, generation, index, fault, edit) for index in range(generation.n)
        ]
        answer: dict[str, Any] = {"created": int(self._clock()), "data": images}
        if generation.spec.family == _GPT_IMAGE:
            answer |= generation.echoed_settings() | {"usage": usage(generation, edit)}
        elif generation.spec.family == _SEEDREAM:  # api.md §1: each image's size, usage, model
            for item in images:
                item["size"] = f"{generation.width}x{generation.height}"
            answer |= {"usage": seedream_usage(generation), "model": generation.spec.name}
        return json_response(200, json.dumps(answer).encode(), request_id)

    def _image(
        self,
        request: httpx.Request,
        generation: Generation,
        index: int,
        fault: str | None,
        edit: Edit | None = None,
    ) -> dict[str, str]:
        item: dict[str, str] = {}
        # An edit is always sent as base64: a URL token could not carry its input images.
        if generation.response_format == "url" and fault != "bad_base64" and edit is None:
            item["url"] = self._file_url(request, generation, index, fault)
        else:
            item["b64_json"] = encode_image(draw(generation, index, edit=edit), fault)
        if generation.spec.returns_revised_prompt:
            item["revised_prompt"] = generation.revised_prompt()
        return item

    def _events(
        self, generation: Generation, fault: str | None, edit: Edit | None = None
    ) -> Iterator[bytes]:
        """The SSE blocks of a streamed generation or edit, drawn one by one as the client reads."""
        pause = self.latency / (generation.partial_images + 1)
        for index in range(generation.partial_images):
            self._pause(pause)
            # Sharper with each partial: 0.4 for the last, 0.16 before it, and so on.
            detail = 0.4 ** (generation.partial_images - index)
            b64 = encode_image(draw(generation, 0, detail, edit=edit))
            event = self._stream_event(generation, "partial_image", b64, edit)
            yield sse(event | {"partial_image_index": index})
        if fault == "stream_cut":
            return
        if fault == "stream_error":
            # No error event is documented; the SDK fails on any event with a top-level "error".
            error = {"message": "The server had an error.", "type": "server_error", "param": None}
            yield sse({"type": "error", "error": error | {"code": "server_error"}}, name="error")
            return
        self._pause(pause)
        b64 = encode_image(draw(generation, 0, edit=edit), fault)
        event = self._stream_event(generation, "completed", b64, edit)
        yield sse(event | {"usage": usage(generation, edit)})

    def _stream_event(
        self, generation: Generation, kind: str, b64: str, edit: Edit | None = None
    ) -> dict[str, Any]:
        prefix = "image_generation" if edit is None else "image_edit"
        event = {"type": f"{prefix}.{kind}", "b64_json": b64}
        return event | {"created_at": int(self._clock())} | generation.echoed_settings()

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    def _file_url(
        self, request: httpx.Request, generation: Generation, index: int, fault: str | None
    ) -> str:
        """A URL on this same transport whose signed token says what to draw and until when."""
        lifetime = -1 if fault == "expired_url" else self._url_lifetime
        token = signing.dumps(
            {
                "prompt": generation.prompt,
                "size": [generation.width, generation.height],
                "format": generation.output_format,
                "index": index,
                "options": drawing_options(generation),
                "expires": self._clock() + lifetime,
                "junk": fault == "not_an_image",
                "references": self._references.keep(generation.references),
            },
            salt=_SIGNING_SALT,
            compress=True,
        )
        prefix = request.url.path.removesuffix(GENERATIONS_PATH)
        path = f"{prefix}{FILES_PATH}{token}.{generation.output_format}"
        return str(request.url.copy_with(path=path, query=None))

    def _serve_file(self, request: httpx.Request, request_id: str) -> httpx.Response:
        token, _, extension = request.url.path.rpartition(FILES_PATH)[2].rpartition(".")
        try:
            file = signing.loads(token, salt=_SIGNING_SALT)
        except signing.BadSignature:
            return bucket_error(403, "SignatureDoesNotMatch", "Bad signature.", request_id)
        if self._clock() >= file["expires"]:
            return bucket_error(403, "AccessDenied", "Request has expired", request_id)
        references = self._references.find(file.get("references"))
        if extension != file["format"] or references is None:
            return bucket_error(404, "NoSuchKey", "The key does not exist.", request_id)
        if file["junk"]:
            data = NOT_AN_IMAGE
        else:
            width, height = file["size"]
            options = {"fmt": file["format"], "references": references} | file["options"]
            data = draw_image(file["prompt"], width, height, variant=file["index"], **options)
        headers = {"content-type": MIME_TYPES[file["format"]], "x-request-id": request_id}
        return httpx.Response(200, headers=headers, content=data)


def _refusal(refused: Refused, request_id: str) -> httpx.Response:
    return invalid_request(
        refused.message,
        request_id,
        param=refused.param,
        code=refused.code,
        status=refused.status,
    )


def _read_json(request: httpx.Request) -> Any:
    """The JSON body, or None when it is not JSON (or not sent as JSON)."""
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type:
        return None
    try:
        return json.loads(request.read())
    except ValueError:
        return None


def _directive(prompt: object) -> str | None:
    if isinstance(prompt, str) and (found := _DIRECTIVE.search(prompt)):
        return found.group(1) if found.group(1) in FAULT_NAMES else None
    return None
