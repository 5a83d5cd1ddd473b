"""Gallery pages and prompt search with 100,000 images for one person and 1,000,000 in all.

Run by hand from the project root:
    .venv/bin/python bench/gallery.py                        # SQLite, in a temporary directory
    .venv/bin/python bench/gallery.py --database postgres    # a throwaway PostgreSQL server
    .venv/bin/python bench/gallery.py --keep bench/output/gallery   # SQLite, kept for a re-run
    .venv/bin/python bench/gallery.py --url postgres://...   # a server a run loaded (kept up)

It fills the database with rows only (mixed English, Arabic and Japanese prompts, file names that
point nowhere), then times requests through Django's test client as the heavy user: the gallery's
first page, a page 90,000 images down, and searches. Each case is also timed as the bare query,
and each search as a plain `icontains` scan too (SQLite: without the FTS table; PostgreSQL:
without the trigram indexes), the baseline that the indexes must beat.
Target (DESIGN.md): every request under 50 ms.
"""

import argparse
import importlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/, whose gallery.py would hide the gallery app
TARGET_MS = 50.0
TOTAL, HEAVY, OTHER_USERS = 1_000_000, 100_000, 300
PAGE = 61  # the gallery's 60 and one more, to know whether there is a next page
SEARCHES = [
    ("common English word", "sunset"),
    ("Arabic word", "قطة"),
    ("Japanese, 1 character", "猫"),
    ("Japanese, 2 characters", "夕日"),
    ("Japanese, 4 characters", "海辺の猫"),
    ("rare term", "zeppelin"),
    ("rare Japanese, 1 character", "鶴"),
    ("no match at all", "xylophone"),
    # Words in any order, phrases, exclusions (issue 12): gallery.search.search_words.
    ("two words, any order", "watercolour cat"),
    ("two words, rare and common", "cat zeppelin"),
    ("two common words, never together", "lighthouse samurai"),
    ("a phrase", '"misty forest"'),
    ("a word and an exclusion", "sunset -watercolour"),
    ("only an exclusion", "-sunset"),
    ("Arabic, two words", "الشاطئ قطة"),
    ("Japanese, 1 and 2 characters", "猫 夕日"),
    ("Japanese, with an exclusion", "夕日 -猫"),
    # Each common, never together, from the two search indexes (SQLite): a character and a word.
    ("Japanese and English, never together", "猫 lighthouse"),
]
# The same, in the other order (the `sort` field): the gallery and a search, oldest first.
SORTED = [("gallery, oldest first", ""), ("search, oldest first", "sunset")]

# Parallel lists: the same idea in English, Japanese and Arabic, so a DALL·E 3 style revised
# prompt (always English) can describe a Japanese or Arabic prompt.
SUBJECTS = [
    ("cat", "猫", "قطة"), ("dog", "犬", "كلب"), ("fox", "狐", "ثعلب"),
    ("robot", "ロボット", "روبوت"), ("samurai", "侍", "ساموراي"), ("dragon", "龍", "تنين"),
    ("little girl", "少女", "طفلة صغيرة"), ("old fisherman", "老いた漁師", "صياد عجوز"),
    ("lighthouse", "灯台", "منارة"), ("owl", "フクロウ", "بومة"),
]  # fmt: skip
PLACES = [
    ("on the beach", "海辺", "على الشاطئ"), ("in a misty forest", "霧の森", "في غابة ضبابية"),
    ("on a snowy mountain", "雪山", "على جبل مثلج"),
    ("in the streets of Tokyo", "東京の街", "في شوارع طوكيو"),
    ("in the desert", "砂漠", "في الصحراء"),
    ("in an old library", "古い図書館", "في مكتبة قديمة"),
    ("under the night sky", "夜空の下", "تحت سماء الليل"),
    ("at a mountain shrine", "山の神社", "عند معبد جبلي"),
]  # fmt: skip
TIMES = [
    ("at sunset", "夕日", "عند الغروب"), ("at dawn", "朝焼け", "عند الفجر"),
    ("under a full moon", "満月の夜", "تحت البدر"), ("on a rainy day", "雨の日", "في يوم ممطر"),
    ("in winter", "冬", "في الشتاء"), ("in spring", "春", "في الربيع"),
]  # fmt: skip
STYLES = [
    ("watercolour", "水彩画", "ألوان مائية"), ("oil painting", "油絵", "لوحة زيتية"),
    ("anime style", "アニメ風", "أسلوب الأنمي"), ("ukiyo-e print", "浮世絵風", "طباعة أوكييو-إي"),
    ("35mm photograph", "写真", "صورة فوتوغرافية"), ("pencil sketch", "鉛筆画", "رسم بالقلم"),
]  # fmt: skip
ADJECTIVES = ["quiet", "tiny", "giant", "ancient", "cosy", "lonely", "cheerful", "mysterious"]
EXTRAS = [
    "highly detailed", "soft light", "8k", "wide angle", "pastel colours", "dramatic shadows",
    "golden hour glow", "shallow depth of field", "symmetrical composition", "muted palette",
]  # fmt: skip
MODELS = {"dall-e-3": 3, "gpt-image-1": 4, "dall-e-2": 1, "qwen-image": 1, "gpt-image-2": 1}
SIZES = [(1024, 1024), (1024, 1024), (1792, 1024), (1024, 1792), (1536, 1024), (512, 512)]
FORMATS = ["png", "png", "jpeg", "webp"]


