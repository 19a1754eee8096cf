"""Routes of the catalogue: the procedures a citizen can apply for (public)."""
from __future__ import annotations

from typing import Any

from chalicelib.catalogue.use_cases.procedures import find_procedures, get_procedure
from chalicelib.edge.routing import Routes
from chalicelib.edge.web import json_response, query_param

routes = Routes(__name__)


@routes.route("/procedures")
def list_procedures() -> Any:
    request = routes.request()
    found = find_procedures(agency_id=query_param(request, "agency_id"), q=query_param(request, "q"))
    return json_response({"items": [procedure.to_dict() for procedure in found]})


@routes.route("/procedures/{procedure_code}")
def read_procedure(procedure_code: str) -> Any:
    return json_response(get_procedure(procedure_code).to_dict())
