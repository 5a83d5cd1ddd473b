"""Indexes for search text of one or two characters, which trigrams cannot serve (search.py).

Each half is a no-op on the other database; neither is in the model state.

PostgreSQL: `gallery_grams(text)`, the distinct one- and two-character grams of a text, and a GIN
index on it over UPPER() of each column; a term of one or two characters is `@> ARRAY[UPPER(term)]`.

SQLite: a contentless FTS5 table, `gallery_image_chars`, whose text is every non-ASCII character of
the prompt and revised prompt, each as a separate `unicode61` token (`海辺の猫` is `海 辺 の 猫`),
so a phrase query ("夕 日") finds one or two characters. Kept in step by SQL triggers, like the
trigram table, so every insert, update and delete is followed (ORM, raw SQL, bulk loads), not
only rows made by ingest. A trigger may not use a recursive CTE, so the text is split by a join
with a table of positions 1..MAX_CHARS: characters past MAX_CHARS are not indexed (prompts are
far shorter: the image APIs refuse more than 32,000 characters). Pure-ASCII text (all English
text) is indexed as nothing: ASCII terms never take this index. Contentless, so a delete must
give the same text again: the triggers recompute it with the same expression.
"""

from django.db import migrations

MAX_CHARS = 65_536
# Every SQL string below is built from constants only (S608 is about untrusted text).


def spaced(column: str) -> str:
    """SQL: the non-ASCII characters of `column`, in order, separated by spaces."""
    return (
        f"CASE WHEN length({column}) = length(CAST({column} AS BLOB)) THEN '' ELSE"
        f" (SELECT group_concat(c, ' ') FROM (SELECT substr({column}, n, 1) AS c"
        f" FROM gallery_image_chars_position WHERE n <= length({column})"
        f" AND unicode(substr({column}, n, 1)) >= 128 ORDER BY n)) END"  # noqa: S608
    )


def insert(row: str) -> str:
    return (
        "INSERT INTO gallery_image_chars(rowid, prompt, revised_prompt)"
        f" VALUES ({row}.id, {spaced(row + '.prompt')}, {spaced(row + '.revised_prompt')});"  # noqa: S608
    )


def delete(row: str) -> str:
    return (
        "INSERT INTO gallery_image_chars(gallery_image_chars, rowid, prompt, revised_prompt)"
        f" VALUES ('delete', {row}.id, {spaced(row + '.prompt')},"
        f" {spaced(row + '.revised_prompt')});"  # noqa: S608
    )


SQLITE_FORWARDS = [
    "CREATE TABLE gallery_image_chars_position (n INTEGER PRIMARY KEY)",
    "INSERT INTO gallery_image_chars_position(n) WITH RECURSIVE p(n) AS"
    f" (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < {MAX_CHARS}) SELECT n FROM p",  # noqa: S608
    """CREATE VIRTUAL TABLE gallery_image_chars USING fts5(
        prompt, revised_prompt, content='', tokenize='unicode61 remove_diacritics 0'
    )""",
    f"CREATE TRIGGER gallery_image_chars_insert AFTER INSERT ON gallery_image BEGIN"
    f" {insert('new')} END",
    f"CREATE TRIGGER gallery_image_chars_delete AFTER DELETE ON gallery_image BEGIN"
    f" {delete('old')} END",
    f"""CREATE TRIGGER gallery_image_chars_update AFTER UPDATE OF prompt, revised_prompt
        ON gallery_image
        WHEN old.prompt IS NOT new.prompt OR old.revised_prompt IS NOT new.revised_prompt
    BEGIN {delete("old")} {insert("new")} END""",
    "INSERT INTO gallery_image_chars(rowid, prompt, revised_prompt)"
    f" SELECT id, {spaced('prompt')}, {spaced('revised_prompt')} FROM gallery_image",  # noqa: S608
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS gallery_image_chars_insert",
    "DROP TRIGGER IF EXISTS gallery_image_chars_delete",
    "DROP TRIGGER IF EXISTS gallery_image_chars_update",
    "DROP TABLE IF EXISTS gallery_image_chars",
    "DROP TABLE IF EXISTS gallery_image_chars_position",
]

# IMMUTABLE (it depends on its argument alone), so it can be indexed; UPPER() is applied outside.
POSTGRESQL_FORWARDS = [
    """CREATE FUNCTION gallery_grams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
            SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
            UNION ALL
            SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i
        ) AS grams
    $$""",
    'CREATE INDEX image_prompt_grams ON gallery_image USING gin (gallery_grams(UPPER("prompt")))',
    "CREATE INDEX image_revised_prompt_grams ON gallery_image"
    ' USING gin (gallery_grams(UPPER("revised_prompt")))',
]
POSTGRESQL_BACKWARDS = [
    "DROP INDEX IF EXISTS image_prompt_grams",
    "DROP INDEX IF EXISTS image_revised_prompt_grams",
    "DROP FUNCTION IF EXISTS gallery_grams(text)",
]
STATEMENTS = {
    "sqlite": (SQLITE_FORWARDS, SQLITE_BACKWARDS),
    "postgresql": (POSTGRESQL_FORWARDS, POSTGRESQL_BACKWARDS),
}


def create_short_term_index(apps, schema_editor) -> None:
    forwards, _ = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in forwards:
        schema_editor.execute(statement)


def drop_short_term_index(apps, schema_editor) -> None:
    _, backwards = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in backwards:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0003_prompt_search"),
    ]

    operations = [
        migrations.RunPython(create_short_term_index, drop_short_term_index, elidable=False),
    ]
