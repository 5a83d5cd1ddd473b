"""Each model's parameters move from one column per OpenAI parameter into one schema document.

Every row's columns, administrators' edits included, become the equivalent schema: an unedited
shipped row comes out equal to the shipped schema (tests/test_migrations.py checks it). Shipped
facts (end dates, replacements, result kinds) are filled in for the shipped names, and the models
shipped since (GPT Image 2.5/2.6, Seedream) are added. Going back rebuilds the columns.
"""

from datetime import date

from django.db import migrations, models

import imagegen.models

# (parameter, list column, default column, English label) in the order the form showed them.
CHOICE_COLUMNS = [
    ("quality", "qualities", "default_quality", "Quality"),
    ("style", "styles", "default_style", "Style"),
    ("response_format", "response_formats", "default_response_format", "Response format"),
    ("output_format", "output_formats", "default_output_format", "Output format"),
    ("background", "backgrounds", "default_background", "Background"),
    ("moderation", "moderations", "default_moderation", "Moderation"),
]
GPT_IMAGE_2_SIZES = {
    "multiple_of": 16, "max_edge": 3840, "max_ratio": 3.0, "min_pixels": 655_360,
    "max_pixels": 8_294_400,
}  # fmt: skip
# The facts the old columns did not hold, for the names shipped before this migration.
SHIPPED_FACTS = {
    "dall-e-3": {"retires_on": date(2026, 5, 12), "replacement": "gpt-image-2"},
    "dall-e-2": {"retires_on": date(2026, 5, 12), "replacement": "gpt-image-2"},
    "gpt-image-1": {"retires_on": date(2026, 10, 23), "replacement": "gpt-image-2"},
    "gpt-image-1-mini": {"retires_on": date(2026, 12, 1), "replacement": "gpt-image-2.6-flare"},
    "gpt-image-1.5": {
        "retires_on": date(2026, 12, 1),
        "replacement": "gpt-image-2.6-sunburst",
        "released_on": date(2025, 12, 16),
    },
    "gpt-image-2": {"released_on": date(2026, 4, 21)},
}
# Where migration 0002 put the shipped models; a row still there was never moved by hand.
POSITIONS_2025 = {"dall-e-3": 0, "dall-e-2": 10, "gpt-image-2": 20, "gpt-image-1.5": 30,
                  "gpt-image-1": 40, "gpt-image-1-mini": 50, "qwen-image": 60}  # fmt: skip
NEW_FIELDS = [
    "label", "family", "position", "prompt_max_length", "max_images", "result_kind",
    "returns_revised_prompt", "returns_usage", "can_edit", "released_on", "retires_on",
    "replacement", "schema",
]  # fmt: skip


def schema_from_columns(row):
    parameters, rules = [], []
    size = {"name": "size", "kind": "size", "label": "Size", "choices": list(row.sizes),
            "default": row.default_size, "send_default": True}  # fmt: skip
    if row.custom_sizes:
        size["custom"] = dict(GPT_IMAGE_2_SIZES)
    parameters.append(size)
    chosen = {}
    for name, values_column, default_column, label in CHOICE_COLUMNS:
        values = list(getattr(row, values_column) or [])
        if values:
            default = getattr(row, default_column) or values[0]
            chosen[name] = values
            parameters.append({"name": name, "kind": "choice", "label": label, "choices": values,
                               "default": default, "send_default": True})  # fmt: skip
        if name == "output_format" and row.supports_compression:
            compressible = [f for f in values if f in ("jpeg", "webp")]
            if compressible:
                parameters.append({
                    "name": "output_compression", "kind": "integer", "label": "Compression",
                    "help": "0-100, for JPEG and WebP. Leave empty for the default.",
                    "minimum": 0, "maximum": 100, "default": 100,
                    "only_when": {"output_format": compressible},
                })  # fmt: skip
    if "transparent" in chosen.get("background", []) and "output_format" in chosen:
        alpha = [f for f in chosen["output_format"] if f in ("png", "webp")]
        rules.append({"if": {"background": ["transparent"]}, "then": {"output_format": alpha}})
    if row.supports_streaming:
        parameters.append({
            "name": "stream", "kind": "boolean", "label": "Stream partial previews",
            "help": "Shows rough previews while the image is drawn (one image only).",
            "default": False,
        })  # fmt: skip
        parameters.append({
            "name": "partial_images", "kind": "integer", "label": "Partial previews",
            "minimum": 0, "maximum": row.max_partial_images,
            "default": min(2, row.max_partial_images), "send_default": True,
            "only_when": {"stream": [True]},
        })  # fmt: skip
        rules.append({"if": {"stream": [True]}, "then": {"n": [1]}})
    return {"parameters": parameters, "rules": rules}


