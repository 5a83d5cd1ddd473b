"""The generation app's data: the model catalogue (catalogue.py), the jobs (jobs.py), saved
presets (presets.py), each person's profile (people.py: their time zone), their budgets and limits
(allowances.py) and their own API key (keys.py); wrong passwords (password_attempts.py)."""

from imagegen.models.allowances import Allowance, AllowanceQuerySet, Limits
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
from imagegen.models.keys import KeyUnreadable, PersonalKey
from imagegen.models.password_attempts import FailedPasswordAttempt, FailedPasswordAttemptQuerySet
from imagegen.models.people import Profile
from imagegen.models.presets import Preset, PresetQuerySet

__all__ = [
    "EXPORTED_FIELDS",
    "FINISHED",
    "UNFINISHED",
    "Allowance",
    "AllowanceQuerySet",
    "FailedPasswordAttempt",
    "FailedPasswordAttemptQuerySet",
    "Generation",
    "GenerationQuerySet",
    "ImageModel",
    "ImageModelQuerySet",
    "KeyUnreadable",
    "Limits",
    "PersonalKey",
    "Preset",
    "PresetQuerySet",
    "Profile",
    "UpstreamModel",
    "UpstreamModelQuerySet",
    "WorkerProcess",
    "default_schema",
]
