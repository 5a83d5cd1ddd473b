"""The scale-out run, shared by bench/scale.py (200 generations, 20 browsing clients) and
tests/test_scale.py (a short one in CI): the studio as separate processes on one PostgreSQL
database and one storage, driven through its pages while processes are killed.

On loopback: `web_processes` web servers (each on a port of its own) and `workers` worker
processes (`manage.py run_workers --processes 1`), DEBUG off, the offline provider taking
`latency` seconds a job. People sign in through the login form; `clients` browsers loop over the
gallery, an image page, its thumbnail, the generate page and its status poll, while one browser
per person submits that person's share of `generations` through the generate form. Requests go
round robin to the web processes, and to the next one when a process is down or dies with the
request (as nginx's `upstream` does): a submit whose answer was lost is sent again as it was.
When half the jobs are acknowledged, one worker (while it runs jobs) and one web process are
killed with SIGKILL, then started again `restart_after` seconds later, as systemd's
`Restart=always` would. When every job has ended, tests/scale_audit.py counts lost jobs,
duplicate images and orphan files.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from tests.postgres import free_port
from tests.scale_clients import Balancer, Browser, Recorder, Task
from tests.studio_process import REPO, manage, studio_environment

PASSWORD = "scale-run-password"  # throwaway people on a throwaway database
PAGES = ["gallery", "image page", "thumbnail", "generate form", "status poll"]
PROMPTS = ["a lighthouse at dusk", "a red kite over hills", "a bowl of lemons", "a tram in snow"]


@dataclass(frozen=True)
class Plan:
    generations: int = 200
    clients: int = 20
    people: int = 10  # each submits its share of the generations, and browsers sign in as them
    web_processes: int = 2
    workers: int = 2
    threads: int = 100  # per worker: every job can be running at once
    latency: float = 2.0  # OFFLINE_LATENCY, seconds a job
    kill: bool = True
    restart_after: float | None = 1.0  # None: what was killed stays down
    stale_after: float = 10.0  # WORKER_STALE_AFTER: how soon a killed worker's jobs are retried
    timeout: float = 900.0  # for the whole run, once the studio is up


@dataclass
class Outcome:
    """What the run saw from outside, and what the audit found inside."""

    plan: Plan
    recorder: Recorder
    forms: int = 0
    acknowledged: list[str] = field(default_factory=list)
    submit_seconds: float = 0.0
    kills: list[str] = field(default_factory=list)
    running_on_killed_worker: int = 0
    peak_connections: int = 0
    load: list[float] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return self.audit["counts"]


def psycopg_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))


class Studio:
    """The processes, each started, killed and started again on its own."""

    def __init__(self, plan: Plan, environment: dict[str, str], logs: Path) -> None:
        self.plan = plan
        self.environment = environment
        self.logs = logs
        self.ports = [free_port() for _ in range(plan.web_processes)]
        self.web: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def web_command(self, port: int) -> list[str]:
        return [
            *(sys.executable, "-m", "uvicorn", "imagegen.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        ]

    def worker_command(self) -> list[str]:
        threads = str(self.plan.threads)
        return [sys.executable, "manage.py", "run_workers", "--processes=1", f"--threads={threads}"]

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen(  # noqa: S603 (our own commands)
            command, cwd=REPO, env=self.environment, stdout=log, stderr=subprocess.STDOUT
        )

    def start_web(self, slot: int) -> subprocess.Popen[bytes]:
        return self._start(f"web-{slot}", self.web_command(self.ports[slot]))

    def start_worker(self, slot: int) -> subprocess.Popen[bytes]:
        return self._start(f"worker-{slot}", self.worker_command())

    def start(self) -> None:
        self.web = [self.start_web(slot) for slot in range(len(self.ports))]
        self.workers = [self.start_worker(slot) for slot in range(self.plan.workers)]
        deadline = time.monotonic() + 120
        for url in self.urls:
            while not self.answers(url):
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.web):
                    raise RuntimeError(f"the web processes did not start; see {self.logs}")
                time.sleep(0.2)

    @staticmethod
    def answers(url: str) -> bool:
        try:
            return httpx.get(f"{url}/accounts/login/", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        processes = [p for p in self.web + self.workers if p.poll() is None]
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


class Database:
    """The harness's own look at the database: how far the jobs are, how many connections."""

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(psycopg_url(url), autocommit=True)
        self.lock = threading.Lock()

    def one(self, query: str, *parameters: Any) -> int:
        with self.lock:
            return self.connection.execute(query, parameters).fetchone()[0]

    def unfinished(self) -> int:
        return self.one(
            "SELECT count(*) FROM imagegen_generation WHERE status IN ('queued', 'running')"
        )

    def running_on(self, pid: int) -> int:
        return self.one(
            "SELECT count(*) FROM imagegen_generation WHERE status = 'running' AND worker_id "
            "LIKE %s",
            f"%:{pid}",
        )

    def connections(self) -> int:
        return self.one("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")


