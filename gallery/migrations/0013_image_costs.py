"""Migration 0013: each generated image gets its share of its job's cost (the job's cost over
the images the upstream returned, imagegen migration 0010), for the gallery's cost filter and
sort. Uploads and jobs of unknown price stay without one."""

from django.conf import settings
from decimal import Decimal

from django.db import migrations, models


def share_job_costs(apps, schema_editor):
    Image = apps.get_model("gallery", "Image")
    Generation = apps.get_model("imagegen", "Generation")
    priced = Generation.objects.filter(cost__isnull=False, images_returned__gt=0)
    for job in priced.only("id", "cost", "cost_currency", "images_returned").iterator():
        share = (job.cost / job.images_returned).quantize(Decimal("0.000001"))
        Image.objects.filter(generation_id=job.id).update(
            cost=share, cost_currency=job.cost_currency
        )


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0012_smart_collections"),
        ("imagegen", "0010_costs_budgets_and_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="cost",
            field=models.DecimalField(
                blank=True, decimal_places=6, max_digits=12, null=True, verbose_name="cost"
            ),
        ),
        migrations.AddField(
            model_name="image",
            name="cost_currency",
            field=models.CharField(blank=True, max_length=3, verbose_name="currency"),
        ),
        migrations.AddIndex(
            model_name="image",
            index=models.Index(
                condition=models.Q(("cost__isnull", False), ("trashed_at__isnull", True)),
                fields=["owner", "trashed_at", "-cost", "-id"],
                name="image_owner_kept_cost",
            ),
        ),
        migrations.RunPython(share_job_costs, migrations.RunPython.noop),
    ]
