"""The search indexes' triggers again, after migration 0013 (image costs) rebuilt gallery_image.

On SQLite, adding `cost_currency` (a column with a default) made Django rebuild the table, which
dropped the triggers of migrations 0003 and 0004 with the old table, and 0013 did not make them
again: a search found no image kept since. Here they are made again (as 0007 does), and the rows
a database kept without them are indexed: those above the last id each index holds (ids only
grow). A row deleted meanwhile may stay in an index, harmlessly: searches join the indexes'
rowids back to gallery_image, where it is gone, and ids are never reused.
"""

import importlib

from django.db import migrations

after_lineage = importlib.import_module("gallery.migrations.0007_edits_uploads_and_lineage")
short_terms = importlib.import_module("gallery.migrations.0004_short_term_search")


def index_again(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    after_lineage.make_search_triggers_again(apps, schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table in ("gallery_image_fts", "gallery_image_chars"):
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}_docsize")  # noqa: S608
            last = cursor.fetchone()[0]
            if table == "gallery_image_fts":
                columns = "id, prompt, revised_prompt"
            else:
                columns = (
                    f"id, {short_terms.spaced('prompt')}, {short_terms.spaced('revised_prompt')}"
                )
            cursor.execute(
                f"INSERT INTO {table}(rowid, prompt, revised_prompt)"  # noqa: S608 (constants)
                f" SELECT {columns} FROM gallery_image WHERE id > %s",
                [last],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0013_image_costs"),
    ]

    operations = [
        migrations.RunPython(index_again, migrations.RunPython.noop, elidable=False),
    ]
