"""Parsing a text/event-stream body (server-sent events) into events.

Only what the image endpoint uses: `event:` and `data:` fields, comment lines, and dispatch on a
blank line (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str  # "message" when the stream named no event type
    data: str  # the data lines joined with "\n"


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Yield each complete event; an event cut off by the end of the stream is dropped."""
    event, data = "", []
    for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment, often sent as a keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        # `id` and `retry` matter only to browsers that reconnect; the endpoint does not resume.
