"""GIF files walked block by block: frames and their extents, and our metadata in a comment."""

import io
import json
import time

import pytest
from PIL import Image as PILImage

from gallery import gif
from gallery.embedding import embed_metadata, read_metadata, strip_metadata
from tests.conftest import gif_bytes

DOCUMENT = {"prompt": "夕日の海辺 · a harbour at dusk", "app": {"name": "image-studio"}}


def with_comment(data: bytes, text: bytes) -> bytes:
    """`data` with someone else's comment extension before its trailer."""
    at = gif.layout(data).trailer
    return data[:at] + b"\x21\xfe" + bytes([len(text)]) + text + b"\x00" + data[at:]


def test_the_layout_lists_every_frame_with_its_extent() -> None:
    found = gif.layout(gif_bytes(("red", "green", "blue"), size=(30, 20)))

    assert found.screen == found.canvas == (30, 20)
    assert [(f.left, f.top, f.right, f.bottom) for f in found.frames] == [(0, 0, 30, 20)] * 3


def test_the_walk_stops_once_there_are_more_frames_than_allowed() -> None:
    with pytest.raises(gif.TooManyFrames):
        gif.layout(gif_bytes(("red", "green", "blue")), max_frames=2)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GIF89a", id="header-only"),
        pytest.param(gif_bytes()[:-1], id="no-trailer"),
        pytest.param(gif_bytes()[:-30], id="cut-in-a-frame"),
        pytest.param(b"GIF89a" + bytes(7) + b";", id="no-frame"),
        pytest.param(b"GIF89a" + bytes(7) + b"?;", id="unknown-block"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="not-a-gif"),
    ],
)
def test_a_malformed_or_cut_short_file_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        gif.layout(data)


def test_the_metadata_travels_in_a_comment_and_every_frame_stays() -> None:
    data = gif_bytes()

    embedded = embed_metadata(data, "gif", "parameters text", DOCUMENT)

    assert read_metadata(embedded) == DOCUMENT
    [(_start, _end, comment)] = gif.layout(embedded).comments
    assert comment.isascii()
    assert strip_metadata(embedded, "gif") == data
    with PILImage.open(io.BytesIO(embedded)) as im:
        assert (im.n_frames, im.info["loop"]) == (3, 0)


def test_embedding_again_replaces_our_comment_and_keeps_anyone_elses() -> None:
    data = with_comment(gif_bytes(), b"made by someone")

    once = embed_metadata(data, "gif", "", DOCUMENT)
    twice = embed_metadata(once, "gif", "", DOCUMENT | {"prompt": "another"})

    texts = [comment for _start, _end, comment in gif.layout(twice).comments]
    assert texts[0] == b"made by someone"
    assert len(texts) == 2
    assert json.loads(texts[1].removeprefix(gif.MARKER))["prompt"] == "another"
    assert strip_metadata(twice, "gif") == data


def test_a_gif87a_is_left_as_it_came() -> None:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8), "red").save(out, "GIF")
    data = out.getvalue()

    assert embed_metadata(data, "gif", "", DOCUMENT) == data
    assert read_metadata(data) == {}


def test_a_gif_of_endless_empty_comments_is_refused_quickly() -> None:
    frame = gif_bytes()
    trailer_at = frame.rindex(b";")
    bloated = frame[:trailer_at] + b"\x21\xfe\x00" * 1_000_000 + b";"
    started = time.perf_counter()
    with pytest.raises(ValueError, match="too many GIF extension blocks"):
        gif.layout(bloated)
    assert time.perf_counter() - started < 1.0
