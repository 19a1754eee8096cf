"""The portal's origin, and only it, may read the API's answers from a browser (CORS)."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.edge.web import cors_headers
from chalicelib.runtime.settings import settings

PORTAL = "https://dichvucong.example.vn"


@pytest.fixture
def portal_origin(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MOTCUA_PORTAL_ORIGIN", PORTAL)
    settings.cache_clear()
    yield PORTAL
    monkeypatch.delenv("MOTCUA_PORTAL_ORIGIN")
    settings.cache_clear()


def test_only_the_configured_origin_gets_the_allow_origin_header() -> None:
    assert cors_headers(PORTAL, PORTAL) == {"Access-Control-Allow-Origin": PORTAL, "Vary": "Origin"}
    assert cors_headers("https://evil.example", PORTAL) == {}
    assert cors_headers(None, PORTAL) == {}
    assert cors_headers(PORTAL, None) == {}


def test_the_portals_browser_may_read_answers_and_errors_and_another_origin_may_not(api: Any, portal_origin: str) -> None:
    ok = api.call("GET", "/procedures", headers={"Origin": portal_origin})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == portal_origin
    denied = api.call("GET", "/dossiers", headers={"Origin": portal_origin})
    assert denied.status_code == 401 and denied.headers["Access-Control-Allow-Origin"] == portal_origin
    other = api.call("GET", "/procedures", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
