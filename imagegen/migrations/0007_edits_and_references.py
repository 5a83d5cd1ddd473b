"""Parameters say which endpoint takes them, and jobs say which endpoint they go to (issue 10).

Each row's schema gains what the edits endpoint needs to be described as data (api.md §7):
`moderation` is generations-only (OpenAI's multipart edit has no such field); a Seedream `image`
list is generations-only; an editing model gains its edits-only `image` list (16 images, the
first one edited); gpt-image-1 and 1.5 gain the edits-only `input_fidelity`. Everything an
administrator changed is kept: only missing entries and keys are added, so an unedited shipped
row comes out equal to the shipped schema (tests/test_migrations.py). An output format offering
GIF or SVG becomes generations-only, beside a raster one for edits (the edits endpoint is
documented for raster output only), with the GIF's frames generations-only; a `seed` is marked
`new_on_vary`. Going back removes what was added.
"""

import copy

from django.db import migrations, models

GENERATIONS_ONLY = ["generations"]
EDITS_ONLY = ["edits"]
# Frozen copies of the shipped entries as this migration adds them.
EDIT_IMAGES = {"name": "image", "kind": "images", "label": "Reference images", "maximum": 16,
               "endpoints": EDITS_ONLY}  # fmt: skip
INPUT_FIDELITY = {"name": "input_fidelity", "kind": "choice", "label": "Input fidelity",
                  "help": "High keeps faces and details of the input images.",
                  "choices": ["low", "high"], "default": "low", "endpoints": EDITS_ONLY}  # fmt: skip
FIDELITY_MODELS = {"gpt-image-1", "gpt-image-1.5"}
RASTER = ("png", "jpeg", "webp")
GIF_FRAMES = ("frame_count", "frame_duration_ms")


def describe_endpoints(apps, schema_editor):
    ImageModel = apps.get_model("imagegen", "ImageModel")
    for row in ImageModel.objects.all():
        parameters = copy.deepcopy(row.schema.get("parameters", []))
        for parameter in parameters:
            if "endpoints" in parameter:
                continue
            if parameter["name"] == "moderation":
                parameter["endpoints"] = GENERATIONS_ONLY
            elif parameter["kind"] == "images" and not row.can_edit:
                parameter["endpoints"] = GENERATIONS_ONLY
        for parameter in parameters:
            if parameter["name"] == "seed" and parameter["kind"] == "integer":
                parameter.setdefault("new_on_vary", True)
        _raster_edits_only(parameters)
        names = [parameter["name"] for parameter in parameters]
        if row.name in FIDELITY_MODELS and "input_fidelity" not in names:
            after = names.index("moderation") + 1 if "moderation" in names else len(names)
            parameters.insert(after, dict(INPUT_FIDELITY))
        edits_images = any(
            p["kind"] == "images" and "edits" in p.get("endpoints", ["generations", "edits"])
            for p in parameters
        )
        if row.can_edit and not edits_images and "image" not in names:
            parameters.append(dict(EDIT_IMAGES))
        if parameters != row.schema.get("parameters", []):
            row.schema = {**row.schema, "parameters": parameters}
            row.save(update_fields=["schema"])


def _raster_edits_only(parameters):
    """GIF and SVG output is documented for generations only: such an output format becomes
    generations-only (with the GIF's frames), beside a raster one for edits."""
    formats = [p for p in parameters if p["name"] == "output_format"]
    if len(formats) != 1 or "endpoints" in formats[0]:
        return
    choices = formats[0].get("choices", [])
    raster = [c for c in choices if c in RASTER]
    if raster == choices or not raster:
        return
    formats[0]["endpoints"] = GENERATIONS_ONLY
    edits = {**formats[0], "choices": raster, "endpoints": EDITS_ONLY}
    if edits.get("default") not in raster:
        edits["default"] = raster[0]
    parameters.insert(parameters.index(formats[0]) + 1, edits)
    for parameter in parameters:
        if parameter["name"] in GIF_FRAMES and "endpoints" not in parameter:
            parameter["endpoints"] = GENERATIONS_ONLY


def forget_endpoints(apps, schema_editor):
    ImageModel = apps.get_model("imagegen", "ImageModel")
    for row in ImageModel.objects.all():
        parameters = []
        for parameter in row.schema.get("parameters", []):
            if parameter.get("endpoints") == EDITS_ONLY:
                continue  # the old code would send it on generations
            added = {"endpoints", "new_on_vary"}
            parameters.append({key: v for key, v in parameter.items() if key not in added})
        row.schema = {**row.schema, "parameters": parameters}
        row.save(update_fields=["schema"])


class Migration(migrations.Migration):
    dependencies = [
        ("imagegen", "0006_model_schemas"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="endpoint",
            field=models.CharField(
                choices=[("generations", "Generate"), ("edits", "Edit")],
                default="generations",
                help_text="Edits are sent as multipart forms with their input images.",
                max_length=20,
                verbose_name="endpoint",
            ),
        ),
        migrations.RunPython(describe_endpoints, forget_endpoints),
    ]