def prompt_for(rnd: random.Random, rare: str) -> tuple[str, str]:
    """A prompt (English 55%, Japanese 25%, Arabic 20%) and its English description."""
    s, p, t, st = (rnd.choice(words) for words in (SUBJECTS, PLACES, TIMES, STYLES))
    extras = ", ".join(rnd.sample(EXTRAS, rnd.choice([0, 0, 1, 2, 3, 5])))
    english = f"a {rnd.choice(ADJECTIVES)} {s[0]} {p[0]} {t[0]}, {st[0]}"
    language = rnd.random()
    if language < 0.55:
        prompt = f"{english}, {extras}" if extras else english
    elif language < 0.80:
        prompt = f"{p[1]}の{s[1]}、{t[1]}、{st[1]}"
    else:
        prompt = f"{s[2]} {p[2]} {t[2]}، {st[2]}"
    if rnd.random() < 0.08:  # now and then a long, detailed prompt
        prompt += ". " + ". ".join(rnd.sample(EXTRAS, 10)) * rnd.randint(1, 4)
    if rare:
        prompt += f" {rare}"
    return prompt, english


def revised_for(english: str, extras: list[str]) -> str:
    return (
        f"A detailed image of {english}. The composition places the subject slightly off "
        f"centre, with {', '.join(extras)}, and a calm, considered mood throughout the scene."
    )


def generate_rows(owners: list[int], heavy: int, seed: int = 7) -> Iterator[tuple[dict, list]]:
    """(generation, images) rows, oldest first; about one image in ten is the heavy user's."""
    rnd = random.Random(seed)
    # A handful of images, the heavy user's and others', carry a rare term.
    marks: dict[bool, dict[int, str]] = {True: {}, False: {}}
    for term in ("zeppelin", "鶴"):
        marks[True].update(dict.fromkeys(rnd.sample(range(HEAVY), 5), term))
        marks[False].update(dict.fromkeys(rnd.sample(range(TOTAL - HEAVY), 5), term))
    made = {True: 0, False: 0}
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    while made[True] + made[False] < TOTAL:
        mine = made[True] < HEAVY and (made[False] >= TOTAL - HEAVY or rnd.random() < 0.1)
        owner = heavy if mine else rnd.choice(owners)
        model = rnd.choices(list(MODELS), weights=list(MODELS.values()))[0]
        n = 1 if model in {"dall-e-3", "qwen-image"} else rnd.choice([1, 1, 1, 2, 4])
        n = min(n, (HEAVY if mine else TOTAL - HEAVY) - made[mine])
        ordinals = range(made[mine], made[mine] + n)
        term = next((marks[mine][o] for o in ordinals if o in marks[mine]), "")
        prompt, english = prompt_for(rnd, term)
        revised = revised_for(english, rnd.sample(EXTRAS, 3)) if model == "dall-e-3" else ""
        width, height = rnd.choice(SIZES)
        fmt = rnd.choice(FORMATS)
        moment += timedelta(seconds=rnd.randint(5, 60))
        generation = dict(
            id=uuid.UUID(int=rnd.getrandbits(128)), owner_id=owner, model_name=model,
            prompt=prompt, parameters={"n": n, "size": f"{width}x{height}"},
            status="succeeded", attempts=1, created_at=moment,
        )  # fmt: skip
        thumb = (512 * width // max(width, height), 512 * height // max(width, height))
        images = []
        for index in range(n):
            key = uuid.UUID(int=rnd.getrandbits(128))
            images.append(
                dict(uuid=key, owner_id=owner, generation_id=generation["id"], index=index,
                     file=f"originals/{moment:%Y/%m}/{key}.{fmt}",
                     thumbnail=f"thumbnails/{moment:%Y/%m}/{key}.webp",
                     width=width, height=height, thumbnail_width=thumb[0],
                     thumbnail_height=thumb[1], format=fmt, bytes=rnd.randint(200_000, 3_000_000),
                     sha256=f"{rnd.getrandbits(256):064x}", model_name=model, prompt=prompt,
                     revised_prompt=revised, created_at=moment,
                     cost=cost_of(index, key), cost_currency="USD")
            )  # fmt: skip
        made[mine] += n
        yield generation, images


def cost_of(index: int, key: uuid.UUID) -> Any:
    """An image's share of its job's cost (issue 13): 0.004 to 0.25, many ties, from its key."""
    from decimal import Decimal

    return Decimal(4 + key.int % 247) / 1000


def costs_filled() -> None:
    """A database loaded before images had a cost: give them one, as the load now does."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM gallery_image WHERE cost IS NOT NULL LIMIT 1")
        if cursor.fetchone() is None:
            print("  giving the rows a cost", flush=True)
            cursor.execute("UPDATE gallery_image SET cost = (4 + id % 247) / 1000.0")


def setup_django(database: str, workdir: Path, stack: ExitStack, url: str = "") -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="imagegen.settings",
        SECRET_KEY="bench-only",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
        MEDIA_ROOT=str(workdir / "media"),
    )
    if url:
        os.environ["DATABASE_URL"] = url
    elif database == "postgres":
        from tests.postgres import running_server

        os.environ["DATABASE_URL"] = stack.enter_context(running_server()).url
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'gallery.sqlite3'}"
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    # Pages render without a collectstatic run, as in the tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    call_command("migrate", verbosity=0)


def writer(model: Any) -> Callable[[list[dict]], None]:
    """Insert row dicts into `model`'s table fast: executemany on SQLite, COPY on PostgreSQL."""
    from django.db import connection, models

    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    defaults = {f.attname: f.get_default() for f in fields}
    # Only these need Django's conversion (UUID as hex, datetimes as text, JSON as text).
    special = (models.UUIDField, models.DateTimeField, models.JSONField, models.ForeignKey)
    prep = [(f.attname, f.get_db_prep_save if isinstance(f, special) else None) for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)

    def values(row: dict) -> tuple:
        out = []
        for name, convert in prep:
            value = row[name] if name in row else defaults[name]
            out.append(convert(value, connection) if convert else value)
        return tuple(out)

    def write(rows: list[dict]) -> None:
        if connection.vendor == "sqlite":
            marks = ", ".join("?" * len(fields))
            connection.connection.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", map(values, rows)
            )
            return
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(values(row))

    return write


