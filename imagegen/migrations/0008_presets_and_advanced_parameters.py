"""Saved presets, and parameters marked "advanced" (issue 11).

Each row's schema marks `response_format` (URL or base64 results: how the bytes travel, not
what the image looks like) as `advanced`, so the form shows it under its closed "Advanced".
Everything an administrator changed is kept: the key is added only where it is missing. An
entry still exactly as the studio shipped it also takes the new shipped default, base64 (see
imagegen/catalogue/shipped.py for why); an edited entry keeps its own. So an unedited shipped
row comes out equal to the shipped schema (tests/test_migration_0008.py). Going back removes
the key and gives the entries it changed their old default.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Frozen copies of the shipped entry before and after this migration.
OLD_RESPONSE_FORMAT = {"name": "response_format", "kind": "choice", "label": "Response format",
                       "choices": ["url", "b64_json"], "default": "url", "send_default": True}  # fmt: skip
NEW_RESPONSE_FORMAT = {**OLD_RESPONSE_FORMAT, "default": "b64_json", "advanced": True}
ADVANCED_NAMES = {"response_format"}


def mark_advanced(apps, schema_editor):
    ImageModel = apps.get_model("imagegen", "ImageModel")
    for row in ImageModel.objects.all():
        parameters = []
        for parameter in row.schema.get("parameters", []):
            if parameter == OLD_RESPONSE_FORMAT:
                parameter = dict(NEW_RESPONSE_FORMAT)
            elif parameter.get("name") in ADVANCED_NAMES and "advanced" not in parameter:
                parameter = {**parameter, "advanced": True}
            parameters.append(parameter)
        if parameters != row.schema.get("parameters", []):
            row.schema = {**row.schema, "parameters": parameters}
            row.save(update_fields=["schema"])


def unmark_advanced(apps, schema_editor):
    ImageModel = apps.get_model("imagegen", "ImageModel")
    for row in ImageModel.objects.all():
        parameters = []
        for parameter in row.schema.get("parameters", []):
            if parameter == NEW_RESPONSE_FORMAT:
                parameter = dict(OLD_RESPONSE_FORMAT)
            parameters.append({key: v for key, v in parameter.items() if key != "advanced"})
        if parameters != row.schema.get("parameters", []):
            row.schema = {**row.schema, "parameters": parameters}
            row.save(update_fields=["schema"])


class Migration(migrations.Migration):
    dependencies = [
        ("imagegen", "0007_edits_and_references"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Preset",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("model_name", models.CharField(max_length=100, verbose_name="model")),
                (
                    "values",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="The model's options, as sent.",
                        verbose_name="options",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="presets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            options={
                "verbose_name": "preset",
                "verbose_name_plural": "presets",
                "ordering": ["name", "created_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "name"), name="preset_name_unique_per_owner"
                    )
                ],
            },
        ),
        migrations.RunPython(mark_advanced, unmark_advanced),
    ]
