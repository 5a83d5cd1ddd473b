"""Memory of one large upload to object storage: boto3's threaded multipart transfer (django-
storages' default) against one part at a time (TransferConfig(use_threads=False): the studio's).

Run by hand from the project root:
    .venv/bin/python bench/s3_uploads.py [--size-mib 40] [--rounds 3]

It starts moto's S3 server on loopback (tests/s3_server.py), then saves the same random bytes
through gallery.object_storage.S3Storage with the studio's options, once each way per round, and
reports tracemalloc's peak (Python allocations, which is where botocore reads the parts) and the
time the save took. Above boto3's 8 MiB threshold a save is a multipart upload: with threads, up to
ten 8 MiB parts are read ahead at once; each of a worker's 64 threads may be writing one.
"""

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

from tests.s3_server import running_server  # noqa: E402

MIB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with running_server() as server:
        os.environ.update(server.environment(server.new_bucket()))
        import django

        django.setup()
        from boto3.s3.transfer import TransferConfig
        from django.core.files.base import ContentFile

        from gallery.object_storage import S3Storage
        from imagegen.environment import object_storage

        options = object_storage()["OPTIONS"]
        data = os.urandom(args.size_mib * MIB)
        variants = {"threads (before)": True, "one part at a time (now)": False}
        print(f"{args.size_mib} MiB saved to moto's S3 on loopback, {args.rounds} rounds")
        print(f"{'variant':26} {'peak MiB':>9} {'seconds':>8}")
        for round_ in range(args.rounds):
            for name, threads in variants.items():
                transfer = TransferConfig(use_threads=threads)
                storage = S3Storage(**{**options, "transfer_config": transfer})
                storage.save(f"warm-{round_}-{threads}", ContentFile(b"x"))  # clients made
                tracemalloc.start()
                started = time.perf_counter()
                storage.save(f"big-{round_}-{threads}.bin", ContentFile(data))
                took = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(f"{name:26} {peak / MIB:9.1f} {took:8.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
