"""SVG results, never trusted: checked by a strict parser, measured, and drawn by resvg.

An SVG is a document, not a picture: it can run script, load files from anywhere, nest other
documents and expand entities. One is kept only when it is a plain drawing: no DOCTYPE or entity
(billion laughs, XXE), no script, event handler or `javascript:`, no foreign content, and no
reference outside itself but a raster image carried inline as a data URI. It is kept byte for
byte as checked; gallery.media serves it with headers that keep it inert even so.

expat does the parsing, with a handler that stops at the first DOCTYPE: entities are never
declared, so never expanded or fetched. The thumbnail is drawn by resvg, which is given a box no
bigger than a thumbnail, so a drawing that claims a huge size never allocates one.
"""

import base64
import binascii
import io
import math
import re
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes
from xml.parsers import expat

import resvg_py
from django.conf import settings
from django.utils.translation import gettext_noop
from PIL import Image as PILImage

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
MAX_ELEMENTS = 50_000
# resvg walks the tree recursively: a deep nest must not exhaust a worker's stack.
MAX_DEPTH = 256
# Elements drawn once every <use> is expanded: each <use> of a group that itself uses a group
# doubles the work, so a few kilobytes can ask for billions of shapes.
MAX_DRAWN = 200_000
DEFAULT_SIZE = 1024  # the size of a drawing that states none
EMBEDDED = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
PX_PER_UNIT = {"": 1.0, "px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "pt": 96 / 72}
PX_PER_UNIT["pc"] = 16.0

MALFORMED = gettext_noop("The SVG drawing is malformed.")
DECLARATIONS = gettext_noop(
    "The SVG drawing declares a DOCTYPE or entities, which are not accepted."
)
SCRIPTED = gettext_noop(
    "The SVG drawing contains scripts or event handlers, which are not accepted."
)
FOREIGN = gettext_noop("The SVG drawing embeds foreign content, which is not accepted.")
EXTERNAL = gettext_noop(
    "The SVG drawing refers to something outside itself, which is not accepted."
)
TOO_COMPLEX = gettext_noop("The SVG drawing is too complex.")
NOT_DRAWN = gettext_noop("The SVG drawing could not be drawn.")

# Elements that run script or show another kind of document; compared in lower case.
SCRIPT_ELEMENTS = {"script", "handler", "listener"}
FOREIGN_ELEMENTS = {"foreignobject", "iframe", "embed", "object", "base"}
LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*")
NUMBER = re.compile(r"[-+]?(?:[0-9]*\.[0-9]+|[0-9]+\.?)(?:[eE][-+]?[0-9]+)?")
URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.IGNORECASE)
DATA_IMAGE = re.compile(
    r"data:image/(png|jpeg|webp|gif)((?:;[^,]*)?),(.*)", re.IGNORECASE | re.DOTALL
)
# Browsers ignore control characters and spaces inside a scheme: "java\tscript:" runs.
SCHEME_NOISE = re.compile(r"[\x00-\x20]+")


class Refused(Exception):
    """The drawing is not one we keep; `message` (English, marked for translation) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSvg(Exception):
    """Markup, but not an SVG drawing: an HTML page, say."""


@dataclass(frozen=True)
class Drawing:
    text: str  # the document, decoded
    width: int
    height: int


def check(data: bytes) -> Drawing:
    """`data` as a drawing that is safe to keep; raises Refused or NotSvg."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(MALFORMED) from None
    walk = _Walk()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = walk.doctype
    parser.EntityDeclHandler = walk.declaration
    parser.ExternalEntityRefHandler = walk.declaration
    parser.ProcessingInstructionHandler = walk.instruction
    parser.StartElementHandler = walk.start
    parser.EndElementHandler = walk.end
    parser.CharacterDataHandler = walk.characters
    try:
        parser.Parse(text, True)
    except expat.ExpatError:
        if not walk.children:  # not even a root element: not markup we know
            raise NotSvg from None
        raise Refused(MALFORMED) from None
    if walk.drawn() > MAX_DRAWN:
        raise Refused(TOO_COMPLEX)
    width, height = walk.size
    return Drawing(text, width, height)


