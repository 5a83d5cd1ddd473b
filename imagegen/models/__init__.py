"""The generation app's data: the model catalogue (catalogue.py) and the jobs (jobs.py)."""

from imagegen.models.catalogue import (
    EXPORTED_FIELDS,
    ImageModel,
    ImageModelQuerySet,
    UpstreamModel,
    UpstreamModelQuerySet,
    default_schema,
)
from imagegen.models.jobs import (
    FINISHED,
    UNFINISHED,
    Generation,
    GenerationQuerySet,
    WorkerProcess,
)

__all__ = [
    "EXPORTED_FIELDS",
    "FINISHED",
    "UNFINISHED",
    "Generation",
    "GenerationQuerySet",
    "ImageModel",
    "ImageModelQuerySet",
    "UpstreamModel",
    "UpstreamModelQuerySet",
    "WorkerProcess",
    "default_schema",
]