def prepare(plan: Plan, database_url: str, root: Path, storage: dict[str, str]) -> Studio:
    """A fresh studio on the database: migrated, its static files collected, its people made."""
    environment = studio_environment(
        root / "unused.sqlite3",
        root / "media",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(root / "static"),
        SECURE_COOKIES="0",  # plain http on loopback
        OFFLINE_LATENCY=str(plan.latency),
        WORKER_THREADS=str(plan.threads),
        WORKER_STALE_AFTER=str(plan.stale_after),
        ORPHAN_SWEEP_INTERVAL="0",  # orphans are what the audit counts: nothing may hide them
        MODEL_SYNC_INTERVAL="0",  # no network here
        PYTHONUNBUFFERED="1",
        **storage,
    )
    manage(environment, "migrate", "--no-input", "--verbosity", "0")
    manage(environment, "collectstatic", "--no-input", "--verbosity", "0")
    audit_command(environment, "people", str(plan.people), PASSWORD)
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    return Studio(plan, environment, logs)


def audit_command(environment: dict[str, str], *arguments: str, given: str = "") -> str:
    finished = subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "tests.scale_audit", *arguments],
        cwd=REPO,
        env=environment,
        input=given,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode:
        raise RuntimeError(f"scale_audit {arguments[0]} failed:\n{finished.stderr}")
    return finished.stdout


def run(
    plan: Plan, database_url: str, root: Path, storage: dict[str, str] | None = None
) -> Outcome:
    """The whole run on an empty database; the studio's logs are left in root/logs."""
    studio = prepare(plan, database_url, root, storage or {})
    outcome = Outcome(plan, Recorder(), load=[os.getloadavg()[0]])
    database = Database(database_url)
    studio.start()
    try:
        drive(plan, studio, database, outcome)
    finally:
        studio.stop()
        database.connection.close()
    outcome.load.append(os.getloadavg()[0])
    submits = {"forms": outcome.forms, "acknowledged": outcome.acknowledged}
    outcome.audit = json.loads(
        audit_command(studio.environment, "audit", given=json.dumps(submits))
    )
    return outcome


def drive(plan: Plan, studio: Studio, database: Database, outcome: Outcome) -> None:
    balancer = Balancer(studio.urls)
    lock = threading.Lock()
    browsing = threading.Event()
    browsing.set()

    def browse(number: int) -> None:
        browser = Browser(balancer, outcome.recorder)
        browser.sign_in(f"scale-{number % plan.people}", PASSWORD)
        while browsing.is_set():
            browser.browse_once()
        browser.close()

    def submit(person: int) -> None:
        browser = Browser(balancer, outcome.recorder)
        browser.sign_in(f"scale-{person}", PASSWORD)
        for number in range(person, plan.generations, plan.people):
            with lock:
                outcome.forms += 1
            made = browser.submit(f"{PROMPTS[number % len(PROMPTS)]}, number {number}")
            with lock:
                outcome.acknowledged.append(made)
        browser.close()

    started = time.monotonic()
    deadline = started + plan.timeout
    browsers = [Task(lambda n=n: browse(n)) for n in range(plan.clients)]
    submitters = [Task(lambda p=p: submit(p)) for p in range(plan.people)]
    sampler = Task(lambda: sample_connections(database, browsing, outcome))
    for task in [sampler, *browsers, *submitters]:
        task.start()
    chaos = Chaos(plan, studio, database, outcome, started)
    try:
        while any(task.is_alive() for task in submitters):
            chaos.step(len(outcome.acknowledged))
            fail_on(browsers + submitters)
            if time.monotonic() > deadline:
                raise TimeoutError("the submits did not finish in time")
            time.sleep(0.05)
        outcome.submit_seconds = time.monotonic() - started
        while database.unfinished() or chaos.pending:
            chaos.step(len(outcome.acknowledged))
            fail_on(browsers + submitters)
            if time.monotonic() > deadline:
                break  # the audit names the jobs that never ended
            time.sleep(0.2)
    finally:
        browsing.clear()
        for task in [*browsers, *submitters, sampler]:
            task.join(timeout=120)
    fail_on(browsers + submitters)


def fail_on(tasks: list[Task]) -> None:
    for task in tasks:
        if task.failure is not None:
            raise RuntimeError("a client failed") from task.failure


def sample_connections(database: Database, running: threading.Event, outcome: Outcome) -> None:
    while running.is_set():
        outcome.peak_connections = max(outcome.peak_connections, database.connections())
        time.sleep(0.5)


