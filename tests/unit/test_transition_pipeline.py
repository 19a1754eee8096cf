"""Every change of an existing dossier goes through one pipeline
(chalicelib/dossiers/use_cases/transition.py): read from the source, nothing else saves a
dossier with its event, moves it along the graph or sets its status, so no entry point (an
officer, the desk, a ministry system's report) can skip a rule the pipeline checks."""
from __future__ import annotations

import ast
import functools
from pathlib import Path

from chalicelib.dossiers.rules import transitions
from chalicelib.dossiers.use_cases import transition

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "chalicelib/dossiers/use_cases/transition.py"
SUBMISSION_RULES = "chalicelib.dossiers.rules.submission"


@functools.cache
def sources() -> dict[str, ast.Module]:
    paths = [ROOT / "app.py", *(p for top in ("chalicelib", "handlers", "payments", "motcua")
                                for p in (ROOT / top).rglob("*.py"))]
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(paths)}


def callers(name: str) -> set[str]:
    """Modules with a call to a function or method called ``name``."""
    found = set()
    for path, tree in sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    found.add(path)
    return found


def importers(module: str, name: str) -> set[str]:
    """Modules that take ``name`` from ``module`` (``from module import name``) or use
    ``<module's last part>.name``."""
    last = module.rsplit(".", 1)[-1]

    def takes(node: ast.AST) -> bool:
        if isinstance(node, ast.ImportFrom):
            return node.module == module and any(alias.name == name for alias in node.names)
        return isinstance(node, ast.Attribute) and node.attr == name and getattr(node.value, "id", None) == last

    return {path for path, tree in sources().items() if any(takes(node) for node in ast.walk(tree))}


def test_only_the_pipeline_saves_a_dossier_change_with_its_event():
    assert callers("save_transition") == {PIPELINE}


def test_only_the_pipeline_moves_a_dossier_along_the_graph():
    assert callers("next_status") == {PIPELINE}


def test_only_the_pipeline_sets_a_dossier_status_and_records_the_decision():
    assert importers(SUBMISSION_RULES, "decide") == {PIPELINE}


def test_only_the_payment_store_stages_a_dossier_change_in_its_own_transaction():
    """Payments write the dossier's ledger together with the payment; they never change its
    status. Any other module staging a dossier change would be a second pipeline."""
    assert callers("stage_dossier_change") == {"chalicelib/dossiers/store/dossiers.py",
                                               "chalicelib/payments/store/payments.py"}


def test_every_edge_of_the_graph_but_submission_has_its_step_and_every_precondition_its_check():
    edges = {action for (_, action) in transitions.EDGES} - {"submit"}
    assert set(transition.ACTIONS) == edges
    named = {name for names in transitions.PRECONDITIONS.values() for name in names}
    assert named == set(transition.PRECONDITION_CHECKS)
    assert set(transitions.PRECONDITIONS) <= edges


def test_acceptance_needs_the_fees_paid_whoever_asks():
    assert transitions.FEES_PAID in transitions.PRECONDITIONS["accept"]
