"""Keep a set of child processes running until told to stop.

Each child is restarted when it dies (after a pause that doubles while it keeps dying young, so a
broken configuration does not spin). SIGTERM or SIGINT stops them all: each gets SIGTERM, and
`stop_timeout` seconds to exit (the workers' grace, for them) before SIGKILL; a second signal is
passed on (to a worker: "stop now"). Children run in their own process group, so a terminal's
Ctrl-C reaches them once, through here. Should this process be killed outright, the kernel sends
each child its `death_signal` (deathsig.py): the web server goes at once and frees the port, the
workers are asked to stop and finish their jobs.
"""

import logging
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

from imagegen.serving.deathsig import child_setup

logger = logging.getLogger("imagegen.serving")

YOUNG = 30.0  # a child that dies within this many seconds of its start died young
FIRST_PAUSE = 1.0  # seconds before restarting a child that died young; doubles each time
LONGEST_PAUSE = 30.0


@dataclass
class Child:
    name: str
    command: list[str]
    death_signal: int = signal.SIGKILL  # what the child gets should the supervisor be killed
    stop_timeout: float = 30.0  # seconds after SIGTERM before SIGKILL
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restart_at: float = 0.0  # when a dead child is due to start again; 0 while it runs
    pause: float = 0.0  # the last pause before a restart

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, children: list[Child], cwd: str | None = None) -> None:
        self.children = children
        self.cwd = cwd
        self.stopping = threading.Event()
        self.signals: list[int] = []

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(  # noqa: S603 (our own commands)
            child.command,
            cwd=self.cwd,
            process_group=0,
            preexec_fn=child_setup(child.death_signal),  # started from the main thread only
        )
        child.started_at = time.monotonic()
        child.restart_at = 0.0
        logger.info("started %s (pid %d)", child.name, child.process.pid)

    def handle_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)
        self.stopping.set()

    def run(self) -> int:
        """Start every child and keep them running until a signal; the worst exit status."""
        signal.signal(signal.SIGTERM, self.handle_signal)
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, self.handle_signal)
        for child in self.children:
            self.start(child)
        while not self.stopping.wait(0.2):
            for child in self.children:
                self.look_after(child)
        return self.stop_all()

    def look_after(self, child: Child) -> None:
        if child.running:
            return
        now = time.monotonic()
        if not child.restart_at:
            assert child.process is not None
            young = now - child.started_at < YOUNG
            child.pause = min(child.pause * 2 or FIRST_PAUSE, LONGEST_PAUSE) if young else 0.0
            logger.error(
                "%s (pid %d) exited with status %s; restarting in %.0f s",
                child.name,
                child.process.pid,
                child.process.returncode,
                child.pause,
            )
            child.restart_at = now + child.pause
        if now >= child.restart_at:
            self.start(child)

    def stop_all(self) -> int:
        """SIGTERM to every child, then wait for each; SIGKILL once its time is up."""
        logger.info("stopping %s", ", ".join(child.name for child in self.children))
        for child in self.children:
            if child.running:
                child.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        deadlines = {id(c): time.monotonic() + c.stop_timeout for c in self.children}
        passed_on = 1
        status = 0
        while any(child.running for child in self.children):
            if len(self.signals) > passed_on:  # asked again: pass it on ("stop now")
                passed_on = len(self.signals)
                for child in self.children:
                    if child.running:
                        child.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
            for child in self.children:
                if child.running and time.monotonic() > deadlines[id(child)]:
                    logger.error(
                        "%s did not stop in %.0f s: killing it", child.name, child.stop_timeout
                    )
                    child.process.kill()  # type: ignore[union-attr]
            time.sleep(0.1)
        for child in self.children:
            # Ended by the SIGTERM it was sent (before it could handle it, say): stopped as asked.
            if child.process is not None and child.process.returncode not in (0, -signal.SIGTERM):
                logger.warning("%s exited with status %s", child.name, child.process.returncode)
                status = 1
        logger.info("stopped")
        return status
