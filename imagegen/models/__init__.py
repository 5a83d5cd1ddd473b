"""The generation app's data: the model catalogue (catalogue.py), the jobs (jobs.py), saved
presets (presets.py) and each person's profile (people.py: their time zone)."""

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
from imagegen.models.people import Profile
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
    "Profile",
    "UpstreamModel",
    "UpstreamModelQuerySet",
    "WorkerProcess",
    "default_schema",
]
