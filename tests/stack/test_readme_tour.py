"""The README's tour works when typed as written.

The tour is the block between ``<!-- tour:begin -->`` and ``<!-- tour:end -->`` in README.md.
It runs, unchanged but for the stack's address, in bash against a fresh `motcua local` (what
`make run` starts) on free loopback ports. ``curl`` is made to fail on any HTTP error
(``--fail-with-body``) and the script stops at the first failing command, so a step that
answers 4xx (such as 409 ``fees_unpaid`` on accept) fails the test and names the step.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from motcua.local_process import LocalStack

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
README_API = "http://127.0.0.1:8000"
CLI = ".venv/bin/motcua"
# Every command is echoed before it runs (xtrace); curl fails on an HTTP error and shows its body.
PREAMBLE = """set -eo pipefail
PS4="+ tour: "
curl() {
  local body
  body=$(command curl --fail-with-body "$@") || { echo "HTTP error, body: $body" >&2; return 22; }
  printf '%s\\n' "$body"
}
set -x
"""


def tour_commands(readme: str) -> str:
    """The shell block between the tour markers of the README."""
    marked = re.search(r"<!-- tour:begin -->\s*```(?:sh|bash|console)?\n(.*?)```\s*<!-- tour:end -->", readme, re.DOTALL)
    assert marked, "README.md has no ```sh block between <!-- tour:begin --> and <!-- tour:end -->"
    return marked.group(1)


def for_stack(commands: str, api: str) -> str:
    """The tour pointed at this stack: its address, and the CLI of the Python running the tests
    (the same package the README's .venv/bin/motcua runs)."""
    assert README_API in commands, f"the tour no longer talks to {README_API}"
    cli = f"{shlex.quote(sys.executable)} -m motcua.cli"
    return commands.replace(README_API, api).replace(CLI, cli)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    running = LocalStack()
    yield running
    assert running.stop() == 0, running.tail()


def test_the_tour_is_marked_and_uses_only_the_stack_and_the_cli() -> None:
    commands = tour_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "curl" in commands and CLI in commands
    assert "<code>" not in commands and "uuidgen" not in commands, "the tour must run as typed, with no placeholders"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl")
def test_every_command_of_the_readme_tour_succeeds_against_a_fresh_stack(stack: LocalStack) -> None:
    commands = tour_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    done = subprocess.run(["bash", "-c", PREAMBLE + for_stack(commands, stack.api)], check=False, cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the tour stopped at the last command shown:\n{done.stderr[-3000:]}\n{done.stdout[-2000:]}"
    lines = done.stdout.splitlines()
    assert any(re.fullmatch(r"[0-9.]+H\d+-\d{6}-\d{4}", line) for line in lines), "no dossier code printed"
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\dT17:00:00\+07:00", line) for line in lines), "no due date printed"
    assert any(line.startswith("http") and "vnp_Amount=" in line for line in lines), "no pay_url printed"
    assert '"status": "accepted"' in done.stdout, "tracking does not show the accepted dossier"
