"""How a logical resource name becomes an AWS name for a stage.

Its own leaf module because both ``settings`` (``Settings.name()``) and ``resources`` (the
resource list, which reads the ministry connectors, which read settings) need it: kept in
``resources`` it made an import cycle settings → resources → connectors → settings.
"""
from __future__ import annotations


def physical_name(stage: str, name: str) -> str:
    """The AWS name of a table, bus, queue or rule: ``motcua-{stage}-{name}``."""
    return f"motcua-{stage}-{name}"


def secret_name(stage: str, name: str) -> str:
    return f"motcua/{stage}/{name}"
