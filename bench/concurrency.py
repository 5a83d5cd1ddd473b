"""Many jobs at once: 64 generations against the workers, with the upstream taking 2 s each.

Run by hand from the project root:
    .venv/bin/python bench/concurrency.py                     # defaults, then one job at a time
    .venv/bin/python bench/concurrency.py --config 1x64 --config 2x32 --config 4x16
    .venv/bin/python -m tests.postgres -- .venv/bin/python bench/concurrency.py   # PostgreSQL

Each configuration starts `manage.py run_workers` as a real subprocess (with more than one
process, a supervisor and its children, as in production) on a throwaway database (SQLite, or
PostgreSQL when DATABASE_URL points at one) and media root, with the offline provider answering
after OFFLINE_LATENCY seconds and drawing real 1024x1024 PNGs in the worker. Once the workers are
up and idle, it measures their CPU while idle (the cost of looking at an empty queue), then
submits all the jobs at once through `submit_generation` (as the form does) and waits until every
one has ended. It prints:
- wall time from the first submission to the last job finished, against the ideal: one upstream
  latency, as if every job ran at once on an infinitely fast machine;
- the workers' peak memory: the sum over all worker processes of their VmHWM (peak RSS), read
  from /proc. A sum of peaks is an upper bound (each process may peak at another moment, and
  shared library pages are counted once per process).
Target (DESIGN.md, issue "Concurrency and memory"): 64 jobs <= 8 s, workers <= 1 GB in total.
The serial row (`1x1`, one job at a time) runs fewer jobs and extrapolates to the same count.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALL_TARGET = 8.0
MEMORY_TARGET_MB = 1024.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LOAD_BEFORE = os.getloadavg()[0]  # other work on the machine makes every figure worse
# What the form sends for each model: about one megapixel, the model's default result format.
REQUESTS = {
    "doubao-seedream-5-0-260128": {"size": "1024x1024", "n": 1, "response_format": "url"},
    "qwen-image": {"size": "1328x1328"},
}


@dataclass(frozen=True)
class Outcome:
    config: str
    jobs: int
    measured_jobs: int
    wall: float
    p50: float
    p95: float
    waited: float
    submit: float
    ran: float
    peak_mb: float
    cpu: float
    idle_cpu: float
    processes: int


def setup_django(workdir: Path, latency: float) -> dict[str, str]:
    """Environment shared by this process and the workers; Django set up on it here."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imagegen.settings",
        "SECRET_KEY": "bench-only",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "MEDIA_ROOT": str(workdir / "media"),
        "OFFLINE_LATENCY": str(latency),
        "ORPHAN_SWEEP_INTERVAL": "0",
    }
    env.pop("COMETAPI_KEY", None)  # always the offline provider
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(env)
    os.environ.pop("COMETAPI_KEY", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return env


def worker_pids(root: int) -> list[int]:
    """The supervisor and every process below it (the sweep is off, so only workers)."""
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            queue.extend(int(child) for child in task.read_text().split())
    return pids


def proc_status(pid: int, field: str) -> float:
    """A kB field of /proc/PID/status, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def wait_for_workers(expected: int, timeout: float = 30.0) -> None:
    from imagegen.models import WorkerProcess

    deadline = time.monotonic() + timeout
    while WorkerProcess.objects.count() < expected:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start")
        time.sleep(0.1)


def submit(owner: object, count: int, model: str) -> list[str]:
    from imagegen.forms import GenerateForm
    from imagegen.submissions import submit_generation

    ids = []
    for n in range(count):
        prompt = f"A lighthouse on a cliff at dusk, long exposure, photograph {n}"
        form = GenerateForm(data={"model": model, "prompt": prompt, **REQUESTS[model]})
        if not form.is_valid():
            raise SystemExit(f"form refused the benchmark request: {form.errors.as_text()}")
        ids.append(str(submit_generation(owner, form).pk))
    return ids


def run(config: str, jobs: int, extrapolate_to: int, env: dict[str, str], model: str) -> Outcome:
    from django.contrib.auth.models import User

    from gallery.models import Image
    from imagegen.models import Generation

    processes, threads = (int(part) for part in config.split("x"))
    owner = User.objects.create_user(f"bench-{config}-{time.monotonic_ns()}")
    command = [sys.executable, "manage.py", "run_workers", "--verbosity=0"]
    command += [f"--processes={processes}", f"--threads={threads}"]
    supervisor = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for_workers(processes)
        time.sleep(1.5)  # threads start within 1 s of each other (the library's startup delay)
        pids = worker_pids(supervisor.pid)
        idle_start = cpu_seconds(pids)
        time.sleep(3.0)
        idle_cpu = (cpu_seconds(pids) - idle_start) / 3.0
        cpu_before = cpu_seconds(pids)

        started = time.monotonic()
        ids = submit(owner, jobs, model)
        submitted = time.monotonic() - started
        pending = Generation.objects.filter(pk__in=ids, status__in=["queued", "running"])
        while pending.exists():
            if time.monotonic() - started > 600:
                raise SystemExit("jobs did not finish within 10 minutes")
            time.sleep(0.02)
        wall = time.monotonic() - started
        cpu = cpu_seconds(pids) - cpu_before
        peak_mb = sum(proc_status(pid, "VmHWM") for pid in pids)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)

    done = Generation.objects.filter(pk__in=ids)
    statuses = set(done.values_list("status", flat=True))
    if statuses != {"succeeded"} or Image.objects.filter(generation__in=ids).count() != jobs:
        raise SystemExit(f"{config}: not every job succeeded with one image: {statuses}")
    latencies = sorted((g.finished_at - g.created_at).total_seconds() for g in done)
    waits = sorted((g.started_at - g.created_at).total_seconds() for g in done)
    runs = sorted((g.finished_at - g.started_at).total_seconds() for g in done)
    scale = extrapolate_to / jobs
    return Outcome(
        config=config,
        jobs=extrapolate_to,
        measured_jobs=jobs,
        wall=wall * scale,
        p50=latencies[len(latencies) // 2],
        p95=latencies[int(len(latencies) * 0.95) - 1 if len(latencies) > 1 else 0],
        waited=waits[len(waits) // 2],
        submit=submitted,
        ran=runs[len(runs) // 2],
        peak_mb=peak_mb,
        cpu=cpu,
        idle_cpu=idle_cpu,
        processes=len(pids),
    )


def print_table(outcomes: list[Outcome], latency: float, database: str) -> None:
    print(f"\nupstream latency {latency:.1f} s (the ideal wall time); database: {database}")
    print(f"{os.cpu_count()} CPUs; load average before the runs: {LOAD_BEFORE:.2f}")
    header = (
        f"{'config':<8}{'jobs':>6}{'wall s':>8}{'x ideal':>8}{'p50 s':>7}{'p95 s':>7}"
        f"{'submit':>7}{'wait':>6}{'run':>6}{'peak MB':>8}{'procs':>6}{'CPU s':>7}{'idle':>6}"
    )
    print(header + "  target")
    print("-" * (len(header) + 8))
    for o in outcomes:
        jobs = f"{o.jobs}" if o.jobs == o.measured_jobs else f"{o.jobs}*"
        met = o.wall <= WALL_TARGET and o.peak_mb <= MEMORY_TARGET_MB
        print(
            f"{o.config:<8}{jobs:>6}{o.wall:>8.2f}{o.wall / latency:>8.2f}{o.p50:>7.2f}"
            f"{o.p95:>7.2f}{o.submit:>7.2f}{o.waited:>6.2f}{o.ran:>6.2f}{o.peak_mb:>8.0f}"
            f"{o.processes:>6}{o.cpu:>7.1f}{o.idle_cpu:>6.0%}  {'met' if met else 'MISSED'}"
        )
    if any(o.jobs != o.measured_jobs for o in outcomes):
        print("* measured on fewer jobs, one at a time, and scaled to the same count")
    print(
        "config: processes x threads (plus a supervisor when processes > 1)\n"
        "p50/p95: submitted to finished, per job; submit: time to submit them all;\n"
        "wait/run (p50): submitted to started, started to finished; peak MB: sum of VmHWM;\n"
        "CPU s: the workers' CPU for the run; idle: their CPU while the queue is empty"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--latency", type=float, default=2.0, help="OFFLINE_LATENCY, seconds")
    parser.add_argument(
        "--config",
        action="append",
        help="PxN to run (repeatable); default: the settings' defaults, then 1x1",
    )
    parser.add_argument("--serial-jobs", type=int, default=8, help="jobs measured for 1x1")
    parser.add_argument("--model", default="doubao-seedream-5-0-260128", choices=sorted(REQUESTS))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        env = setup_django(Path(tmp), args.latency)
        from django.conf import settings
        from django.db import connection

        default = f"{settings.WORKER_PROCESSES}x{settings.WORKER_THREADS}"
        outcomes = []
        for config in args.config or [default, "1x1"]:
            serial = config == "1x1"
            jobs = min(args.jobs, args.serial_jobs) if serial else args.jobs
            print(f"{config}: {jobs} jobs ...", flush=True)
            outcomes.append(run(config, jobs, args.jobs, env, args.model))
        print_table(outcomes, args.latency, connection.vendor)
        print(f"the settings' default (WORKER_PROCESSES x WORKER_THREADS): {default}")


if __name__ == "__main__":
    main()
