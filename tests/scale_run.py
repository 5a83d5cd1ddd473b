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
`Restart=always` would (the web process once a client has found it down, so the balancer's retry
is always exercised). When every job has ended, tests/scale_audit.py counts lost jobs,
duplicate images and orphan files.
"""

import json
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.scale_clients import Balancer, Browser, Recorder, Task
from tests.scale_studio import Database, Studio, audit_command, kill, prepare

PASSWORD = "scale-run-password"  # throwaway people on a throwaway database
SHARES = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)]
SERVER = tuple(f": {status}" for status in range(500, 600))  # a 5xx answer, as counted
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
    first_submit: float = 0.0  # time.monotonic() of the first form sent
    submit_seconds: float = 0.0  # from there to the last acknowledged
    kills: list[str] = field(default_factory=list)
    running_on_killed_worker: int = 0
    peak_connections: int = 0
    load: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds: cpu_seconds(), and wall
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """What must be 0: the audit's three, and the answers of a web process that failed."""
        errors = sum(n for seen, n in self.recorder.unexpected.items() if seen.endswith(SERVER))
        return {**self.audit["counts"], "server errors": errors}


def run(
    plan: Plan, database_url: str, root: Path, storage: dict[str, str] | None = None
) -> Outcome:
    """The whole run on an empty database; the studio's logs are left in root/logs."""
    studio = prepare(
        root,
        database_url,
        plan.web_processes,
        plan.workers,
        OFFLINE_LATENCY=str(plan.latency),
        WORKER_THREADS=str(plan.threads),
        WORKER_STALE_AFTER=str(plan.stale_after),
        **(storage or {}),
    )
    audit_command(studio.environment, "people", str(plan.people), PASSWORD)
    outcome = Outcome(plan, Recorder(), load=[os.getloadavg()[0]])
    database = Database(database_url)
    before, started = cpu_seconds(), time.monotonic()
    studio.start()
    try:
        drive(plan, studio, database, outcome)
    finally:
        studio.stop()
        database.connection.close()
    outcome.cpu = {name: used - before[name] for name, used in cpu_seconds().items()}
    outcome.cpu["wall"] = time.monotonic() - started
    outcome.load.append(os.getloadavg()[0])
    submits = {"forms": outcome.forms, "acknowledged": outcome.acknowledged}
    outcome.audit = json.loads(
        audit_command(studio.environment, "audit", given=json.dumps(submits))
    )
    return outcome


def cpu_seconds() -> dict[str, float]:
    """CPU used so far by this process (the clients) and by its children that have ended (the
    studio's processes, once stopped; not a killed web process's worker, which init reaps)."""
    used = {"clients": resource.RUSAGE_SELF, "studio": resource.RUSAGE_CHILDREN}
    return {
        name: resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for name, who in used.items()
    }


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
                outcome.first_submit = outcome.first_submit or time.monotonic()
            made = browser.submit(f"{PROMPTS[number % len(PROMPTS)]}, number {number}")
            with lock:
                outcome.acknowledged.append(made)
                outcome.submit_seconds = time.monotonic() - outcome.first_submit
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
    took = audit["job_seconds"]
    threads = plan.workers * plan.threads
    ideal_span = plan.latency * -(-plan.generations // threads)  # rounds of `threads` jobs
    span = audit["span_seconds"] or float("nan")
    submitting = outcome.submit_seconds or float("nan")
    lines = [
        f"{plan.generations} generations, {plan.clients} browsing clients, {plan.people} people; "
        f"{plan.web_processes} web processes, {plan.workers} workers x {plan.threads} threads; "
        f"offline latency {plan.latency:g} s",
        f"load average (1 min) before {outcome.load[0]:.1f}, after {outcome.load[-1]:.1f}; "
        f"CPU s: studio {outcome.cpu['studio']:.0f}, clients {outcome.cpu['clients']:.0f}, "
        f"over {outcome.cpu['wall']:.0f} s",
        *outcome.kills,
        "",
        f"{'requests':<16}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
    ]
    every_page = [s for kind in PAGES for s in seen.get(kind, [])]
    rows = [*((kind, seen.get(kind, [])) for kind in PAGES), ("all pages", every_page)]
    rows += [(kind, seen.get(kind, [])) for kind in ("signed file", "submit", "sign-in")]
    for kind, values in rows:
        if values:
            figures = "".join(f"{1000 * percentile(values, share):>9.0f}" for _, share in SHARES)
            lines.append(f"{kind:<16}{len(values):>7}{figures}")
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
        "job from submit to end, s: "
        + ", ".join(f"{name} {percentile(took, share):.1f}" for name, share in SHARES if took)
        + f" (the upstream alone: {plan.latency:g} s)",
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
