"""Which web server: uvicorn (ASGI), granian (WSGI) and gunicorn (WSGI, gthread), measured alike.

Run by hand from the project root (the candidates must be installed in the venv):

    .venv/bin/pip install granian gunicorn uvicorn
    .venv/bin/python bench/web_servers.py [--seconds 20] [--clients 8] [--processes 2] [--threads 8]

One throwaway studio (SQLite, media and static files in a temporary directory, DEBUG off, one
person with 60 images and a running job) is served by each candidate in turn with the same
process and thread counts, on the same port, under the same closed-loop mixed load: `--clients`
threads, each with its own keep-alive connection, cycling through five requests: a small signed-in
page (the empty Trash), the gallery's first page (60 tiles), the page's job-status poll (htmx, one
running job, nothing changed), a static file (whitenoise, hashed name) and a thumbnail (a private
file view: the ownership check, then the bytes). It prints requests per second, p50/p95/p99 of
all requests and the median of each kind, and the resident memory of the server's processes.

Then, for each candidate, the kill test: kill -9 of the server's master process. Are processes
left (orphans), does the port still accept connections, and does the same command, started again
at once, serve? `--supervised` adds `manage.py serve --web-only` (imagegen/serving/), whose
children die with it (PR_SET_PDEATHSIG), to the kill test.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.studio_process import manage, studio_environment  # noqa: E402

SEED = """
import io, json, random
from django.test import Client
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image as Picture
from gallery.ingest import ingest_image
from imagegen.models import Generation

owner = User.objects.create_user("bench", password="bench-password-1")
rnd = random.Random(3)
for job_number in range(15):
    job = Generation.objects.create(
        owner=owner, model_name="gpt-image-2", prompt=f"A lantern on a pier, {job_number}",
        parameters={"n": 4, "size": "1024x1024"}, status="succeeded", attempts=1,
    )
    for index in range(4):
        picture = Picture.effect_noise((768, 768), 40 + rnd.randint(0, 40)).convert("RGB")
        data = io.BytesIO()
        picture.save(data, "PNG")
        image = ingest_image(job, index, data.getvalue())
