"""Comparisons (issue 11): images, or the jobs one prompt started on several models, side by
side, with a winner; and a share link may now share a comparison. Every existing link shares an
image or a collection, so it meets the new "exactly one thing" check as it is: nothing to fill in.
On SQLite the share link table is rebuilt (a new column and check); its rows are kept.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0007_edits_uploads_and_lineage'),
        ('imagegen', '0007_edits_and_references'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Comparison',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='UUID')),
                ('title', models.CharField(blank=True, help_text='Empty: the prompt, or how many images are compared.', max_length=200, verbose_name='title')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created')),
            ],
            options={
                'verbose_name': 'comparison',
                'verbose_name_plural': 'comparisons',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ComparisonEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(verbose_name='position')),
            ],
            options={
                'verbose_name': 'compared entry',
                'verbose_name_plural': 'compared entries',
                'ordering': ['comparison', 'position'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='sharelink',
            name='share_exactly_one_thing',
        ),
        migrations.AddField(
            model_name='comparison',
            name='owner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='comparisons', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.AddField(
            model_name='comparison',
            name='winner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='comparisons_won', to='gallery.image', verbose_name='winner'),
        ),
        migrations.AddField(
            model_name='sharelink',
            name='comparison',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='share_links', to='gallery.comparison', verbose_name='comparison'),
        ),
        migrations.AddConstraint(
            model_name='sharelink',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('collection__isnull', True), ('comparison__isnull', True), ('image__isnull', False)), models.Q(('collection__isnull', False), ('comparison__isnull', True), ('image__isnull', True)), models.Q(('collection__isnull', True), ('comparison__isnull', False), ('image__isnull', True)), _connector='OR'), name='share_exactly_one_thing'),
        ),
        migrations.AddField(
            model_name='comparisonentry',
            name='comparison',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='gallery.comparison', verbose_name='comparison'),
        ),
        migrations.AddField(
            model_name='comparisonentry',
            name='generation',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='comparison_entries', to='imagegen.generation', verbose_name='generation'),
        ),
        migrations.AddField(
            model_name='comparisonentry',
            name='image',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='comparison_entries', to='gallery.image', verbose_name='image'),
        ),
        migrations.AddIndex(
            model_name='comparison',
            index=models.Index(fields=['owner', '-created_at'], name='comparison_owner_newest'),
        ),
        migrations.AddConstraint(
            model_name='comparisonentry',
            constraint=models.UniqueConstraint(fields=('comparison', 'position'), name='one_entry_per_position'),
        ),
        migrations.AddConstraint(
            model_name='comparisonentry',
            constraint=models.CheckConstraint(condition=models.Q(('generation__isnull', True), ('image__isnull', True), _connector='OR'), name='entry_is_a_job_or_an_image'),
        ),
    ]
