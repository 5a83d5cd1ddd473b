"""Smart collections: a collection may keep a gallery search (query), and then shows what
matches it instead of images added by hand. Every collection there is stays one added to by
hand (an empty query), with its images."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0011_trash"),
    ]

    operations = [
        migrations.AddField(
            model_name="collection",
            name="query",
            field=models.TextField(
                blank=True,
                help_text=(
                    "A smart collection's gallery search, as a query string (q=…&model=…): it "
                    "shows every image of its owner's that matches it now. Empty for a "
                    "collection whose images are added by hand."
                ),
                verbose_name="search",
            ),
        ),
    ]