def render_png(drawing: Drawing, box: int) -> bytes:
    """The drawing as a PNG that fits in `box` pixels square (never larger than its own size)."""
    scale = min(1.0, box / max(drawing.width, drawing.height))
    width = max(1, round(drawing.width * scale))
    height = max(1, round(drawing.height * scale))
    try:
        # resvg fits its own idea of the size into width x height, keeping the proportions.
        rendered = resvg_py.svg_to_bytes(
            svg_string=drawing.text, width=width, height=height, dpi=96.0
        )
    except (ValueError, RuntimeError):
        raise Refused(NOT_DRAWN) from None
    except BaseException as error:
        # A panic inside resvg reaches Python as pyo3's PanicException, a BaseException with no
        # importable name: a drawing resvg cannot draw, not a reason to stop the worker.
        if type(error).__name__ != "PanicException":
            raise
        raise Refused(NOT_DRAWN) from None
    return bytes(rendered)


@dataclass
class _Walk:
    """expat's handlers: every element and attribute checked as the parser meets it."""

    children: list[list[int]] = field(default_factory=list)  # per element, in document order
    uses: dict[int, str] = field(default_factory=dict)  # element -> the id it draws again
    ids: dict[str, int] = field(default_factory=dict)
    open: list[int] = field(default_factory=list)
    style: list[str] | None = None  # the text of the <style> element being read
    style_element: int = -1
    embedded_pixels: int = 0
    size: tuple[int, int] = (DEFAULT_SIZE, DEFAULT_SIZE)

    def doctype(self, name: str, *args: object) -> None:
        if name.rpartition(":")[2] != "svg":
            raise NotSvg  # an HTML page, say
        raise Refused(DECLARATIONS)  # before its internal subset is read: nothing is declared

    def declaration(self, *args: object) -> None:
        raise Refused(DECLARATIONS)

    def instruction(self, target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":  # a style sheet from elsewhere
            raise Refused(EXTERNAL)

    def start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        element = len(self.children)
        if element == 0 and (namespace, local) != (SVG_NAMESPACE, "svg"):
            raise NotSvg
        if element >= MAX_ELEMENTS or len(self.open) >= MAX_DEPTH:
            raise Refused(TOO_COMPLEX)
        if local.lower() in SCRIPT_ELEMENTS:
            raise Refused(SCRIPTED)
        if local.lower() in FOREIGN_ELEMENTS or namespace == XHTML_NAMESPACE:
            raise Refused(FOREIGN)
        if self.open:
            self.children[self.open[-1]].append(element)
        self.children.append([])
        self.open.append(element)
        for attribute, value in attributes.items():
            self._attribute(element, local, attribute, value)
        if element == 0:
            self.size = _size(attributes)
        if local == "style":
            self.style, self.style_element = [], element

    def end(self, name: str) -> None:
        if self.open.pop() == self.style_element and self.style is not None:
            self._css("".join(self.style))
            self.style = None

    def characters(self, text: str) -> None:
        if self.style is not None:
            self.style.append(text)

    def _attribute(self, element: int, tag: str, name: str, value: str) -> None:
        namespace, _, local = name.rpartition(" ")
        local = local.lower()
        if local.startswith("on"):
            raise Refused(SCRIPTED)
        squeezed = SCHEME_NOISE.sub("", value).lower()
        if "javascript:" in squeezed or "vbscript:" in squeezed:
            raise Refused(SCRIPTED)
        if namespace == XML_NAMESPACE and local == "base":
            raise Refused(EXTERNAL)  # would turn "#id" into an address elsewhere
        if local == "id":
            self.ids.setdefault(value.strip(), element)
        elif local in ("href", "src"):
            target = self._reference(value)
            if tag in ("use", "feImage") and target:
                self.uses[element] = target
        elif local == "attributename":  # an animation would set the attribute it names
            animated = value.strip().rpartition(":")[2].lower()
            if animated.startswith("on"):
                raise Refused(SCRIPTED)
            if animated in ("href", "src"):
                raise Refused(EXTERNAL)  # its values are never checked as references
        if local == "style":
            self._css(value)
        else:
            self._urls(value)

    def _css(self, text: str) -> None:
        if "javascript:" in SCHEME_NOISE.sub("", text).lower():
            raise Refused(SCRIPTED)
        lowered = text.lower()
        # A CSS escape can spell url( or a scheme that the checks below would not see.
        if "\\" in text or "@import" in lowered or "image-set(" in lowered:
            raise Refused(EXTERNAL)
        self._urls(text)

    def _urls(self, text: str) -> None:
        found = URL.findall(text)
        if len(found) != text.lower().count("url("):
            raise Refused(MALFORMED)  # a url( that does not close as CSS would read it
        for quoted, single, bare in found:
            self._reference(quoted or single or bare)

    def _reference(self, value: str) -> str:
        """The id a reference names, or "" for an inline raster image; Refused otherwise."""
        value = value.strip()
        if value.startswith("#") and len(value) > 1:
            return value[1:]
        match = DATA_IMAGE.fullmatch(value)
        if match is None:  # another document, an address, or an SVG nested as a data URI
            raise Refused(EXTERNAL)
        self._embedded(match[1].lower(), match[2], match[3])
        return ""

    def _embedded(self, kind: str, parameters: str, payload: str) -> None:
        """An inline raster image, checked from its header as ingest checks any image."""
        try:
            if ";base64" in parameters.lower():
                raw = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
            else:
                raw = unquote_to_bytes(payload)
            with warnings.catch_warnings():
                warnings.simplefilter("error", PILImage.DecompressionBombWarning)
                with PILImage.open(io.BytesIO(raw), formats=[EMBEDDED[kind]]) as im:
                    width, height = im.size
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
            raise Refused(TOO_COMPLEX) from None
        except (binascii.Error, OSError, SyntaxError, ValueError, struct.error, zlib.error):
            raise Refused(MALFORMED) from None
        self.embedded_pixels += width * height
        # resvg decodes every embedded image in full, at its own size.
        if width * height > settings.IMAGE_MAX_PIXELS or (
            self.embedded_pixels > 4 * settings.IMAGE_MAX_PIXELS
        ):
            raise Refused(TOO_COMPLEX)

    def drawn(self) -> int:
        """How many elements are drawn once every <use> is expanded (capped past MAX_DRAWN)."""
        count = [0] * len(self.children)
        state = [0] * len(self.children)  # 0 not seen, 1 being counted, 2 counted
        stack = [0] if self.children else []
        while stack:
            element = stack[-1]
            after = list(self.children[element])
            if (target := self.ids.get(self.uses.get(element, ""))) is not None:
                after.append(target)
            if state[element] == 0:
                state[element] = 1
                for other in after:
                    if state[other] == 1:  # a <use> that draws one of its own ancestors
                        raise Refused(TOO_COMPLEX)
                    if state[other] == 0:
                        stack.append(other)
                continue
            stack.pop()
            if state[element] == 1:
                total = 1 + sum(count[other] for other in after)
                count[element], state[element] = min(total, MAX_DRAWN + 1), 2
        return count[0] if count else 0


def _size(attributes: dict[str, str]) -> tuple[int, int]:
    """Width and height from the root's width and height, else its viewBox, else the default."""
    width, height = _length(attributes.get("width")), _length(attributes.get("height"))
    box = _view_box(attributes.get("viewBox"))
    if box is not None:
        if width is None and height is None:
            width, height = box
        elif width is None and height is not None:
            width = height * box[0] / box[1]
        elif height is None and width is not None:
            height = width * box[1] / box[0]
    # A drawing with a huge size is refused by the caller's pixel limit, like any image.
    return max(1, round(width or DEFAULT_SIZE)), max(1, round(height or DEFAULT_SIZE))


def _length(value: str | None) -> float | None:
    """A length in pixels; None for a relative one (%, em), which an image has nothing to
    measure against."""
    match = LENGTH.fullmatch(value or "")
    if match is None or match[2].lower() not in PX_PER_UNIT:
        return None
    pixels = float(match[1]) * PX_PER_UNIT[match[2].lower()]
    return pixels if 0 < pixels < 1e9 else None


def _view_box(value: str | None) -> tuple[float, float] | None:
    numbers = [float(n) for n in NUMBER.findall(value or "")]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        return None
    width, height = numbers[2], numbers[3]
    return (width, height) if 0 < width < 1e9 and 0 < height < 1e9 else None
