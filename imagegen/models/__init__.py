"""The generation app's data: the model catalogue (catalogue.py), the jobs (jobs.py) and saved
presets (presets.py)."""

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
from imagegen.models.presets import Preset, PresetQuerySet

__all__ = [
    "EXPORTED_FIELDS",
    "FINISHED",
    "UNFINISHED",
    "Generation",
    "GenerationQuerySet",
    "ImageModel",
    "ImageModelQuerySet",
    "Preset",
    "PresetQuerySet",
    "UpstreamModel",
    "UpstreamModelQuerySet",
    "WorkerProcess",
    "default_schema",
]
