"""The API's own routes: its OpenAPI contract."""
from __future__ import annotations

from typing import Any

from chalicelib.edge.routing import Routes
from chalicelib.edge.web import json_response

routes = Routes(__name__)


@routes.route("/openapi.json")
def openapi() -> Any:
    from chalicelib.edge.contract import openapi_document
    return json_response(openapi_document())
