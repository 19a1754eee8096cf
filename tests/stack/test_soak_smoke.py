"""The load soak (`make soak`, motcua/soak.py) in miniature, so it cannot rot: 2 citizens with
2 dossiers each against a stack it starts itself, and it must pass its own checks."""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.stack


def test_a_short_soak_passes_with_zero_5xx_zero_lost_events_and_the_report_verified():
    done = subprocess.run([sys.executable, "-m", "motcua.soak", "--duration", "10", "--citizens", "2",
                           "--max-per-citizen", "2"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    assert "PASS" in out and "5xx: 0" in out and "lost events: 0" in out and "report vs verify: OK" in out
    for operation in ("submit", "create_payment", "sim_pay", "track", "accept", "issue_result", "return_result"):
        assert any(line.startswith(operation + " ") for line in out.splitlines()), operation
