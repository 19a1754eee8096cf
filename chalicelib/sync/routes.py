"""Routes of sync: reports pushed by connected ministry systems."""
from __future__ import annotations

from typing import Any

from chalicelib.edge.routing import Routes
from chalicelib.edge.web import json_response

routes = Routes(__name__)


@routes.route("/integrations/{system}/events", "POST")
def integration_event(system: str) -> Any:
    from chalicelib.sync.use_cases.integrations import receive
    request = routes.request()
    identity = routes.caller()
    return json_response(receive(system, identity, request.raw_body or b"", request.headers.get("x-motcua-signature")))
