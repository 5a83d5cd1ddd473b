"""The generate form per model: rendering it and validating a submit, against a baseline tree.

Run by hand from the project root:
    .venv/bin/python bench/generate_form.py [MODEL ...] [--runs 300] [--warmup 30]
    git worktree add /tmp/baseline-tree <older commit>
    .venv/bin/python bench/generate_form.py gpt-image-2 gpt-image-2.6-flare \
        --baseline-tree /tmp/baseline-tree
    .venv/bin/python bench/generate_form.py --tree /tmp/baseline-tree   # only that tree's code

For each model, interleaved, --runs times after --warmup unrecorded rounds:
- partial: GenerateForm(initial={"model": NAME}) rendered as "imagegen/generate.html#model-fields";
- page: the whole generate page, GET /generate/?model=NAME through the test client, signed in;
- validate: GenerateForm(data).is_valid() and the request body built from it, with data made from
  the form's own initial values (an untouched form submitted as it is).
It prints median and p95 in ms per model, and one JSON line (prefix BENCH-JSON) for scripts.
With --baseline-tree, the same script first runs in a subprocess on that tree's code (same
interpreter, PYTHONPATH and cwd set to the tree) for --baseline-model, and a table compares this
tree's models with it: ratio of medians, and whether it is at most 10 % slower. Each run uses a
throwaway SQLite database and media root in a temporary directory, DEBUG=1.
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JSON_PREFIX = "BENCH-JSON "
TOLERANCE = 1.10  # at most 10 % slower than the baseline
PROMPT = "A lighthouse on a cliff at dusk, long exposure, 35mm photograph"

Stats = dict[str, float]  # {"median": ms, "p95": ms}
Figures = dict[str, dict[str, Stats]]  # model -> measure (partial, page, validate) -> stats


def setup_django(tree: Path, workdir: Path) -> None:
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="imagegen.settings",
        SECRET_KEY="bench-only",
        DEBUG="1",
        LOG_LEVEL="WARNING",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    import imagegen  # the editable install must not win over the tree asked for

    if not Path(imagegen.__file__).resolve().is_relative_to(tree):
        raise SystemExit(f"imagegen was imported from {imagegen.__file__}, not from {tree}")


def body_builder() -> Callable[[Any, str, dict[str, Any]], dict[str, Any]]:
    """build_request_body from the new catalogue, else from today's service module."""
    for module in ("imagegen.catalogue", "imagegen.service"):
        build = getattr(importlib.import_module(module), "build_request_body", None)
        if build is not None:
            return build  # type: ignore[no-any-return]
    raise SystemExit("no build_request_body in imagegen.catalogue or imagegen.service")


def valid_data(form: Any, name: str) -> dict[str, Any]:
    """What the browser sends for the untouched form: every initial value, unchecked boxes out."""
    data: dict[str, Any] = {"model": name, "prompt": PROMPT}
    for field in form:
        value = field.value()
        if field.name not in data and value not in (None, "", False):
            data[field.name] = "on" if value is True else value
    return data


def summary(samples: list[float]) -> Stats:
    return {"median": statistics.median(samples), "p95": statistics.quantiles(samples, n=20)[-1]}


def measure(steps: dict[str, Callable[[], object]], runs: int, warmup: int) -> dict[str, Stats]:
    samples: dict[str, list[float]] = {key: [] for key in steps}
    for round_ in range(warmup + runs):
        for key, step in steps.items():  # interleaved, so all see the same machine state
            start = time.perf_counter_ns()
            step()
            elapsed = time.perf_counter_ns() - start
            if round_ >= warmup:
                samples[key].append(elapsed / 1e6)
    return {key: summary(values) for key, values in samples.items()}


