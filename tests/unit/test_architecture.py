"""The architecture's one rule import-linter cannot state module by module: no import cycles.

import-linter's contracts (pyproject.toml, `make lint`) check layers and who may import a
store or a provider; its ``acyclic_siblings`` contract works on packages. This test asks
grimp (import-linter's graph, which also sees imports inside functions) for every module of
the shipped packages and the local tooling, and fails on the first cycle, naming it.
"""
from __future__ import annotations

import graphlib

import grimp

PACKAGES = ("chalicelib", "handlers", "payments", "motcua")


def import_cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One cycle of direct imports between modules, or None when the graph is acyclic."""
    sorter = graphlib.TopologicalSorter(
        {module: graph.find_modules_directly_imported_by(module) for module in graph.modules})
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return None


def test_no_module_imports_itself_through_others() -> None:
    assert import_cycle(grimp.build_graph(*PACKAGES)) is None


def test_a_cycle_is_found_and_named() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("a.store", "a.audit"), ("a.audit", "a.store"), ("a.audit", "a.rules")):
        graph.add_import(importer=importer, imported=imported)
    cycle = import_cycle(graph)
    assert cycle is not None and set(cycle) == {"a.store", "a.audit"}
