"""Prompt search indexes: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL (gallery/search.py).

Each half is a no-op on the other database. Neither is in the model state, so `makemigrations`
never sees them. On SQLite, a later migration that makes Django rebuild the gallery_image table
(most AlterField operations) drops these triggers with the old table: tests/test_search.py checks
that they exist after all migrations, and such a migration must recreate them.
"""

from django.db import migrations

# External content: the index keeps only trigrams, the text stays in gallery_image; the rowid is
# Image.id. The triggers keep it in step with every insert, update and delete, ORM or raw SQL.
SQLITE_FORWARDS = [
    """CREATE VIRTUAL TABLE gallery_image_fts USING fts5(
        prompt, revised_prompt,
        content='gallery_image', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER gallery_image_fts_insert AFTER INSERT ON gallery_image BEGIN
        INSERT INTO gallery_image_fts(rowid, prompt, revised_prompt)
        VALUES (new.id, new.prompt, new.revised_prompt);
    END""",
    """CREATE TRIGGER gallery_image_fts_delete AFTER DELETE ON gallery_image BEGIN
        INSERT INTO gallery_image_fts(gallery_image_fts, rowid, prompt, revised_prompt)
        VALUES ('delete', old.id, old.prompt, old.revised_prompt);
    END""",
    # Only when the text changes: a full-row save() (a favourite toggled) must not re-index.
    """CREATE TRIGGER gallery_image_fts_update AFTER UPDATE OF prompt, revised_prompt
        ON gallery_image
        WHEN old.prompt IS NOT new.prompt OR old.revised_prompt IS NOT new.revised_prompt
    BEGIN
        INSERT INTO gallery_image_fts(gallery_image_fts, rowid, prompt, revised_prompt)
        VALUES ('delete', old.id, old.prompt, old.revised_prompt);
        INSERT INTO gallery_image_fts(rowid, prompt, revised_prompt)
        VALUES (new.id, new.prompt, new.revised_prompt);
    END""",
    "INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS gallery_image_fts_insert",
    "DROP TRIGGER IF EXISTS gallery_image_fts_delete",
    "DROP TRIGGER IF EXISTS gallery_image_fts_update",
    "DROP TABLE IF EXISTS gallery_image_fts",
]


# icontains compiles to UPPER("prompt"::text) LIKE UPPER(%s): only an index on that very
# expression serves it; a plain gin_trgm_ops index on the column is never used. (Written as SQL:
# Django's OpClass needs django.contrib.postgres installed, which needs psycopg even on SQLite.)
POSTGRESQL_FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX image_prompt_trgm ON gallery_image USING gin (UPPER("prompt") gin_trgm_ops)',
    "CREATE INDEX image_revised_prompt_trgm ON gallery_image"
    ' USING gin (UPPER("revised_prompt") gin_trgm_ops)',
]
# The extension stays: dropping it could break anything else that came to use it.
POSTGRESQL_BACKWARDS = [
    "DROP INDEX IF EXISTS image_prompt_trgm",
    "DROP INDEX IF EXISTS image_revised_prompt_trgm",
]
STATEMENTS = {
    "sqlite": (SQLITE_FORWARDS, SQLITE_BACKWARDS),
    "postgresql": (POSTGRESQL_FORWARDS, POSTGRESQL_BACKWARDS),
}


def create_search_index(apps, schema_editor) -> None:
    forwards, _ = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in forwards:
        schema_editor.execute(statement)


def drop_search_index(apps, schema_editor) -> None:
    _, backwards = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in backwards:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0002_organise_and_share"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
