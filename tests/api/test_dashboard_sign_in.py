"""The dashboard's sign-in through the API: where to sign in (GET /dashboard/config), and the
local stage's sign-in page and token, which no other stage has (docs/security.md#sign-in)."""
from __future__ import annotations

from typing import Any
from collections.abc import Iterator

import jwt
import pytest

from chalicelib.kernel.errors import NotFound
from chalicelib.runtime.settings import settings
from tests.api.conftest import Api
from chalicelib.trust.use_cases.sign_in import mint_local

WARD = "000.22.30.H50"   # an agency of the sample catalogue


@pytest.fixture
def prod_api(aws_env: Any, prod_secrets: Any) -> Iterator[Api]:
    """The app as the prod stage runs it (.chalice/config.json sets MOTCUA_STAGE per request)."""
    from chalice.test import Client
    from app import app

    with Client(app, stage_name="prod") as client:
        yield Api(client)


def test_the_local_stage_sends_the_dashboard_to_its_sign_in_page(api: Any) -> None:
    config = api.call("GET", "/dashboard/config")
    assert config.status_code == 200 and config.headers["Cache-Control"] == "no-store"
    public = settings().public_url
    assert config.json == {"mode": "local", "sign_in_url": f"{public}/dashboard/sign-in",
                           "redirect_uri": f"{public}/dashboard"}


def test_the_local_sign_in_page_offers_the_roles_and_the_catalogues_agencies(api: Any) -> None:
    page = api.call("GET", "/dashboard/sign-in")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert f'<option value="{WARD}">' in html and "<!--agencies-->" not in html
    for role in ("leader", "officer", "finance", "admin"):
        assert f'<option value="{role}">' in html


def test_a_leader_signed_in_locally_reads_the_report_of_their_agency(api: Any) -> None:
    signed = api.call("POST", "/dashboard/sign-in", body={"role": "leader", "agency_id": WARD})
    assert signed.status_code == 201, signed.json
    claims = jwt.decode(signed.json["token"], settings().local_jwt_secret, algorithms=["HS256"])
    assert (claims["role"], claims["agency_id"]) == ("leader", WARD)
    assert claims["exp"] - claims["iat"] == signed.json["expires_in"] == 8 * 3600
    report = api.call("GET", "/reports/dossiers?from=2025-01-01&to=2025-01-31&group_by=agency", token=signed.json["token"])
    assert report.status_code == 200, report.json


def test_a_province_wide_role_signs_in_without_an_agency(api: Any) -> None:
    signed = api.call("POST", "/dashboard/sign-in", body={"role": "finance", "agency_id": WARD})
    assert signed.status_code == 201 and signed.json["agency_id"] is None
    assert "agency_id" not in jwt.decode(signed.json["token"], options={"verify_signature": False})


@pytest.mark.parametrize("body, field", [
    ({"role": "citizen"}, "role"),                     # the dashboard is for staff
    ({"role": "integration"}, "role"),
    ({"role": "leader"}, "agency_id"),                 # agency staff belong to an agency
    ({"role": "officer", "agency_id": "000.00.00.X99"}, "agency_id"),   # one of the catalogue's
    ({"role": "leader", "agency_id": ["x"]}, "agency_id"),
    ([], "body"),
])
def test_a_bad_local_sign_in_names_the_field(api: Any, body: Any, field: str) -> None:
    refused = api.call("POST", "/dashboard/sign-in", body=body)
    assert refused.status_code == 422 and field in refused.json["error"]["fields"], refused.json


def test_no_other_stage_has_the_local_sign_in_page_or_mints_a_token(prod_api: Any) -> None:
    for method in ("GET", "POST"):
        gone = prod_api.call(method, "/dashboard/sign-in", body={"role": "admin"})
        assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"
    with pytest.raises(NotFound):
        mint_local({"role": "admin"})
    # without a sign-in domain an AWS stage has nowhere to sign in, and the page says so
    assert prod_api.call("GET", "/dashboard/config").json["mode"] == "unavailable"


def test_an_aws_stage_with_a_hosted_ui_sends_the_dashboard_there(prod_api: Any) -> None:
    authority = "https://motcua-prod.auth.ap-southeast-1.amazoncognito.com"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTCUA_SIGNIN_AUTHORITY", authority + "/")
        patch.setenv("MOTCUA_DASHBOARD_CLIENT_ID", "dashboard-client")
        settings.cache_clear()
        try:
            config = prod_api.call("GET", "/dashboard/config").json
            assert config == {"mode": "oidc", "authority": authority, "client_id": "dashboard-client",
                              "redirect_uri": f"{settings().public_url}/dashboard", "scope": "openid email profile"}
            assert prod_api.call("POST", "/dashboard/sign-in", body={"role": "admin"}).status_code == 404
            with pytest.raises(NotFound):
                mint_local({"role": "admin"})
        finally:
            settings.cache_clear()
    settings.cache_clear()


def test_a_retired_agency_is_not_offered_nor_signed_in_as(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a merger the retired agency's staff work for its successor (docs/operations.md)."""
    from dataclasses import replace
    from chalicelib.catalogue.use_cases import procedures as catalogue
    current = catalogue.snapshot()
    retired = replace(current.agencies[WARD], status="retired", successor="000.00.30.H50", effective_date="2025-07-01")
    monkeypatch.setattr(catalogue, "snapshot", lambda: replace(current, agencies={**current.agencies, WARD: retired}))
    assert f'<option value="{WARD}">' not in api.call("GET", "/dashboard/sign-in").body.decode()
    refused = api.call("POST", "/dashboard/sign-in", body={"role": "leader", "agency_id": WARD})
    assert refused.status_code == 422 and "agency_id" in refused.json["error"]["fields"]