def columns_to_schema(apps, schema_editor):
    from imagegen.catalogue.shipped import SHIPPED_MODELS

    ImageModel = apps.get_model("imagegen", "ImageModel")
    shipped = {values["name"]: values for values in SHIPPED_MODELS}
    for row in ImageModel.objects.all():
        row.schema = schema_from_columns(row)
        if row.name in shipped and POSITIONS_2025.get(row.name) == row.position:
            row.position = shipped[row.name]["position"]
        # DALL·E and Qwen answered with URLs; GPT image models only ever with base64.
        row.result_kind = "url" if row.response_formats or row.family != "gpt-image" else "b64_json"
        row.can_edit = row.family == "gpt-image"
        for fact, value in SHIPPED_FACTS.get(row.name, {}).items():
            setattr(row, fact, value)
        row.save()
    for values in SHIPPED_MODELS:
        if not ImageModel.objects.filter(name=values["name"]).exists():
            defaults = {field: values[field] for field in NEW_FIELDS if field in values}
            ImageModel.objects.create(name=values["name"], **defaults)


def schema_to_columns(apps, schema_editor):
    ImageModel = apps.get_model("imagegen", "ImageModel")
    columns = {name: (values, default) for name, values, default, _label in CHOICE_COLUMNS}
    for row in ImageModel.objects.all():
        for parameter in row.schema.get("parameters", []):
            name = parameter["name"]
            if parameter["kind"] == "size":
                row.sizes = parameter.get("choices", [])
                row.default_size = parameter.get("default") or ""
                row.custom_sizes = "custom" in parameter
            elif name in columns and parameter["kind"] == "choice":
                setattr(row, columns[name][0], parameter["choices"])
                setattr(row, columns[name][1], parameter.get("default") or "")
            elif name == "output_compression":
                row.supports_compression = True
            elif name == "stream":
                row.supports_streaming = True
            elif name == "partial_images":
                row.max_partial_images = min(3, int(parameter.get("maximum", 0)))
        row.save()




class Migration(migrations.Migration):

    dependencies = [
        ('imagegen', '0005_verbose_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='UpstreamModel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, unique=True, verbose_name='name')),
                ('offered', models.BooleanField(blank=True, null=True, verbose_name='offered by the key')),
                ('shutdown_on', models.DateField(blank=True, null=True, verbose_name='shuts down')),
                ('model_type', models.CharField(blank=True, max_length=50, verbose_name='type')),
                ('provider', models.CharField(blank=True, max_length=100, verbose_name='provider')),
                ('features', models.JSONField(blank=True, default=list, verbose_name='features')),
                ('pricing', models.JSONField(blank=True, default=dict, help_text='As the public catalogue gives them.', verbose_name='prices')),
                ('last_seen_at', models.DateTimeField(blank=True, null=True, verbose_name='last listed')),
                ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='last checked')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
            ],
            options={
                'verbose_name': 'upstream model',
                'verbose_name_plural': 'upstream models',
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='imagemodel',
            name='can_edit',
            field=models.BooleanField(default=False, help_text='Served by POST /images/edits too.', verbose_name='can edit images'),
        ),
        migrations.AddField(
            model_name='imagemodel',
            name='released_on',
            field=models.DateField(blank=True, null=True, verbose_name='released'),
        ),
        migrations.AddField(
            model_name='imagemodel',
            name='replacement',
            field=models.CharField(blank=True, help_text='The model to propose instead once it has retired (its name).', max_length=100, verbose_name='replacement'),
        ),
        migrations.AddField(
            model_name='imagemodel',
            name='result_kind',
            field=models.CharField(choices=[('url', 'URL'), ('b64_json', 'Base64')], default='b64_json', help_text='What the model returns when no response_format parameter says otherwise.', max_length=10, verbose_name='result kind'),
        ),
        migrations.AddField(
            model_name='imagemodel',
            name='retires_on',
            field=models.DateField(blank=True, help_text='The day the upstream shuts it down; the live model list may say otherwise.', null=True, verbose_name='retires'),
        ),
        migrations.AddField(
            model_name='imagemodel',
            name='schema',
            field=models.JSONField(default=imagegen.models.default_schema, help_text='Every parameter the model takes, and the rules between them (JSON).', verbose_name='parameters'),
        ),
        migrations.AlterField(
            model_name='imagemodel',
            name='family',
            field=models.CharField(choices=[('dall-e', 'DALL·E'), ('gpt-image', 'GPT image'), ('qwen', 'Qwen image'), ('seedream', 'Seedream'), ('other', 'Other')], max_length=20, verbose_name='family'),
        ),
        migrations.AlterField(
            model_name='imagemodel',
            name='position',
            field=models.PositiveIntegerField(default=100, help_text='Lower comes first; the first available model is the default.', verbose_name='position'),
        ),
        migrations.RunPython(columns_to_schema, schema_to_columns),
        migrations.RemoveField(
            model_name='imagemodel',
            name='backgrounds',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='custom_sizes',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_background',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_moderation',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_output_format',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_quality',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_response_format',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_size',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='default_style',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='max_partial_images',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='moderations',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='output_formats',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='qualities',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='response_formats',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='sizes',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='styles',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='supports_compression',
        ),
        migrations.RemoveField(
            model_name='imagemodel',
            name='supports_streaming',
        ),
    ]
