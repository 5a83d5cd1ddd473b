"""The Trash: an image is moved there (trashed_at) and purged TRASH_DAYS later. The
gallery's indexes now hold kept images only, so a scan of them never reads a row."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0010_ratings"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="image",
            name="image_owner_newest",
        ),
        migrations.RemoveIndex(
            model_name="image",
            name="image_owner_rated",
        ),
        migrations.AddField(
            model_name="image",
            name="trashed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="moved to the Trash"),
        ),
        migrations.AddIndex(
            model_name="image",
            index=models.Index(
                condition=models.Q(("trashed_at__isnull", True)),
                fields=["owner", "trashed_at", "-id"],
                name="image_owner_kept_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="image",
            index=models.Index(
                condition=models.Q(("rating__isnull", False), ("trashed_at__isnull", True)),
                fields=["owner", "trashed_at", "-rating", "-id"],
                name="image_owner_kept_rated",
            ),
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
