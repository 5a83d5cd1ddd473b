"""The grid rendition (issue 12): a smaller WebP beside the thumbnail for the gallery's tiles,
with its size. Nullable, so adding the columns rewrites no row (on SQLite a plain ADD COLUMN,
no table rebuild, the search triggers untouched); images kept before it get theirs from
`manage.py backfill_grid_thumbnails`, and the grid shows their thumbnail until then.
"""

import gallery.models.images
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0008_comparisons'),
    ]

    operations = [
        migrations.AddField(
            model_name='image',
            name='grid',
            field=models.FileField(blank=True, max_length=200, null=True, upload_to=gallery.models.images.grid_path, verbose_name='grid thumbnail'),
        ),
        migrations.AddField(
            model_name='image',
            name='grid_height',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='grid thumbnail height'),
        ),
        migrations.AddField(
            model_name='image',
            name='grid_width',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='grid thumbnail width'),
        ),
    ]
