"""The black-box hostile run: `motcua hostile` (`make hostile`) against a local stack.

What issue 18's reviewers did by hand, as a repeatable tool: a hostile but fair client that
speaks only HTTP to a running local stack on loopback (and, for citizens' tokens, the
`motcua token` command a developer uses; staff sign in on the local sign-in page). It never
imports the application: what it knows it learns from the API, its served contract
(`/openapi.json`) and the documentation.

The checks are tables (motcua/hostile_checks.py: generated probes, each with what it sends and
what a correct answer is) and scenarios that need more than one request: issue 18's own
(motcua/hostile_issue18.py: the rush, simultaneous connections, a dossier grown to its limits,
money on withdrawn dossiers, the server's own log) and the races, replays and forgeries of
motcua/hostile_scenarios.py, on the dossiers of motcua/hostile_world.py and the kit of
motcua/hostile_kit.py. Every answer is also held to the rules every answer keeps: never a
5xx, a body any strict JSON parser reads, and every 4xx JSON with a stable English ``code``
and a Vietnamese message.

Without ``--url`` it starts `motcua local --verbose` itself on free loopback ports, reads
its output, and stops it (by its own PID) at the end. Exit 1 on any failed check.
"""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from motcua import hostile_checks, hostile_scenarios
from motcua.hostile_kit import Client, Result, TokenBook, run_probes
from motcua.hostile_world import World


# The stack this run starts is verbose (the local server's access log too: issue 18 found
# `phone_last4` there) and keeps all of its output for the log checks.
OUTPUT_LINES = 500_000


def table(results: Iterable[Result], width: int = 200) -> str:
    """check / expected / got / pass, one line each; long cells are cut (failures are printed
    whole after the table)."""
    rows = [("check", "expected", "got", "pass")] + [
        (r.check, r.expected, r.got, "SKIP" if r.skipped else "PASS" if r.passed else "FAIL") for r in results]
    widths = [min(max(len(row[i]) for row in rows), limit) for i, limit in enumerate((70, 44, 80, 4))]
    return "\n".join("  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()[:width] for row in rows)


def check_all(api: str, cli: Callable[..., str], log: Callable[[], str] | None) -> list[Result]:
    """Every table and scenario against the stack at ``api``; ``log`` reads its output so far."""
    tokens = TokenBook(api, cli, hostile_checks.AGENCIES)
    client = Client(api, tokens)
    world = World(client)
    results = hostile_scenarios.run_before_probes(world)
    contract = client.call("GET", "/openapi.json").json()
    results += run_probes(client, hostile_checks.probes(contract), world.fixtures)
    results += hostile_scenarios.run_after_probes(world, log)
    return results


def local_cli(env: Mapping[str, str] | None = None) -> Callable[..., str]:
    """`motcua ARGS` as a developer runs it (citizens' tokens: `motcua token`), in ``env``."""
    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "motcua.cli", *args], env=env, capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"motcua {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout
    return cli


def output_of(stack: Any, log_file: str | None) -> Callable[[], str] | None:
    """How to read the stack's output so far: the one started here, or the file given."""
    if stack is not None:
        return lambda: "".join(stack.banner + list(stack.output))
    if log_file:
        return lambda: Path(log_file).read_text(encoding="utf-8", errors="replace")
    return None


def main(url: str | None = None, log_file: str | None = None, out: Any = None) -> int:
    """Run every check against ``url`` (a running `make run`), or a stack started here."""
    out = out or sys.stdout
    stack = None
    if url is None:
        from motcua.local_process import LocalStack
        stack = LocalStack(verbose=True, output_lines=OUTPUT_LINES)
        url = stack.api
    log = output_of(stack, log_file)
    started = time.monotonic()
    try:
        results = check_all(url, local_cli(stack.env if stack else None), log)
    finally:
        if stack is not None:
            stack.stop()
    failed = [r for r in results if not r.passed]
    skipped = sum(r.skipped for r in results)
    print(table(results), file=out)
    print(f"\nmotcua hostile: {len(results)} checks against {url} in {time.monotonic() - started:.0f} s: "
          f"{len(results) - len(failed) - skipped} passed, {len(failed)} failed, {skipped} skipped", file=out)
    for result in failed:
        print(f"  FAIL {result.check}: expected {result.expected}, got {result.got}", file=out)
    return 1 if failed else 0
