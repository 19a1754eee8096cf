"""Every route can be imported into API Gateway, which allows one variable path part per
parent: /payments/{payment_id} next to a /payments/{provider}/ipn is refused at deploy ("A
sibling ({payment_id}) of this resource already has a variable path part -- only one is
allowed"), though Chalice's local server serves both. Hence /payments/providers/{provider}."""
from __future__ import annotations

from collections import defaultdict


def test_no_parent_path_has_two_differently_named_variable_parts():
    from app import app
    variables: dict[str, set[str]] = defaultdict(set)
    for path in app.routes:
        parts = path.strip("/").split("/")
        for depth, part in enumerate(parts):
            if part.startswith("{"):
                variables["/" + "/".join(parts[:depth])].add(part)
    assert {parent: names for parent, names in variables.items() if len(names) > 1} == {}
