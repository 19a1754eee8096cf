"""`motcua local` leaves right after its orderly stop: a request thread still running (such as
a reconciliation's querydr pool, whose workers Python joins at exit) must not hold it."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINGERING = "import threading, time\nthreading.Thread(target=time.sleep, args=({seconds},)).start()\n"


def _seconds_to_exit(tail: str, lingering: int) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", LINGERING.format(seconds=lingering) + tail], cwd=ROOT, timeout=90)
    return time.monotonic() - started, done.returncode


def test_the_stack_exits_at_once_although_a_non_daemon_thread_still_runs():
    seconds, code = _seconds_to_exit("from motcua.local import _exit_now\n_exit_now()\n", lingering=60)
    assert code == 0 and seconds < 30


def test_without_it_python_would_wait_for_that_thread():
    """The control: a lingering thread does hold a normal exit (3 s here, to keep it short)."""
    seconds, code = _seconds_to_exit("", lingering=3)
    assert code == 0 and seconds >= 3
