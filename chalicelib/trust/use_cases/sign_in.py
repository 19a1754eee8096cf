"""How the leaders' dashboard signs people in (docs/security.md#sign-in).

In an AWS stage the browser signs in at the stage's Cognito hosted UI (OpenID Connect,
authorization code with PKCE) and the API never sees a password or mints anything: this
module only tells the page where the identity provider is. In the local stage there is no
identity provider, so a small page lets a developer pick a role and an agency and this module
mints the same HS256 token ``motcua token`` prints. Minting refuses in every other stage, so
the local page cannot become a way in anywhere else.
"""
from __future__ import annotations

from typing import Any

from chalicelib.kernel.errors import NotFound, ValidationFailed
from chalicelib.runtime.settings import Settings, settings
from chalicelib.trust.rules.identity import AGENCY_ROLES, mint_local_token

DASHBOARD_PATH = "/dashboard"           # the page, and the OIDC redirect and sign-out address (infra/api.py)
SIGN_IN_PATH = "/dashboard/sign-in"     # the local stage's sign-in page
DASHBOARD_ROLES = ("leader", "officer", "finance", "admin")   # who may read reports (permissions REPORT_READERS)
LOCAL_TOKEN_SECONDS = 8 * 3600          # a working day, as `motcua token`


def dashboard_config(cfg: Settings | None = None) -> dict[str, Any]:
    """What the page needs to sign in: ``oidc`` when the stage has a hosted UI and a dashboard
    client, ``local`` in the local stage without them, else ``unavailable`` (an AWS stage
    without ``auth_domain_prefix``: there is nowhere to sign in, and the page says so)."""
    cfg = cfg or settings()
    redirect_uri = f"{cfg.public_url}{DASHBOARD_PATH}"
    if cfg.signin_authority and cfg.dashboard_client_id:
        return {"mode": "oidc", "authority": cfg.signin_authority, "client_id": cfg.dashboard_client_id,
                "redirect_uri": redirect_uri, "scope": "openid email profile"}
    if cfg.is_local:
        return {"mode": "local", "sign_in_url": f"{cfg.public_url}{SIGN_IN_PATH}", "redirect_uri": redirect_uri}
    return {"mode": "unavailable", "redirect_uri": redirect_uri}


def require_local_stage(cfg: Settings | None = None) -> None:
    """The local sign-in does not exist outside the local stage: 404, as any unknown path."""
    if not (cfg or settings()).is_local:
        raise NotFound("Trang đăng nhập thử chỉ có ở môi trường chạy trên máy (local).", code="not_found")


def agencies() -> list[dict[str, str]]:
    """The catalogue's agencies a developer may sign in as, by name: active ones only, since a
    retired agency's staff work for its successor after a merger (docs/operations.md)."""
    from chalicelib.catalogue.use_cases.procedures import snapshot
    found = [a for a in snapshot().agencies.values() if a.status == "active"]
    return sorted(({"agency_id": a.agency_id, "name": a.name} for a in found), key=lambda a: a["name"])


def mint_local(body: Any, cfg: Settings | None = None) -> dict[str, Any]:
    """A local HS256 token for ``{role, agency_id}``; the agency must be one of the catalogue's
    and is required for agency staff, ignored for the province-wide roles."""
    cfg = cfg or settings()
    require_local_stage(cfg)
    if not isinstance(body, dict):
        raise ValidationFailed(fields={"body": "Phải là một đối tượng JSON {role, agency_id}."})
    role, agency_id = body.get("role"), body.get("agency_id")
    if role not in DASHBOARD_ROLES:
        raise ValidationFailed(fields={"role": "Chọn một vai trò: leader, officer, finance hoặc admin."})
    if role in AGENCY_ROLES:
        if not isinstance(agency_id, str) or agency_id not in {a["agency_id"] for a in agencies()}:
            raise ValidationFailed(fields={"agency_id": "Chọn một cơ quan có trong danh mục."})
    else:
        agency_id = None
    sub = f"local-{role}-{agency_id or 'tinh'}"
    token = mint_local_token(cfg.local_jwt_secret, sub, role, agency_id, ttl_seconds=LOCAL_TOKEN_SECONDS)
    return {"token": token, "token_type": "Bearer", "expires_in": LOCAL_TOKEN_SECONDS,
            "role": role, "agency_id": agency_id}