running = Generation.objects.create(
    owner=owner, model_name="gpt-image-2", prompt="Still running", parameters={"n": 1},
    status="running", started_at=timezone.now(),
)
client = Client()
client.force_login(owner)
print(json.dumps({
    "session": client.cookies["sessionid"].value,
    "image": str(image.uuid),
    "job": running.status_token,
}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_commands(port: int, processes: int, threads: int) -> dict[str, list[str]]:
    bind = ("--host", "127.0.0.1", "--port", str(port))
    return {
        # Django runs each request's sync view in a thread of its own (asgiref); no thread count.
        "uvicorn (ASGI)": [
            *(sys.executable, "-m", "uvicorn", "imagegen.asgi:application", *bind),
            *("--workers", str(processes), "--no-access-log"),
        ],
        "granian (WSGI)": [
            *(sys.executable, "-m", "granian", "--interface", "wsgi", *bind),
            *("--workers", str(processes), "--blocking-threads", str(threads)),
            *("--no-ws", "--log-level", "warning", "imagegen.wsgi:application"),
        ],
        # The same granian, its workers forked to die with their master (imagegen/serving/web.py).
        "imagegen.serving.web": [
            *(sys.executable, "-m", "imagegen.serving.web", *bind),
            *("--processes", str(processes), "--threads", str(threads)),
        ],
        "gunicorn (WSGI, gthread)": [
            *(sys.executable, "-m", "gunicorn", "imagegen.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--worker-class", "gthread"),
            *("--workers", str(processes), "--threads", str(threads), "--log-level", "warning"),
        ],
    }


def supervised_command(port: int, processes: int, threads: int) -> list[str]:
    return [
        *(sys.executable, "manage.py", "serve", "--web-only", "--no-setup"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--web-processes", str(processes), "--web-threads", str(threads)),
    ]


def children_of(pid: int) -> list[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(fields[1])].append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # fixed commands
        command, cwd=ROOT, env=environment, stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def wait_serving(url: str, process: subprocess.Popen, timeout: float = 60) -> float | None:
    """Seconds until the login page answers 200; None if it never does or the process exits."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            return None
        try:
            if httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return None


def stop(process: subprocess.Popen, pids: list[int]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in pids:  # our own children, should any outlive their master
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def load(
    url: str, seed: dict, static: str, clients: int, seconds: float, only: dict | None = None
) -> dict[str, list]:
    requests = [
        ("small page", "/trash/", {}),
        ("gallery", "/images/", {}),
        ("status poll", f"/generations/status/?job={seed['job']}", {"HX-Request": "true"}),
        ("static file", f"/static/{static}", {}),
        ("thumbnail", f"/images/{seed['image']}/thumbnail", {}),
    ]
    if only:
        requests = [request for request in requests if request[0] in only]
    timings: dict[str, list] = defaultdict(list)
    errors: list[str] = []
    until = time.monotonic() + seconds

    def client(offset: int) -> None:
        cookies = {"sessionid": seed["session"]}
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as http:
            turn = offset
            while time.monotonic() < until:
                kind, path, headers = requests[turn % len(requests)]
                turn += 1
                began = time.perf_counter()
                response = http.get(path, headers=headers)
                spent = time.perf_counter() - began
                if response.status_code != 200:
                    errors.append(f"{kind}: {response.status_code}")
                timings[kind].append(spent)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return timings


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def kill_test(name: str, command: list[str], env: dict, port: int, logs: Path) -> str:
    """kill -9 the master and start the same command at once: orphans, and can the new one bind?"""
    url = f"http://127.0.0.1:{port}"
    log = logs / f"{name.split()[0]}-kill.log"
    master = start(command, env, log)
    if wait_serving(url, master) is None:
        return "did not start"
    time.sleep(1)  # every worker up
    descendants = children_of(master.pid)
    master.kill()
    master.wait()
    restarted = start(command, env, log)
    time.sleep(3)
    orphans = [pid for pid in descendants if alive(pid)]
    sharing = orphans and restarted.poll() is None  # both listening: SO_REUSEPORT
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    ready = wait_serving(url, restarted, timeout=20)  # answered by the new processes only
    stop(restarted, children_of(restarted.pid))
    left = f"{len(orphans)} of {len(descendants)} children alive 3 s later"
    if ready is None:
        return f"{left}; the restart FAILED (exit {restarted.returncode}: port in use)"
    if sharing:
        return f"{left}; the restart bound beside them (SO_REUSEPORT: both served)"
    return f"{left}; the restart serves"


def prepare(workdir: Path) -> tuple[dict[str, str], dict, str]:
    env = studio_environment(
        workdir / "bench.sqlite3",
        workdir / "media",
        STATIC_ROOT=str(workdir / "static"),
        SECURE_COOKIES="0",
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        PYTHONPATH=f"{workdir}{os.pathsep}{ROOT}",  # the connection settings below
    )
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]  # python -m tests.postgres -- ...
    for age in ("0", "None"):
        (workdir / f"conn_max_age_{age.lower()}.py").write_text(
            "from imagegen.settings import *  # noqa\n"
            f"DATABASES['default']['CONN_MAX_AGE'] = {age}\n"
        )
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    seed = json.loads(manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
    manifest = json.loads((workdir / "static" / "staticfiles.json").read_text())["paths"]
    return env, seed, manifest["css/studio.css"]


def open_connections(database_url: str) -> Callable[[], int]:
    """Counts the server's other connections to this database, through one of its own."""
    import psycopg

    watcher = psycopg.connect(database_url, autocommit=True)
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
    )
    return lambda: watcher.execute(query).fetchone()[0]


def connections_bench(args: argparse.Namespace, env: dict, seed: dict, static: str, port: int,
                      workdir: Path) -> None:  # fmt: skip
    """The database connection kept by each thread between requests, or opened for each one.

    For each setting: one client asking for the small page alone (the cost per request, nothing
    queued), then the mixed load; on PostgreSQL also the most connections the server held.
    """
    url = f"http://127.0.0.1:{port}"
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"\n{engine}, {args.processes} granian processes x {args.threads} threads "
          f"(imagegen.serving.web), {args.rounds} x {args.seconds:.0f} s each; ms")  # fmt: skip
    variants = {"CONN_MAX_AGE=0 (a connection per request)": "conn_max_age_0"}
    variants["CONN_MAX_AGE=None (one per thread, kept)"] = "conn_max_age_none"
    if engine == "PostgreSQL":
        variants = {"CONN_MAX_AGE=60 (the default here)": "imagegen.settings", **variants}
    command = [
        *(sys.executable, "-m", "imagegen.serving.web", "--port", str(port)),
        *("--processes", str(args.processes), "--threads", str(args.threads)),
    ]
    small = {"small page": []}
    results: dict[str, dict] = {name: {"alone": [], "mixed": [], "most": 0} for name in variants}
    for _ in range(args.rounds):
        for name, module in variants.items():
            process = start(command, {**env, "DJANGO_SETTINGS_MODULE": module}, workdir / "c.log")
            if wait_serving(url, process) is None:
                raise RuntimeError(f"{name}: the server did not start; see {workdir / 'c.log'}")
            load(url, seed, static, args.clients, 3)
            results[name]["alone"] += load(url, seed, static, 1, args.seconds, only=small)[
                "small page"
            ]
            sampling = threading.Event()
            counts: list[int] = []

            def sample(stop: threading.Event = sampling, found: list[int] = counts) -> None:
                count = open_connections(env["DATABASE_URL"])
                while not stop.wait(0.2):
                    found.append(count())

            sampler = threading.Thread(target=sample)
            if engine == "PostgreSQL":
                sampler.start()
            mixed = load(url, seed, static, args.clients, args.seconds)
            sampling.set()
            if sampler.is_alive():
                sampler.join()
            results[name]["mixed"] += [t for kind in mixed.values() for t in kind]
            results[name]["most"] = max([results[name]["most"], *counts])
            stop(process, [process.pid, *children_of(process.pid)])
    print(f"{'':<44}{'alone p50':>10}{'p95':>7}{'mixed req/s':>12}{'p50':>7}{'p95':>7}"
          + ("  most connections" if engine == "PostgreSQL" else ""))  # fmt: skip
    for name, found in results.items():
        rate = len(found["mixed"]) / (args.seconds * args.rounds)
        most = f"{found['most']:>18}" if engine == "PostgreSQL" else ""
        print(f"{name:<44}{percentile(found['alone'], 0.5):>10.1f}"
              f"{percentile(found['alone'], 0.95):>7.1f}{rate:>12.0f}"
              f"{percentile(found['mixed'], 0.5):>7.1f}{percentile(found['mixed'], 0.95):>7.1f}"
              f"{most}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per server")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--processes", type=int, default=2, help="web processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per process (WSGI)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--only", action="append", help="servers whose name starts so")
    parser.add_argument("--supervised", action="store_true", help="kill test of manage.py serve")
    parser.add_argument(
        "--connections",
        action="store_true",
        help="instead: database connections kept per thread or opened per request",
    )
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env, seed, static = prepare(workdir)
        if args.connections:
            connections_bench(args, env, seed, static, port, workdir)
            return 0
        commands = server_commands(port, args.processes, args.threads)
        if args.only:
            commands = {k: v for k, v in commands.items() if k.startswith(tuple(args.only))}
        print(f"{args.processes} processes x {args.threads} threads, {args.clients} clients, "
              f"{args.rounds} x {args.seconds:.0f} s each; ms")  # fmt: skip
        kinds = ["small page", "gallery", "status poll", "static file", "thumbnail"]
        print(f"{'server':<26}{'req/s':>7}{'p50':>7}{'p95':>7}{'p99':>7}  "
              + "".join(f"{k:>13}" for k in kinds) + f"{'RSS MB':>9}")  # fmt: skip
        timings: dict[str, dict[str, list]] = {name: defaultdict(list) for name in commands}
        memory: dict[str, float] = {}
        for _ in range(args.rounds):  # interleaved, so a busy moment of the machine is shared
            for name, command in commands.items():
                process = start(command, env, workdir / f"{name.split()[0]}.log")
                if wait_serving(url, process) is None:
                    raise RuntimeError(f"{name} did not start; see {workdir}")
                load(url, seed, static, args.clients, 3)  # warm-up: every process, every view
                for kind, spent in load(url, seed, static, args.clients, args.seconds).items():
                    timings[name][kind] += spent
                pids = [process.pid, *children_of(process.pid)]
                memory[name] = max(memory.get(name, 0), rss_mb(pids))
                stop(process, pids)
        for name, by_kind in timings.items():
            every = [t for kind in by_kind.values() for t in kind]
            rate = len(every) / (args.seconds * args.rounds)
            medians = "".join(f"{statistics.median(by_kind[k]) * 1000:>13.1f}" for k in kinds)
            print(f"{name:<26}{rate:>7.0f}{percentile(every, 0.5):>7.1f}"
                  f"{percentile(every, 0.95):>7.1f}{percentile(every, 0.99):>7.1f}  {medians}"
                  f"{memory[name]:>9.0f}")  # fmt: skip
        print("\nkill -9 of the master, then the same command at once:")
        kills = dict(commands)
        if args.supervised:
            kills["manage.py serve --web-only"] = supervised_command(
                port, args.processes, args.threads
            )
        for name, command in kills.items():
            print(f"  {name:<28} {kill_test(name, command, env, port, workdir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
