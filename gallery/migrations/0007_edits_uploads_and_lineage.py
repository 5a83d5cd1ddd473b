"""Uploads and lineage (issue 10): an image may be uploaded (no generation; what its file said
about itself kept in `found_metadata`), belongs to a stack of versions (`stack_root`), and a
generation records the images it started from (`ImageInput`: edited, reference or varied, with
the mask). Every existing image is a generated one and a first version: nothing to fill in.

On SQLite, making `generation` nullable and adding the check rebuild the gallery_image table,
which drops the search indexes' triggers (migrations 0003 and 0004) with the old table: they are
made again after the rebuild, both ways. The indexes' rows are keyed by id, which the rebuild
keeps, so they stay right.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def search_triggers():
    for name in ("0003_prompt_search", "0004_short_term_search"):
        module = importlib.import_module(f"gallery.migrations.{name}")
        yield from (s for s in module.SQLITE_FORWARDS if s.startswith("CREATE TRIGGER"))


def make_search_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in search_triggers():
        trigger = statement.split()[2]
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0006_image_formats_gif_svg'),
        ('imagegen', '0007_edits_and_references'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, the table is rebuilt once more after this: the triggers come back here.
        migrations.RunPython(migrations.RunPython.noop, make_search_triggers_again),
        migrations.CreateModel(
            name='ImageInput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image_uuid', models.UUIDField(help_text='Kept after the image is deleted.', verbose_name='image UUID')),
                ('role', models.CharField(choices=[('edited', 'Edited'), ('reference', 'Reference'), ('varied', 'Varied')], max_length=20, verbose_name='role')),
                ('position', models.PositiveSmallIntegerField(help_text='The order the images are sent in; the edited one first.', verbose_name='position')),
                ('mask', models.BinaryField(blank=True, help_text='The PNG mask sent with the edited image: transparent where to change it.', null=True, verbose_name='mask')),
            ],
            options={
                'verbose_name': 'input image',
                'verbose_name_plural': 'input images',
                'ordering': ['generation', 'position'],
            },
        ),
        migrations.AddField(
            model_name='image',
            name='found_metadata',
            field=models.JSONField(blank=True, default=dict, help_text='What an uploaded file said about how it was made (gallery.found_metadata).', verbose_name='metadata found in the file'),
        ),
        migrations.AddField(
            model_name='image',
            name='origin',
            field=models.CharField(choices=[('generated', 'Generated'), ('uploaded', 'Uploaded')], default='generated', max_length=20, verbose_name='origin'),
        ),
        migrations.AddField(
            model_name='image',
            name='original_name',
            field=models.CharField(blank=True, help_text='As the person named it.', max_length=255, verbose_name='uploaded file name'),
        ),
        migrations.AddField(
            model_name='image',
            name='stack_root',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='stacked', to='gallery.image', verbose_name='first version'),
        ),
        migrations.AlterField(
            model_name='image',
            name='generation',
            field=models.ForeignKey(blank=True, help_text='None for an uploaded image.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='images', to='imagegen.generation', verbose_name='generation'),
        ),
        migrations.AddConstraint(
            model_name='image',
            constraint=models.CheckConstraint(condition=models.Q(('origin', 'uploaded'), ('generation__isnull', False), _connector='OR'), name='generated_images_have_a_generation'),
        ),
        migrations.AddField(
            model_name='imageinput',
            name='generation',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inputs', to='imagegen.generation', verbose_name='generation'),
        ),
        migrations.AddField(
            model_name='imageinput',
            name='image',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='used_as_input', to='gallery.image', verbose_name='image'),
        ),
        migrations.AddConstraint(
            model_name='imageinput',
            constraint=models.UniqueConstraint(fields=('generation', 'position'), name='one_input_per_position'),
        ),
        migrations.AddConstraint(
            model_name="image",
            constraint=models.UniqueConstraint(
                condition=models.Q(("origin", "uploaded")),
                fields=("owner", "sha256"),
                name="one_upload_per_file",
            ),
        ),
        migrations.RunPython(make_search_triggers_again, migrations.RunPython.noop),
    ]
