"""How a context declares its routes: a Chalice blueprint whose views are authorized first.

Each context has a ``routes.py`` holding one ``Routes``; ``app.py`` registers them all. The
action of a route comes from the permission matrix (chalicelib/trust/rules/permissions.py
RULES); a route missing there fails at import. The caller is authenticated and its role
checked against the action before the view runs; the view reads it with ``caller()``.
"""
from __future__ import annotations

import functools
from typing import Any
from collections.abc import Callable

from chalice import Blueprint

from chalicelib.edge.web import ACCEPTED_CONTENT_TYPES, authorize, guarded
from chalicelib.trust.rules import permissions
from chalicelib.trust.rules.identity import Identity

View = Callable[..., Any]
_IDENTITY = "motcua_identity"
# Served as binary by API Gateway (app.py registers it); the exports of reports and finance.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Served as binary too: the Circular 03/2025 papers and the dossier register (docs/forms.md).
PDF = "application/pdf"


class Routes:
    """One context's routes (a Chalice blueprint) and the request they are serving."""

    def __init__(self, import_name: str) -> None:
        self.blueprint = Blueprint(import_name)

    def route(self, path: str, method: str = "GET") -> Callable[[View], View]:
        action = permissions.action_for(method, path)

        def register(view: View) -> View:
            @functools.wraps(view)
            def authorized(*args: Any, **kwargs: Any) -> Any:
                request = self.request()
                if request.context is None:
                    request.context = {}
                request.context[_IDENTITY] = authorize(request, action)
                return view(*args, **kwargs)
            self.blueprint.route(path, methods=[method], content_types=ACCEPTED_CONTENT_TYPES)(guarded(authorized))
            return view
        return register

    def request(self) -> Any:
        return self.blueprint.current_request

    def caller(self) -> Identity:
        """The identity ``route`` authenticated for this (non-public) request."""
        identity: Identity = self.request().context[_IDENTITY]
        return identity
