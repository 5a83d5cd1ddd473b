"""GIF files read block by block, without decoding a pixel: frames, their extents, comments.

Pillow grows its canvas to fit a frame that reaches past the logical screen and only learns of a
frame by decoding the one before it, so the limits on frames and on their sizes are checked here,
on the bytes, before Pillow decodes anything (gallery.verify). The same walk places our metadata
in a comment extension (GIF89a's only text block) and finds it again.
"""

from dataclasses import dataclass

SIGNATURES = (b"GIF87a", b"GIF89a")
EXTENSION, IMAGE, TRAILER = 0x21, 0x2C, 0x3B
COMMENT_LABEL = 0xFE
# Marks the comment we write, so that re-embedding replaces it and stripping takes out ours only.
MARKER = b"image-studio:"

# A real GIF has a few per frame (timing, the loop count, a comment): far below this.
MAX_EXTENSIONS = 10_000


class TooManyFrames(ValueError):
    """The file has more frames than the caller allows; raised before walking the rest."""


@dataclass(frozen=True)
class Frame:
    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class Layout:
    screen: tuple[int, int]  # the logical screen's width and height, from the header
    frames: list[Frame]
    comments: list[tuple[int, int, bytes]]  # (start, end, text) of each comment extension
    trailer: int  # offset of the trailer byte

    @property
    def canvas(self) -> tuple[int, int]:
        """What a decoder draws on: the screen, grown to hold every frame (as Pillow does)."""
        width, height = self.screen
        for frame in self.frames:
            width, height = max(width, frame.right), max(height, frame.bottom)
        return width, height


def layout(data: bytes, *, max_frames: int | None = None) -> Layout:
    """The blocks of a GIF file; ValueError if it is not one, or is cut short or malformed."""
    if not data.startswith(SIGNATURES) or len(data) < 13:
        raise ValueError("not a GIF file")
    screen = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    pos = 13 + _colour_table_size(data[10])
    frames: list[Frame] = []
    comments: list[tuple[int, int, bytes]] = []
    extensions = 0
    while pos < len(data):
        start, introducer = pos, data[pos]
        if introducer == TRAILER:
            if not frames:
                raise ValueError("GIF file without an image")
            return Layout(screen, frames, comments, start)
        if introducer == EXTENSION:
            if pos + 2 > len(data):
                raise ValueError("GIF extension cut short")
            extensions += 1
            if extensions > MAX_EXTENSIONS:  # millions of empty comments cost seconds to walk
                raise ValueError("too many GIF extension blocks")
            label = data[pos + 1]
            pos, payload = _sub_blocks(data, pos + 2, keep=label == COMMENT_LABEL)
            if label == COMMENT_LABEL:
                comments.append((start, pos, payload))
        elif introducer == IMAGE:
            if pos + 10 > len(data):
                raise ValueError("GIF image descriptor cut short")
            left, top, width, height = (
                int.from_bytes(data[pos + i : pos + i + 2], "little") for i in (1, 3, 5, 7)
            )
            frames.append(Frame(left, top, width, height))
            if max_frames is not None and len(frames) > max_frames:
                raise TooManyFrames(f"more than {max_frames} frames")
            # Descriptor, local colour table, LZW code size, then the image data's sub-blocks.
            pos += 10 + _colour_table_size(data[pos + 9]) + 1
            pos, _payload = _sub_blocks(data, pos, keep=False)
        else:
            raise ValueError(f"unknown GIF block {introducer:#x}")
    raise ValueError("GIF file without its trailer")


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _sub_blocks(data: bytes, pos: int, *, keep: bool) -> tuple[int, bytes]:
    """The offset after a chain of sub-blocks starting at `pos`, and their joined bytes if kept."""
    parts = []
    while True:
        if pos >= len(data):
            raise ValueError("GIF data cut short")
        size = data[pos]
        if size == 0:
            return pos + 1, b"".join(parts)
        if pos + 1 + size > len(data):
            raise ValueError("GIF data cut short")
        if keep:
            parts.append(data[pos + 1 : pos + 1 + size])
        pos += 1 + size


def embed_comment(data: bytes, document: str) -> bytes:
    """`data` with `document` (JSON, ASCII only) in a comment extension before the trailer.

    At the end, where no decoder looks for anything it needs (the loop count and the frames all
    come before it); a comment of ours from an earlier save is replaced, never duplicated.
    """
    found = layout(data)
    if data.startswith(b"GIF87a"):
        # GIF87a has no extension blocks; making it GIF89a would change the original's bytes
        # beyond the one block we add, so such a file keeps its metadata in the row alone.
        return data
    # A comment holds 7-bit ASCII text: the caller's JSON escapes everything else.
    text = MARKER + document.encode("ascii")
    block = bytearray([EXTENSION, COMMENT_LABEL])
    for offset in range(0, len(text), 255):
        part = text[offset : offset + 255]
        block += bytes([len(part)]) + part
    block.append(0)
    kept = _without(data[: found.trailer], _ours(found))
    return kept + bytes(block) + data[found.trailer :]


def read_comment(data: bytes) -> str | None:
    """The JSON document embed_comment() wrote, or None."""
    for _start, _end, text in layout(data).comments:
        if text.startswith(MARKER):
            return text[len(MARKER) :].decode("ascii", "replace")
    return None


def strip_comment(data: bytes) -> bytes:
    """`data` without the comment embed_comment() wrote; any other comment stays."""
    return _without(data, _ours(layout(data)))


def _ours(found: Layout) -> list[tuple[int, int]]:
    return [(start, end) for start, end, text in found.comments if text.startswith(MARKER)]


def _without(data: bytes, drop: list[tuple[int, int]]) -> bytes:
    out, cursor = [], 0
    for start, end in drop:
        out.append(data[cursor:start])
        cursor = end
    out.append(data[cursor:])
    return b"".join(out)