def bench_model(name: str, client: Any, runs: int, warmup: int) -> dict[str, Stats]:
    from django.template.loader import render_to_string
    from django.urls import reverse

    from imagegen.forms import GenerateForm

    build = body_builder()
    probe = GenerateForm(initial={"model": name})
    if name not in {str(value) for value, _label in probe.fields["model"].choices}:
        raise SystemExit(f"{name} is not an enabled model here; the form would fall back")
    data = valid_data(probe, name)
    url = reverse("generate")

    def partial() -> str:
        form = GenerateForm(initial={"model": name})
        return render_to_string("imagegen/generate.html#model-fields", {"form": form})

    def page() -> None:
        response = client.get(url, {"model": name})
        if response.status_code != 200:
            raise SystemExit(f"GET {url}?model={name}: status {response.status_code}")

    def validate() -> dict[str, Any]:
        form = GenerateForm(data)
        if not form.is_valid():
            raise SystemExit(f"{name}: the form refused {data}: {form.errors.as_text()}")
        spec = form.spec if hasattr(form, "spec") else form.profile
        return build(spec, form.cleaned_data["prompt"], form.options())

    return measure({"partial": partial, "page": page, "validate": validate}, runs, warmup)


def run_here(tree: Path, models: list[str], runs: int, warmup: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-generate-form-") as tmp:
        setup_django(tree, Path(tmp))
        import django
        from django.contrib.auth.models import User
        from django.test import Client

        client = Client(SERVER_NAME="localhost")  # in ALLOWED_HOSTS; no test-environment hooks
        client.force_login(User.objects.create_user("bench"))
        print(f"tree {tree} (Django {django.get_version()}), {runs} runs after {warmup} warm-up")
        figures: Figures = {}
        for name in models:
            figures[name] = bench_model(name, client, runs, warmup)
            for key, stats in figures[name].items():
                median, p95 = stats["median"], stats["p95"]
                print(f"{name:16} {key:9} median {median:7.3f} ms  p95 {p95:7.3f} ms")
        print(JSON_PREFIX + json.dumps({"tree": str(tree), "runs": runs, "models": figures}))
        return figures


def run_baseline(tree: Path, model: str, runs: int, warmup: int) -> dict[str, Stats]:
    command = [sys.executable, str(Path(__file__).resolve()), model, "--tree", str(tree)]
    command += [f"--runs={runs}", f"--warmup={warmup}"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"baseline run failed:\n{result.stdout}{result.stderr}")
    for line in result.stdout.splitlines():
        if line.startswith(JSON_PREFIX):
            figures: dict[str, Stats] = json.loads(line.removeprefix(JSON_PREFIX))["models"][model]
            return figures
        print(f"baseline: {line}")
    raise SystemExit(f"the baseline printed no {JSON_PREFIX.strip()} line:\n{result.stdout}")


def compare(base_name: str, base: dict[str, Stats], figures: Figures) -> None:
    print(f"\nbaseline {base_name} vs this tree (medians; ok = at most {TOLERANCE - 1:.0%} slower)")
    print(f"{'measure':9} {'model':16} {'baseline':>10} {'this tree':>10} {'ratio':>6}  verdict")
    for key in base:
        for name, stats in figures.items():
            before, after = base[key]["median"], stats[key]["median"]
            verdict = "ok" if after <= before * TOLERANCE else "SLOWER"
            ratio = after / before
            print(f"{key:9} {name:16} {before:7.3f} ms {after:7.3f} ms {ratio:6.2f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["gpt-image-2"])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose code is measured")
    parser.add_argument("--baseline-tree", type=Path, help="checkout to compare with")
    parser.add_argument("--baseline-model", default="gpt-image-2")
    args = parser.parse_args()

    base = None
    if args.baseline_tree:  # first, so its figures are there even if this tree fails
        tree = args.baseline_tree.resolve()
        base = run_baseline(tree, args.baseline_model, args.runs, args.warmup)
    figures = run_here(args.tree.resolve(), args.models, args.runs, args.warmup)
    if base is not None:
        compare(args.baseline_model, base, figures)


if __name__ == "__main__":
    main()