@contextmanager
def search_index_suspended() -> Iterator[None]:
    """Bulk load without per-row index upkeep, then build the search index once."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = 'gallery_image'"
                " AND (name LIKE 'gallery_image_fts%' OR name LIKE 'gallery_image_chars%')"
            )
            saved = cursor.fetchall()
            for name, _ in saved:
                cursor.execute(f'DROP TRIGGER "{name}"')
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'gallery_image'"
                " AND (indexdef LIKE '%gin_trgm_ops%' OR indexdef LIKE '%gallery_grams%')"
            )
            saved = cursor.fetchall()
            for name, _ in saved:
                cursor.execute(f'DROP INDEX "{name}"')
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('rebuild')")
            # The short-term character index (migration 0004): its own rebuild statement.
            chars = importlib.import_module("gallery.migrations.0004_short_term_search")
            cursor.execute(chars.SQLITE_FORWARDS[-1])
        else:
            cursor.execute("SET maintenance_work_mem = '1GB'")
        for _, statement in saved:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
    print(f"  search index built in {time.perf_counter() - started:.0f} s", flush=True)


def load() -> Any:
    """Fill an empty database; returns the heavy user."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from gallery.models import Image
    from imagegen.models import Generation

    if User.objects.filter(username="heavy").exists():
        print("  reusing the rows already there", flush=True)
        costs_filled()
        return User.objects.get(username="heavy")
    started = time.perf_counter()
    write_generations, write_images = writer(Generation), writer(Image)
    if connection.vendor == "sqlite":  # random-keyed indexes (uuid, sha256) thrash a small cache
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")
    generations: list[dict] = []
    images: list[dict] = []
    with search_index_suspended():
        with transaction.atomic():
            heavy = User.objects.create_user("heavy")
            others = User.objects.bulk_create(User(username=f"u{i}") for i in range(OTHER_USERS))
            for generation, rows in generate_rows([u.id for u in others], heavy.id):
                generations.append(generation)
                images.extend(rows)
                if len(images) >= 20_000:
                    write_generations(generations)
                    write_images(images)
                    generations, images = [], []
            write_generations(generations)
            write_images(images)
        print(f"  {TOTAL:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    return heavy


def measure(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 90th percentile in ms, after one warm-up run."""
    run()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=10)[-1]


@contextmanager
def without_search_index() -> Iterator[None]:
    """PostgreSQL only: GIN indexes are used only through bitmap scans; turn those off."""
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_bitmapscan = off")
        yield


def run_cases(heavy: Any, runs: int) -> list[tuple]:
    from django.db.models import Q
    from django.test import Client
    from django.urls import reverse

    from gallery.models import Image
    from gallery.search import parse_terms, search_words

    client = Client()
    client.force_login(heavy)
    url = reverse("image_list")
    mine = Image.objects.for_user(heavy)
    deep = mine.order_by("-id").values_list("id", flat=True)[90_000]
    # (label, query string, the queryset as the view builds it (a search probes its indexes
    # then), the same search without the indexes)
    cases: list[tuple[str, dict, Callable[[], Any], Any]] = [
        ("gallery, first page", {}, lambda: mine, None),
        ("gallery, 90,000 images down", {"before": deep}, lambda: mine.filter(id__lt=deep), None),
    ]
    for label, text in SEARCHES:
        terms = parse_terms(text)
        scan = mine
        for term in terms.included:
            scan = scan.filter(Q(prompt__icontains=term) | Q(revised_prompt__icontains=term))
        for term in terms.excluded:
            scan = scan.exclude(Q(prompt__icontains=term) | Q(revised_prompt__icontains=term))
        build = lambda text=text: search_words(mine, text)  # noqa: E731
        cases.append((f"search: {label} {text}", {"q": text}, build, scan))
    for label, text in SORTED:
        build = lambda text=text: search_words(mine, text).order_by("id")  # noqa: E731
        cases.append((f"{label} {text}".strip(), {"q": text, "sort": "oldest"}, build, None))
    # Most expensive first (issue 13): the images with a cost, a keyset on (cost, id).
    dearest = lambda: mine.filter(cost__isnull=False).order_by("-cost", "-id")  # noqa: E731
    cases.append(("gallery, most expensive first", {"sort": "cost"}, dearest, None))
    cheap = lambda: mine.filter(cost__gte="0.01", cost__lte="0.02")  # noqa: E731
    cases.append(
        ("gallery, cost 0.01 to 0.02", {"cost_from": "0.01", "cost_to": "0.02"}, cheap, None)
    )

    def get(params: dict) -> None:
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code

    try:  # the page as the view reads it (its columns, the planner told of memory: PostgreSQL)
        from gallery.paging import tiles_of
    except ImportError:  # a checkout from before it: the rows whole
        tiles_of = lambda images: list(images[:PAGE])  # noqa: E731

    def first_page(build: Callable[[], Any]) -> Callable[[], list]:
        def run() -> list:
            images = build()
            return tiles_of(images if images.query.order_by else images.order_by("-id"))

        return run

    results = []
    for label, params, images, scan in cases:
        hits = images().count()
        view = measure(lambda params=params: get(params), runs)
        query = measure(first_page(images), runs)
        baseline = None
        if scan is not None:
            with without_search_index():
                baseline = measure(first_page(lambda scan=scan: scan), max(3, runs // 3))
        results.append((label, hits, view, query, baseline))
        print(f"  {label}: {view[0]:.1f} ms", flush=True)
    return results


def report(results: list[tuple], runs: int) -> bool:
    from django.db import connection

    print(f"\n{connection.display_name} {connection.get_database_version()}, {runs} runs each")
    print(f"{'case':56} {'rows':>7}  {'view med/p90 ms':>16}  {'query med/p90':>14}  "
          f"{'icontains scan':>14}")  # fmt: skip
    ok = True
    for label, hits, view, query, baseline in results:
        scan = f"{baseline[0]:6.1f} {baseline[1]:6.1f}" if baseline else f"{'-':>13}"
        within = view[1] < TARGET_MS
        ok &= within
        print(f"{label:56} {hits:>7,}  {view[0]:7.1f} {view[1]:7.1f}  {query[0]:6.1f} "
              f"{query[1]:6.1f}   {scan} {'' if within else ' OVER TARGET'}")  # fmt: skip
    print(
        f"\nTarget: every request (view p90) under {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per case")
    parser.add_argument("--keep", type=Path, help="SQLite: keep (and reuse) the data here")
    parser.add_argument("--url", default="", help="a database already loaded by a run (reused)")
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.keep and args.database == "sqlite":
            args.keep.mkdir(parents=True, exist_ok=True)
            workdir = args.keep
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        print(f"Setting up {args.database} in {workdir}", flush=True)
        setup_django(args.database, workdir, stack, args.url)
        heavy = load()
        results = run_cases(heavy, args.runs)
        return 0 if report(results, args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
