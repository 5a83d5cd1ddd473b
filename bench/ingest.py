"""Ingest cost against bare Pillow, on one realistic 1024x1024 PNG result.

Run by hand from the project root:  .venv/bin/python bench/ingest.py [--repeat 40] [--profile]

A: Pillow alone: open the PNG bytes, decode, thumbnail to 512 px (what any image app must pay).
B: our whole path for one result: base64 decode + ingest_image (verify, embed metadata, sha256,
   store original and thumbnail, insert the row).
The quality bar (DESIGN.md) is B <= 1.5 x A. Django runs against a throwaway SQLite database and
MEDIA_ROOT in a temporary directory, with the same SQLite options as production settings.
"""

import argparse
import base64
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


def setup_django(workdir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "imagegen.settings"
    os.environ["SECRET_KEY"] = "bench-only"
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def model_output(size: int = 1024, seed: int = 7) -> bytes:
    """A photographic-ish PNG: blurred shapes over gradients plus sensor-like noise.

    Flat colours compress to almost nothing and decode too fast; this lands at ~1.8 MB, in the
    range of real 1024x1024 PNG results.
    """
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    ramp = Image.linear_gradient("L").resize((size, size))
    im = Image.merge(
        "RGB", (ramp, Image.radial_gradient("L").resize((size, size)), ramp.rotate(90))
    )
    draw = ImageDraw.Draw(im)
    for _ in range(60):
        x, y, r = rnd.randrange(size), rnd.randrange(size), rnd.randrange(10, 200)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(6))
    noise = Image.merge("RGB", [Image.effect_noise((size, size), 4) for _ in range(3)])
    im = ImageChops.add(im, noise, offset=-128)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="cProfile B and print the top")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        setup_django(Path(tmp))
        from django.contrib.auth.models import User
        from PIL import Image

        from gallery.ingest import ingest_image
        from imagegen.models import Generation

        data = model_output()
        payload = base64.b64encode(data).decode("ascii")  # as it arrives in b64_json
        owner = User.objects.create_user("bench")
        generation = Generation.objects.create(
            owner=owner,
            model_name="gpt-image-1",
            prompt="A lighthouse on a cliff at dusk, long exposure, 35mm photograph",
            parameters={"n": 1, "size": "1024x1024", "quality": "high", "output_format": "png"},
        )
        slots = iter(range(10_000))

        def baseline() -> None:
            with Image.open(io.BytesIO(data)) as im:
                im.thumbnail((512, 512))

        def ours() -> None:
            ingest_image(generation, next(slots), base64.b64decode(payload))

        for _ in range(3):  # warm up caches, imports and the database file
            baseline()
            ours()
        a, b = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine state
            a.append(timed(baseline))
            b.append(timed(ours))

        (a_median, a_p90), (b_median, b_p90) = summary(a), summary(b)
        print(f"input: 1024x1024 PNG, {len(data) / 1e6:.2f} MB; {args.repeat} repetitions")
        print(f"A  Pillow decode + thumbnail     median {a_median:6.1f} ms  p90 {a_p90:6.1f} ms")
        print(f"B  base64 + ingest_image         median {b_median:6.1f} ms  p90 {b_p90:6.1f} ms")
        ratio = b_median / a_median
        verdict = "meets" if ratio <= TARGET else "MISSES"
        print(f"B/A (medians) {ratio:.2f}: {verdict} the {TARGET}x target")

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                ours()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
