#!/usr/bin/env bash
# One step of `make soak`: run it, then say in one line what it was, how it ended and how long
# it took, so the steps' verdicts stand out of their own output. Exit status: the step's.
#   scripts/soak-step.sh "load (motcua/soak.py)" .venv/bin/python -m motcua.soak ...
set -u
name=$1; shift
echo "== soak step: ${name}"
start=$(date +%s)
"$@"
status=$?
verdict=$([ "$status" -eq 0 ] && echo PASS || echo "FAIL (exit ${status})")
echo "== soak step: ${name}: ${verdict} in $(( $(date +%s) - start )) s"
exit "$status"
