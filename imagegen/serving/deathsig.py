"""Children that die with their parent: Linux's PR_SET_PDEATHSIG, through ctypes.

The kernel sends the signal when the thread that started the child ends, so children must be
started from the main thread (the supervisor and granian's master both do). Elsewhere than Linux
this does nothing: a supervisor there must be stopped with SIGTERM, not killed outright.
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1

_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def supported() -> bool:
    return _prctl is not None


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Ask the kernel to send `signum` to this process when its parent ends.

    Called in a new child (after fork, before exec: the setting survives exec). If the parent
    ended before the call, the signal would never come: exit at once instead.
    """
    if _prctl is None:
        return
    if _prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        os._exit(70)
    if parent is not None and os.getppid() != parent:
        os._exit(70)


def child_setup(signum: int) -> Callable[[], None]:
    """A `preexec_fn` for subprocess.Popen: the child gets `signum` when this process ends."""
    parent = os.getpid()
    return lambda: die_with_parent(signum, parent)
