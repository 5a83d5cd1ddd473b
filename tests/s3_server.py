"""A throwaway S3-compatible server (moto's server mode) for the tests and the benchmarks.

    python -m tests.s3_server -- COMMAND...   start a server on a free 127.0.0.1 port with a fresh
                                               bucket, run COMMAND with the AWS_* variables that
                                               select it (imagegen.environment.object_storage), then
                                               stop the server, and everything in it goes

From Python, `running_server()` gives a started `Server`: `server.environment()` is the same
variables (for a fresh bucket: `server.environment(server.new_bucket())`), and `server.client()`
a boto3 client to look into the buckets. The tests' `s3` fixture (tests/conftest.py) switches a
test's storage to a fresh bucket of one server started for the whole run.

The server is a child process that keeps everything in its memory. It reads its standard input
until the end, so it stops with whoever started it, even one killed with SIGKILL.
"""

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.postgres import run_to_the_end

REGION = "us-east-1"
# moto accepts any key; these only have to be the same on both sides.
ACCESS_KEY = "studio-test-key"
SECRET_KEY = "studio-test-secret"


class Server:
    """One private server: `start()`, then `environment()` and `client()`, then `stop()`."""

    def __init__(self) -> None:
        self.log = Path(tempfile.mkstemp(prefix="studio-s3-", suffix=".log")[1])
        self.process: subprocess.Popen[str] | None = None
        self.endpoint_url = ""
        self.bucket = ""

    def start(self) -> None:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.s3_server", "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=Path(__file__).resolve().parent.parent,
                # A new session: Ctrl-C in the terminal reaches our `finally`, not the server.
                start_new_session=True,
            )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()  # the child's first line, once listening
        if not port.isdigit():
            self.stop()
            raise RuntimeError(f"the S3 server did not start:\n{self.log.read_text()}")
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.bucket = self.new_bucket()

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        """A fresh, empty bucket, private as a new S3 bucket is."""
        name = f"studio-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def environment(self, bucket: str = "") -> dict[str, str]:
        """The variables that make the studio keep its files in `bucket` (default: the first)."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket or self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout) if self.process else ():
            if stream is not None:
                stream.close()
        self.log.unlink(missing_ok=True)


@dataclass
class Bucket:
    """One bucket, looked into directly (not through the studio's storage)."""

    name: str
    client: Any

    def keys(self, prefix: str = "") -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)


@contextmanager
def running_server() -> Iterator[Server]:
    """A started server, stopped on the way out, whatever happened inside."""
    server = Server()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def serve() -> int:
    """The child: moto on a port the system chose, which it prints; then wait for the end of
    standard input (the parent closed it, or died) or SIGTERM."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line a request
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args()
    if args.serve:
        return serve()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, after --")
    # CI stops a job with SIGTERM: pass it on to the command, then stop the server as usual.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with running_server() as server:
        print(f"S3 (moto) on {server.endpoint_url}, bucket {server.bucket}", flush=True)
        return run_to_the_end(command, {**os.environ, **server.environment()})


if __name__ == "__main__":
    sys.exit(main())
