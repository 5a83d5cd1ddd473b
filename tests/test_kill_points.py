"""Nothing unaccounted for at any kill point of an image's ingest: a worker process killed with
SIGKILL before the first byte, after the original's bytes, or after the row, and the job's
recovery by the next worker deletes every file left under a record at once (the orphan sweep is
off), retries the job and keeps each image exactly once.

The workers are real `run_workers` processes on a real database: a SQLite file in the SQLite
pass, a database of its own on the run's PostgreSQL server in the PostgreSQL pass (`python -m
tests.postgres -- pytest ...`). The pause at the kill point is tests/kill_point_worker.py's.
"""

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.studio_process import (
    StudioDatabase,
    manage,
    start,
    studio_environment,
    submit_jobs,
    wait_for,
    worker_process,
)

MODEL = "gpt-image-2"  # base64 results, several to a request
PARAMETERS = {"size": "1024x1024", "quality": "low", "output_format": "png"}
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def postgres_url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def postgres_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url("postgres"), autocommit=True) as db:
        db.execute(sql)


def studio_env(url: str, media: Path) -> dict[str, str]:
    return studio_environment(
        Path("unused"),
        media,
        DATABASE_URL=url,
        OFFLINE_LATENCY="0.3",
        WORKER_STALE_AFTER="2",
        ORPHAN_SWEEP_INTERVAL="0",  # so only recovery can have removed a file
        MODEL_SYNC_INTERVAL="0",
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the module: a file, or a PostgreSQL template database."""
    directory = tmp_path_factory.mktemp("kill-points")
    if not ON_POSTGRES:
        url = f"sqlite:///{directory / 'template.sqlite3'}"
        manage(studio_env(url, directory / "media"), "migrate", "-v0")
        yield url
        return
    name = f"kill_points_template_{secrets.token_hex(4)}"
    postgres_admin(f"CREATE DATABASE {name}")
    manage(studio_env(postgres_url(name), directory / "media"), "migrate", "-v0")
    yield name
    postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Studio:
    """A database copied from the template, a media root, and worker processes on them."""

    def __init__(
        self, directory: Path, template: str, bucket: Any = None, **storage_env: str
    ) -> None:
        self.directory = directory
        self.media = directory / "media"
        self.bucket = bucket  # tests.s3_server.Bucket: the files are there instead
        if ON_POSTGRES:
            self.postgres_name = f"kill_points_{secrets.token_hex(4)}"
            postgres_admin(f"CREATE DATABASE {self.postgres_name} TEMPLATE {template}")
            url = postgres_url(self.postgres_name)
        else:
            database = directory / "studio.sqlite3"
            shutil.copy(urlsplit(template).path, database)
            url = f"sqlite:///{database}"
        self.db = StudioDatabase(url)
        self.env = studio_env(url, self.media) | storage_env
        self.processes: list[subprocess.Popen[bytes]] = []

    def submit(self, n: int) -> str:
        [pk] = submit_jobs(self.env, MODEL, {"n": n, **PARAMETERS})
        return pk

    @property
    def next_log(self) -> Path:
        return self.directory / f"worker-{len(self.processes)}.log"

    def start_paused_worker(self, point: str) -> tuple[subprocess.Popen[bytes], Path]:
        """A worker that stops at `point` of its first image; the file appears when it has."""
        signal_file = self.directory / f"reached-{len(self.processes)}"
        command = ["-m", "tests.kill_point_worker", point, str(signal_file)]
        worker = start(self.env, [*command, "--threads=1", "--interval=0.1"], self.next_log)
        self.processes.append(worker)
        return worker, signal_file

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = worker_process(self.env, self.next_log, "--threads=1")
        self.processes.append(worker)
        return worker

    def job(self, pk: str) -> tuple[str, int, str]:
        sql = "SELECT status, runs, error_code FROM imagegen_generation WHERE id = ?"
        return self.db.rows(sql, pk)[0]

    def images(self) -> list[int]:
        return [i for (i,) in self.db.rows('SELECT "index" FROM gallery_image ORDER BY "index"')]

    def records(self) -> set[str]:
        return {key for (key,) in self.db.rows("SELECT key FROM gallery_pendingfile")}

    def referenced(self) -> set[str]:
        rows = self.db.rows("SELECT file, thumbnail, grid FROM gallery_image")
        return {name for row in rows for name in row if name}

    def stored(self) -> set[str]:
        if self.bucket is not None:
            return self.bucket.keys()
        return {str(p.relative_to(self.media)) for p in self.media.rglob("*") if p.is_file()}

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        logs = sorted(self.directory.glob("worker-*.log"))
        wait_for(condition, timeout, "the workers to get there", logs)

    def kill_at(self, point: str) -> subprocess.Popen[bytes]:
        """Run the queue on a worker paused at `point`, then SIGKILL it there."""
        worker, reached = self.start_paused_worker(point)
        self.wait_for(reached.exists)
        worker.kill()
        worker.wait()
        return worker

    def close(self) -> None:
        for process in self.processes:  # whatever a failed test left running
            if process.poll() is None:
                process.kill()
                process.wait()
        if ON_POSTGRES:
            postgres_admin(f"DROP DATABASE IF EXISTS {self.postgres_name} WITH (FORCE)")


@pytest.fixture
def studio(tmp_path: Path, template: str) -> Iterator[Studio]:
    studio = Studio(tmp_path, template)
    yield studio
    studio.close()


@pytest.fixture
def studio_on_s3(tmp_path: Path, template: str, s3_server: Any) -> Iterator[Studio]:
    """The same, its files in a fresh bucket of the run's S3 server (tests/s3_server.py)."""
    from tests.s3_server import Bucket

    bucket = Bucket(s3_server.new_bucket(), s3_server.client())
    studio = Studio(tmp_path, template, bucket, **s3_server.environment(bucket.name))
    yield studio
    studio.close()


def assert_every_file_accounted_for(studio: Studio) -> None:
    """Every stored file has a row, every row's files are stored, and no record is left."""
    assert studio.records() == set()
    assert studio.stored() == studio.referenced()


@pytest.mark.parametrize("point", ["before_bytes", "after_original", "after_row"])
def test_a_worker_killed_mid_ingest_leaves_nothing_and_the_retry_keeps_each_image_once(
    studio: Studio, point: str
) -> None:
    pk = studio.submit(n=2)
    studio.kill_at(point)
    # What the kill left: each file on disk under its row or its record, and nothing else.
    left, records = studio.stored(), studio.records()
    assert studio.job(pk)[:2] == ("running", 1)
    if point == "after_row":
        assert (studio.images(), records) == ([0], set())
        assert left == studio.referenced()
    else:
        assert studio.images() == []
        assert len(records) == 3  # the original, its thumbnail and its grid rendition
        assert {key.split("/")[0] for key in records} == {"originals", "thumbnails", "grid"}
        written = {key for key in records if key.startswith("originals/")}
        assert left == (written if point == "after_original" else set())
    studio.start_worker()
    studio.wait_for(lambda: studio.job(pk)[0] == "succeeded")
    assert studio.job(pk)[:2] == ("succeeded", 2)
    assert studio.images() == [0, 1]  # each image once: the first run's row is kept
    assert_every_file_accounted_for(studio)
    assert not (records & studio.stored())  # the killed run's keys: gone, not kept
    assert len(studio.stored()) == 6


def test_on_object_storage_a_kill_after_the_original_leaves_nothing_either(
    studio_on_s3: Studio,
) -> None:
    studio = studio_on_s3
    pk = studio.submit(n=2)
    studio.kill_at("after_original")
    records = studio.records()
    assert studio.stored() == {key for key in records if key.startswith("originals/")}
    studio.start_worker()
    studio.wait_for(lambda: studio.job(pk)[0] == "succeeded")
    assert studio.images() == [0, 1]
    assert_every_file_accounted_for(studio)
    assert not list(studio.media.rglob("*.png"))  # in the bucket, not on disk


def test_recovery_deletes_the_files_of_a_killed_run_before_the_job_runs_again(
    studio: Studio,
) -> None:
    pk = studio.submit(n=1)
    studio.kill_at("after_original")
    [original] = [key for key in studio.records() if key.startswith("originals/")]
    assert (studio.media / original).exists()
    # The next worker, stopped before its own first byte: by then recovery has run.
    studio.kill_at("before_bytes")
    assert not (studio.media / original).exists()
    assert original not in studio.records()
    assert studio.stored() == set()
    assert studio.job(pk)[:2] == ("running", 2)


def test_a_job_killed_mid_write_twice_is_failed_with_nothing_left(studio: Studio) -> None:
    pk = studio.submit(n=1)
    studio.kill_at("after_original")
    studio.kill_at("after_original")  # its second and last run (recovery.MAX_RUNS)
    assert studio.job(pk)[:2] == ("running", 2)
    assert len(studio.stored()) == 1 and len(studio.records()) == 3
    studio.start_worker()
    studio.wait_for(lambda: studio.job(pk)[0] == "failed")
    assert studio.job(pk) == ("failed", 2, "worker_lost")
    studio.wait_for(lambda: not studio.records())  # the same recovery pass
    assert studio.images() == []
    assert studio.stored() == set()


# In one process: the rules the kill tests rely on.


def png() -> bytes:
    from tests.conftest import png_bytes

    return png_bytes()


@pytest.fixture
def running_job(alice: Any) -> Any:
    from imagegen.models import Generation

    return Generation.objects.create(
        owner=alice, model_name="dall-e-3", prompt="a kite", parameters={"n": 1},
        status=Generation.Status.RUNNING,
    )  # fmt: skip


def stored_under(media_root: Path) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def test_a_run_given_up_while_it_writes_saves_no_row_and_leaves_no_file(
    running_job: Any, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker only slow, not dead: recovery discards its files while it writes the rest. Its
    row transaction finds the records gone and keeps nothing, so no row points at a lost file."""
    from gallery import ingest
    from gallery.models import Image, PendingFile

    real_write = ingest.write_exactly

    def write_then_recovery_discards(storage: Any, key: str, content: bytes) -> None:
        real_write(storage, key, content)
        if key.startswith("originals/"):
            assert PendingFile.objects.filter(generation=running_job).discard() == 3
            assert stored_under(media_root) == set()

    monkeypatch.setattr(ingest, "write_exactly", write_then_recovery_discards)
    with pytest.raises(ingest.NotWanted):
        ingest.ingest_image(running_job, 0, png(), still_wanted=running_job.lock_if_running)
    assert not Image.objects.exists()
    assert not PendingFile.objects.exists()
    assert stored_under(media_root) == set()  # the thumbnails written after the discard too


def test_the_keys_are_recorded_before_the_first_byte_and_dropped_with_the_row(
    running_job: Any, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gallery import ingest
    from gallery.models import PendingFile

    seen: list[tuple[str, set[str], set[str]]] = []
    real_write = ingest.write_exactly

    def write(storage: Any, key: str, content: bytes) -> None:
        records = set(PendingFile.objects.values_list("key", flat=True))
        seen.append((key, records, stored_under(media_root)))
        real_write(storage, key, content)

    monkeypatch.setattr(ingest, "write_exactly", write)
    image = ingest.ingest_image(running_job, 0, png())
    keys = {image.file.name, image.thumbnail.name, image.grid.name}
    assert [key for key, _, _ in seen] == [image.file.name, image.thumbnail.name, image.grid.name]
    assert all(records == keys for _, records, _ in seen)  # all three, before any byte
    assert seen[0][2] == set()
    assert not PendingFile.objects.exists()
    assert stored_under(media_root) == keys  # stored exactly under the recorded keys


def test_a_taken_key_is_refused_rather_than_written_under_another_name(
    media_root: Path,
) -> None:
    from django.core.files.storage import FileSystemStorage

    from gallery.ingest import write_exactly

    storage = FileSystemStorage(location=media_root)
    taken = media_root / "originals" / "2026" / "05" / "taken.png"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        write_exactly(storage, "originals/2026/05/taken.png", b"mine")
    assert taken.read_bytes() == b"someone else's"
    assert stored_under(media_root) == {"originals/2026/05/taken.png"}  # no renamed copy

    class TakenMeanwhile(FileSystemStorage):  # another file arrives between look and write
        def exists(self, name: str) -> bool:
            found = super().exists(name)
            if name.endswith("meanwhile.png") and not found:
                (media_root / name).write_bytes(b"someone else's")
            return found

    with pytest.raises(FileExistsError):
        write_exactly(TakenMeanwhile(location=media_root), "originals/meanwhile.png", b"mine")
    assert (media_root / "originals/meanwhile.png").read_bytes() == b"someone else's"
    assert stored_under(media_root) == {"originals/2026/05/taken.png", "originals/meanwhile.png"}


def test_on_object_storage_a_file_is_stored_under_its_recorded_key_and_never_renamed(
    s3: Any, running_job: Any
) -> None:
    from django.core.files.storage import default_storage

    from gallery.ingest import ingest_image, write_exactly

    image = ingest_image(running_job, 0, png())
    assert s3.keys() == {image.file.name, image.thumbnail.name, image.grid.name}
    s3.write("originals/2026/05/taken.png", b"someone else's")
    with pytest.raises(FileExistsError):
        write_exactly(default_storage, "originals/2026/05/taken.png", b"mine")
    assert s3.read("originals/2026/05/taken.png") == b"someone else's"
    assert len(s3.keys("originals/")) == 2  # no renamed copy


def test_the_sweep_discards_records_nobody_is_writing_and_never_a_recorded_file_by_age(
    running_job: Any, alice: Any, media_root: Path
) -> None:
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from gallery.models import PendingFile
    from imagegen.models import Generation

    ended = Generation.objects.create(
        owner=alice, model_name="dall-e-3", prompt="a kite", parameters={"n": 1},
        status=Generation.Status.FAILED,
    )  # fmt: skip
    files = {
        "originals/2026/05/upload-killed.png": (None, 6),  # (its job, minutes ago)
        "originals/2026/05/upload-writing.png": (None, 1),
        "originals/2026/05/of-a-failed-job.png": (ended, 0),
        "originals/2026/05/of-a-running-job.png": (running_job, 120),
    }
    for key, (job, minutes) in files.items():
        path = media_root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half written")
        then = time.time() - 7200  # old files: only their records keep two of them
        os.utime(path, (then, then))
        record = PendingFile.objects.create(key=key, generation=job)
        PendingFile.objects.filter(pk=record.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )
    call_command("sweep_orphan_files", stdout=open(os.devnull, "w"))  # noqa: SIM115
    kept = {"originals/2026/05/upload-writing.png", "originals/2026/05/of-a-running-job.png"}
    assert set(PendingFile.objects.values_list("key", flat=True)) == kept
    assert stored_under(media_root) == kept
