"""Cold-start arrangements, each checked in a fresh interpreter (make bench measures their effect)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "ap-southeast-1", "MOTCUA_STAGE": "local"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_every_consumer_module_loads_the_sdk_before_our_own_modules():
    """handlers/__init__ imports boto3 first, so the SDK loads at the reference's call depth
    (CPython 3.11 frame-stack chunk thrashing otherwise hit some consumers' import order)."""
    for module in ("handlers.national_sync", "handlers.notifications", "handlers.report_projection"):
        order = _fresh(f"import json, sys, {module}; print(json.dumps(list(sys.modules)))")
        assert order.index("boto3") < order.index("chalicelib"), module


def test_the_first_aws_session_freezes_what_the_cold_start_imported_once_per_process():
    result = _fresh(
        "import gc, json, threading\n"
        "from chalicelib.runtime import aws\n"
        "before = gc.get_freeze_count()\n"
        "aws.botocore_session()\n"
        "first = gc.get_freeze_count()\n"
        "other = threading.Thread(target=aws.botocore_session)\n"  # another thread's session: no second freeze
        "other.start(); other.join()\n"
        "print(json.dumps([before, first, gc.get_freeze_count() - first]))")
    before, first, again = result
    assert before == 0 and first > 0 and again == 0
