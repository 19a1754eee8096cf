"""MotCua API: the Chalice app, its request middleware, and each context's routes registered.

Routes live with their context (chalicelib/<context>/routes.py); rules and use cases behind
them. This module only wires them together.
"""
from __future__ import annotations

import time
from typing import Any
from collections.abc import Callable

from chalicelib.catalogue.routes import routes as catalogue_routes
from chalicelib.dossiers.routes import routes as dossier_routes
from chalicelib.edge.application import ThreadSafeChalice
from chalicelib.edge.routes import routes as edge_routes
from chalicelib.edge.routing import PDF, XLSX
from chalicelib.edge.web import cors_headers, normalise_error
from chalicelib.feedback.routes import routes as feedback_routes
from chalicelib.payments.routes import routes as payment_routes
from chalicelib.reports.routes import routes as report_routes
from chalicelib.runtime.log import logger as make_logger
from chalicelib.runtime.settings import settings
from chalicelib.sync.routes import routes as sync_routes
from chalicelib.trust.routes import routes as trust_routes
from chalicelib.trust.rules import audit

settings()   # read and checked at cold start: a missing or malformed setting stops it, by name
app = ThreadSafeChalice(app_name="motcua")
app.api.binary_types.extend((XLSX, PDF))
logger = make_logger("motcua-api")

for context_routes in (edge_routes, catalogue_routes, dossier_routes, trust_routes, report_routes,
                       payment_routes, sync_routes, feedback_routes):
    app.register_blueprint(context_routes.blueprint)


@app.middleware("http")
def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """JSON access log with the API Gateway request id as correlation id; one error shape.
    The same id goes on every audit record the request writes, and back as X-Request-Id
    (the local server has none, so it gets a fresh one)."""
    context = event.context or {}
    started = time.perf_counter()
    with audit.bind_request(context.get("requestId")) as request_id:
        logger.set_correlation_id(request_id)
        response = normalise_error(get_response(event))
    response.headers["X-Request-Id"] = request_id
    response.headers.update(cors_headers(event.headers.get("origin"), settings().portal_origin))
    logger.info("request", extra={"method": event.method, "path": context.get("resourcePath"),
                                  "status": response.status_code,
                                  "ms": round((time.perf_counter() - started) * 1000, 1)})
    return response
