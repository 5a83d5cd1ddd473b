"""The offline provider: a stand-in for CometAPI's image endpoint, plugged in as an httpx transport.

What the rest of the studio may use is named here; nothing outside reaches into the modules:
  transport.py    OfflineProvider, the transport: routes, latency, URL results, faults
  answers.py      what answers carry: the pictures, token counts, the event stream
  requests.py     parse_generation: validates a generation request as the real endpoint does
  edits.py        read_form, parse_edit, draw_edit: multipart edits of uploaded images
  references.py   read_references: Seedream's `image` data URIs, shown in the picture
  keys.py         the bearer key: any is accepted; the test shapes `revoked` and `few-models`
  faults.py       the failures it can imitate (FAULT_NAMES), from a queue or `[fault:NAME]`
  model_lists.py  GET /models and CometAPI's public GET /api/models
  drawing.py      draw_image: the deterministic pictures (png, jpeg, webp, gif, svg)
  scene.py, svg.py  what a picture shows, and its SVG rendering
"""

from imagegen.offline.drawing import FRAME_COUNTS, MIME_TYPES, draw_image
from imagegen.offline.edits import Edit, draw_edit, parse_edit, read_form
from imagegen.offline.faults import BODY_FAULTS, FAULT_NAMES
from imagegen.offline.keys import FEW_MODELS
from imagegen.offline.model_lists import OFFERED, RETIRED, models_page, public_catalogue
from imagegen.offline.requests import Generation, Refused, catalogue_names, parse_generation
from imagegen.offline.transport import OfflineProvider

__all__ = [
    "BODY_FAULTS",
    "FAULT_NAMES",
    "FEW_MODELS",
    "FRAME_COUNTS",
    "MIME_TYPES",
    "OFFERED",
    "RETIRED",
    "Edit",
    "Generation",
    "OfflineProvider",
    "Refused",
    "catalogue_names",
    "draw_edit",
    "draw_image",
    "models_page",
    "parse_edit",
    "parse_generation",
    "public_catalogue",
    "read_form",
]
