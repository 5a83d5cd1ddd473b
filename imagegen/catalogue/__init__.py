"""The model catalogue: what each image model takes, returns and when it ends.

- `schema`: the one check of chosen values against a model's schema, `resolve()`; `spec` holds
  the schema as the code reads it (`ModelSpec`, `Parameter`, `Rule`), `wording` its messages,
  `sizes` and `labels` its vocabulary.
- `checks`: refuses a schema that would break the form (admin and import use it).
- `body`: the request body, built from the schema.
- `shipped`: the models the studio ships, as data.
- `sync` (imagegen.catalogue.sync): the live model list and prices, read from the upstream.

The rest of the code imports from here, never from the modules behind it.
"""

from imagegen.catalogue.body import build_edit_fields, build_request_body
from imagegen.catalogue.checks import SCHEMA_SHAPE, readable, schema_errors
from imagegen.catalogue.labels import CUSTOM_SIZE, value_label
from imagegen.catalogue.schema import check_value, resolve
from imagegen.catalogue.shipped import BASIC_SCHEMA, SHIPPED_MODELS, shipped_model, shipped_spec
from imagegen.catalogue.sizes import SizeRange, parse_size, pixels_of
from imagegen.catalogue.spec import (
    EDITS,
    ENDPOINTS,
    FAMILIES,
    GENERATIONS,
    RESULT_KINDS,
    SPEC_FACTS,
    ModelSpec,
    N,
    Parameter,
    Problem,
    Rule,
)
from imagegen.catalogue.wording import condition_text, label_of, list_text

__all__ = [
    "BASIC_SCHEMA",
    "CUSTOM_SIZE",
    "EDITS",
    "ENDPOINTS",
    "FAMILIES",
    "GENERATIONS",
    "RESULT_KINDS",
    "SCHEMA_SHAPE",
    "SHIPPED_MODELS",
    "SPEC_FACTS",
    "ModelSpec",
    "N",
    "Parameter",
    "Problem",
    "Rule",
    "SizeRange",
    "build_edit_fields",
    "build_request_body",
    "check_value",
    "condition_text",
    "label_of",
    "list_text",
    "parse_size",
    "pixels_of",
    "readable",
    "resolve",
    "schema_errors",
    "shipped_model",
    "shipped_spec",
    "value_label",
]
