"""Copy the shipped model catalogue (as it was in 2025: _shipped_2025.py) into ImageModel rows.

Later shipped models get their own migration calling `install_shipped_models` again; it only adds
models that are missing, so changes an administrator made in admin are kept.
"""

from django.db import migrations


def install_shipped_models(apps, schema_editor):
    from imagegen.migrations._shipped_2025 import SHIPPED_MODELS_2025 as SHIPPED_MODELS

    ImageModel = apps.get_model("imagegen", "ImageModel")
    field_names = {f.name for f in ImageModel._meta.fields}
    for position, values in enumerate(SHIPPED_MODELS):
        defaults = {k: v for k, v in values.items() if k in field_names and k != "name"}
        defaults["position"] = position * 10
        ImageModel.objects.get_or_create(name=values["name"], defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("imagegen", "0001_initial")]
    operations = [migrations.RunPython(install_shipped_models, migrations.RunPython.noop)]