class Chaos:
    """Kills a worker (once it runs jobs) and a web process when half the jobs are
    acknowledged, and starts them again `restart_after` seconds later (the web process once a
    client has found it down, so the balancer's retry is always exercised)."""

    def __init__(
        self, plan: Plan, studio: Studio, database: Database, outcome: Outcome, started: float
    ) -> None:
        self.plan, self.studio, self.database, self.outcome = plan, studio, database, outcome
        self.started = started
        self.done = not plan.kill
        self.waited_since = 0.0
        self.killed_at: float | None = None  # until both are started again
        self.retries_before = 0
        self.down = {"web": False, "worker": False}

    @property
    def pending(self) -> bool:
        return any(self.down.values())

    def step(self, acknowledged: int) -> None:
        now = time.monotonic()
        if self.pending:
            self.restart(now)
        if self.done or acknowledged < self.plan.generations / 2:
            return
        worker = self.studio.workers[0]
        running = self.database.running_on(worker.pid)
        self.waited_since = self.waited_since or now
        if not running and now - self.waited_since < 30:
            return  # a worker killed while idle would prove nothing
        self.retries_before = self.outcome.recorder.retries
        kill(worker)
        kill(self.studio.web[0])
        self.outcome.running_on_killed_worker = running
        self.note(f"worker {worker.pid} ({running} jobs running) and web :{self.studio.ports[0]}")
        self.done = True
        if self.plan.restart_after is not None:
            self.killed_at = now
            self.down = {"web": True, "worker": True}

    def restart(self, now: float) -> None:
        assert self.killed_at is not None
        if now - self.killed_at < self.plan.restart_after:
            return
        if self.down["worker"]:
            self.studio.workers[0] = self.studio.start_worker(0)
            self.note("worker started again")
            self.down["worker"] = False
        found_down = self.outcome.recorder.retries > self.retries_before
        if self.down["web"] and (found_down or now - self.killed_at > 10):
            self.studio.web[0] = self.studio.start_web(0)
            self.note("web process started again")
            self.down["web"] = False

    def note(self, event: str) -> None:
        self.outcome.kills.append(f"{time.monotonic() - self.started:5.1f} s: {event}")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the value that `share` of the values are at or under."""
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, round(share * len(ranked) + 0.5) - 1))]


def table(outcome: Outcome) -> str:
    """The figures, as bench/scale.py prints them and tests/test_scale.py shows on failure."""
    plan, audit, seen = outcome.plan, outcome.audit, outcome.recorder.seconds
    threads = plan.workers * plan.threads
    ideal_span = plan.latency * -(-plan.generations // threads)  # rounds of `threads` jobs
    span = audit["span_seconds"] or float("nan")
    submitting = outcome.submit_seconds or float("nan")
    lines = [
        f"{plan.generations} generations, {plan.clients} browsing clients, {plan.people} people; "
        f"{plan.web_processes} web processes, {plan.workers} workers x {plan.threads} threads; "
        f"offline latency {plan.latency:g} s",
        f"load average (1 min) before {outcome.load[0]:.1f}, after {outcome.load[-1]:.1f}",
        *outcome.kills,
        "",
        f"{'requests':<16}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
    ]
    every_page = [s for kind in PAGES for s in seen.get(kind, [])]
    for kind, values in [*((k, seen.get(k, [])) for k in PAGES), ("all pages", every_page)]:
        if values:
            figures = (1000 * percentile(values, share) for share in (0.5, 0.95, 0.99))
            lines.append(f"{kind:<16}{len(values):>7}" + "".join(f"{f:>9.0f}" for f in figures))
    for kind in ("submit", "sign-in"):
        if seen.get(kind):
            figures = (1000 * percentile(seen[kind], share) for share in (0.5, 0.95, 0.99))
            lines.append(f"{kind:<16}{len(seen[kind]):>7}" + "".join(f"{f:>9.0f}" for f in figures))
    recorder = outcome.recorder
    lines += [
        "",
        f"sent to the other web process: {recorder.retries} (submits whose answer was lost, "
        f"sent again: {recorder.answers_lost})",
        f"unexpected answers: {dict(recorder.unexpected) or 'none'}",
        f"jobs: {audit['jobs']} for {outcome.forms} forms, {audit['statuses']}; "
        f"retried after a kill: {audit['retried']}; failed as the retry policy says: "
        f"{audit['explained_failure_count']}",
        f"submits: {outcome.forms / submitting:.1f}/s over {submitting:.1f} s",
        f"jobs/s: {audit['jobs'] / span:.2f} (first submit to last job ended: {span:.1f} s); "
        f"ideal {plan.generations / ideal_span:.1f} ({plan.generations} x {plan.latency:g} s "
        f"over {threads} threads: {ideal_span:g} s)",
        f"images {audit['images']}, files stored {audit['stored_files']}, files-being-written "
        f"records left {audit['pending_file_records']}; peak database connections "
        f"{outcome.peak_connections}",
        "",
    ]
    for name, count in outcome.counts.items():
        lines.append(f"{name:<18}{count:>5}{'' if count == 0 else '   <-- must be 0'}")
    for kind, examples in audit["problems"].items():
        lines.append(f"  {kind} ({audit['problem_counts'][kind]}): {'; '.join(examples)}")
    return "\n".join(lines)
