"""The Trash: an image is moved there (trashed_at) and purged TRASH_DAYS later."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0010_ratings"),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="trashed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="moved to the Trash"),
        ),
        migrations.AddIndex(
            model_name="image",
            index=models.Index(
                condition=models.Q(("trashed_at__isnull", False)),
                fields=["trashed_at"],
                name="image_trashed",
            ),
        ),
    ]
