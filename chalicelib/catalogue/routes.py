"""Routes of the catalogue: the procedures a citizen can apply for and the agencies, with
their succession (public). Agencies change only through `motcua agencies apply` (admin)."""
from __future__ import annotations

from typing import Any

from chalicelib.catalogue.use_cases.agencies import agency_view, agency_views, get_agency
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


@routes.route("/agencies")
def list_agencies() -> Any:
    return json_response({"items": agency_views()})


@routes.route("/agencies/{agency_id}")
def read_agency(agency_id: str) -> Any:
    return json_response(agency_view(get_agency(agency_id)))
