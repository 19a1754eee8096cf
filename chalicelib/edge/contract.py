"""The API contract, chalicelib/edge/openapi.yaml, served as JSON at GET /openapi.json.

The YAML lives inside chalicelib/ so that it ships in the Lambda package with the code it
describes; tests keep the two in step.
"""
from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
_LOADING = threading.Lock()


def openapi_document() -> dict[str, Any]:
    """The contract, read once per process. The lock matters on the threaded local server:
    without it, a hundred clients arriving together each parsed the YAML (0.2 s of CPU each)
    before the cache held it, and most of them timed out."""
    with _LOADING:
        return _parsed()


@cache
def _parsed() -> dict[str, Any]:
    import yaml  # lazy: only this route needs it

    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
