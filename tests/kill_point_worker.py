"""`manage.py run_workers`, stopped at one instant of an image's ingest, for a test to kill.

    python -m tests.kill_point_worker POINT SIGNAL_FILE [run_workers arguments...]

The first time the process reaches POINT it writes SIGNAL_FILE and sleeps until it is killed:
  before_bytes    the image's keys are recorded, not a byte is written yet
  after_original  the original's bytes are written; the thumbnails and the row are not
  after_row       the image's row is saved (its records dropped)
The studio holds no hook for this: the storage's `save` and ingest's `store_image` are wrapped
here, in this process only (one worker process, so its jobs run in it).
"""

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

POINTS = ("before_bytes", "after_original", "after_row")


def main() -> None:
    point, signal_file, *arguments = sys.argv[1:]
    if point not in POINTS:
        raise SystemExit(f"POINT must be one of {', '.join(POINTS)}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
    import django

    django.setup()
    from django.core.files.storage import Storage
    from django.core.management import execute_from_command_line

    from gallery import ingest

    reached = threading.Lock()

    def stop_here() -> None:
        if reached.acquire(blocking=False):  # the first time only
            Path(signal_file).write_text(point)
            while True:
                time.sleep(3600)  # until SIGKILL

    real_save, real_store = Storage.save, ingest.store_image

    def save(storage: Storage, name: str, *args: Any, **kwargs: Any) -> str:
        original = name.startswith("originals/")
        if original and point == "before_bytes":
            stop_here()
        saved = real_save(storage, name, *args, **kwargs)
        if original and point == "after_original":
            stop_here()
        return saved

    def store_image(*args: Any, **kwargs: Any) -> Any:
        image = real_store(*args, **kwargs)
        if point == "after_row":
            stop_here()
        return image

    Storage.save = save  # type: ignore[method-assign]
    ingest.store_image = store_image
    execute_from_command_line(["manage.py", "run_workers", "--processes=1", *arguments])


if __name__ == "__main__":
    main()
