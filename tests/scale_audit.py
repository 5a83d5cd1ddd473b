"""The scale run's view from inside the studio: it makes the people, then counts what was lost,
doubled or left behind. Run in the studio's own environment (its database and its storage, local
or S3), as a process of its own, by tests/scale_run.py:

    python -m tests.scale_audit people COUNT PASSWORD    make people scale-0 ... scale-(COUNT-1)
    python -m tests.scale_audit audit < submits.json     one JSON object of counts and examples

`submits.json` is what the clients saw: {"forms": how many generate forms they submitted (a form
sent again after its answer was lost counts once), "acknowledged": [the generation ids the studio
answered with]}.
"""

import json
import os
import sys
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

# A failed job is not lost when the retry policy says why it stopped: a job whose worker died
# is run at most twice (imagegen.recovery.MAX_RUNS), then failed with this code.
EXPLAINED_FAILURES = {"worker_lost"}
EXAMPLES = 5  # of each kind of problem, in the report


def make_people(count: int, password: str) -> None:
    from django.contrib.auth.models import User

    for number in range(count):
        User.objects.create_user(f"scale-{number}", f"scale-{number}@example.org", password)


def audit(submits: dict[str, Any]) -> dict[str, Any]:
    from django.core.files.storage import default_storage

    from gallery.management.commands.sweep_orphan_files import PREFIXES, stored_names
    from gallery.models import Image, PendingFile
    from imagegen.models import Generation

    jobs = {str(job.pk): job for job in Generation.objects.all()}
    acknowledged = set(submits["acknowledged"])
    problems: dict[str, list[str]] = {
        # lost jobs
        "acknowledged, no job": sorted(acknowledged - set(jobs)),
        "never ended": [],
        "failed, unexplained": [],
        "fewer images than asked": [],
        # duplicates
        "one form, two jobs": [],
        "more images than asked": [],
        "two rows for one slot": [],
        "two files of one image": [],
        # orphans
        "file with no image": [],
        "image with a missing file": [],
    }
    explained: list[str] = []
    images = list(Image.objects.filter(generation__isnull=False))
    kept = Counter(str(image.generation_id) for image in images)
    for pk, job in jobs.items():
        asked = job.requested_images
        if job.status in (Generation.Status.QUEUED, Generation.Status.RUNNING):
            problems["never ended"].append(pk)
        elif job.status == Generation.Status.FAILED:
            if job.error_code in EXPLAINED_FAILURES:
                explained.append(f"{pk} {job.error_code} after {job.runs} runs")
            else:
                reason = f"{job.error_code}: {job.error_message}"
                problems["failed, unexplained"].append(f"{pk} ({reason})")
        elif job.status == Generation.Status.SUCCEEDED and kept[pk] + job.images_failed < asked:
            problems["fewer images than asked"].append(f"{pk}: {kept[pk]} of {asked}")
        if kept[pk] > asked:
            problems["more images than asked"].append(f"{pk}: {kept[pk]} of {asked}")
    tokens = Counter(job.submit_token for job in jobs.values() if job.submit_token)
    problems["one form, two jobs"] = [f"{token}: {n}" for token, n in tokens.items() if n > 1]
    # Without a token to tell them apart, the jobs beyond one per submit are doubles.
    forms = submits["forms"]
    if not tokens and len(jobs) > forms:
        problems["one form, two jobs"].append(f"{len(jobs)} jobs for {forms} forms submitted")
    slots = Counter((image.generation_id, image.index) for image in images)
    problems["two rows for one slot"] = [f"{slot}: {n}" for slot, n in slots.items() if n > 1]

    stored = set(stored_names(default_storage, PREFIXES))
    referenced: set[str] = set()
    for image in Image.objects.all():
        names = [name for name in (image.file.name, image.thumbnail.name, image.grid.name) if name]
        referenced.update(names)
        missing = [name for name in names if name not in stored]
        if missing:
            problems["image with a missing file"].append(f"{image.uuid}: {', '.join(missing)}")
    by_uuid = {str(image.uuid) for image in Image.objects.all()}
    for name in sorted(stored - referenced):
        # A second copy of one image's file (a retried write saved under another name).
        of_an_image = PurePosixPath(name).stem[:36] in by_uuid
        problems["two files of one image" if of_an_image else "file with no image"].append(name)

    groups = {
        "lost jobs": [
            *("acknowledged, no job", "never ended", "failed, unexplained"),
            "fewer images than asked",
        ],
        "duplicate images": [
            *("one form, two jobs", "more images than asked"),
            *("two rows for one slot", "two files of one image"),
        ],
        "orphan files": ["file with no image", "image with a missing file"],
    }
    statuses = Counter(job.status for job in jobs.values())
    finished = [job.finished_at for job in jobs.values() if job.finished_at]
    created = [job.created_at for job in jobs.values()]
    return {
        "counts": {group: sum(len(problems[k]) for k in keys) for group, keys in groups.items()},
        "problems": {kind: found[:EXAMPLES] for kind, found in problems.items() if found},
        "problem_counts": {kind: len(found) for kind, found in problems.items() if found},
        "jobs": len(jobs),
        "statuses": dict(statuses),
        "explained_failures": explained[:EXAMPLES],
        "explained_failure_count": len(explained),
        "retried": sum(1 for job in jobs.values() if job.runs > 1),
        "images": len(images),
        "stored_files": len(stored),
        "pending_file_records": PendingFile.objects.count(),
        "span_seconds": (max(finished) - min(created)).total_seconds() if finished else 0.0,
        # Each job from its submit to its end: the upstream's latency plus the wait for a thread.
        "job_seconds": sorted(
            (job.finished_at - job.created_at).total_seconds()
            for job in jobs.values()
            if job.finished_at
        ),
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
    import django

    django.setup()
    command = sys.argv[1:2]
    if command == ["people"]:
        make_people(int(sys.argv[2]), sys.argv[3])
    elif command == ["audit"]:
        print(json.dumps(audit(json.load(sys.stdin))))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
