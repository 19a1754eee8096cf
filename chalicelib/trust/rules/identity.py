"""Who is calling: one code path from verified claims to an Identity.

In AWS the API Gateway authorizer (Cognito or another OIDC issuer) verifies the token and
hands the claims to the app. In the local stage only, the app itself verifies HS256 tokens
signed with ``MOTCUA_LOCAL_JWT_SECRET``; that branch is unreachable in any other stage.
Both branches end in ``identity_from_claims``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Mapping

from chalicelib.kernel.errors import Forbidden, TokenExpired, Unauthenticated
from chalicelib.trust.rules.privacy import valid_id_number

ROLES = ("citizen", "officer", "leader", "finance", "admin", "integration")
AGENCY_ROLES = ("officer", "leader")


@dataclass(frozen=True)
class Identity:
    sub: str
    role: str
    agency_id: str | None = None
    id_number: str | None = None    # vouched for by the identity provider; matches legacy accounts
    # The account was verified with VNeID (the national electronic identity): a claim of the
    # identity provider, never of the request body. The national index counts it (766, 4.5).
    vneid_verified: bool = False
    # Merger day: looks up the agencies retired into an agency, whose dossiers and reports its
    # staff read. Given at the edge (the catalogue, chalicelib/edge/web.py), never by a claim,
    # and asked only when the caller's own agency is not enough (no catalogue read otherwise).
    successions: Callable[[str], tuple[str, ...]] | None = field(default=None, compare=False, repr=False)

    @property
    def predecessors(self) -> tuple[str, ...]:
        return self.successions(self.agency_id) if self.successions and self.agency_id else ()


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    """Turn verified claims into an Identity, refusing anything incomplete.

    A user who signed in through a federated identity provider (VNeID, the national portal's
    SSO: Cognito puts an ``identities`` claim in their token) and carries no role is a
    citizen: staff accounts are created by administrators with ``custom:role``, and no
    provider may make anyone staff."""
    sub = claims.get("sub")
    role = claims.get("role") or claims.get("custom:role") or ("citizen" if claims.get("identities") else None)
    agency = claims.get("agency_id") or claims.get("custom:agency_id")
    id_number = claims.get("id_number") or claims.get("custom:id_number")
    if not isinstance(sub, str) or not sub or len(sub) > 128:
        raise Unauthenticated("Mã thông báo không có định danh người dùng hợp lệ.", code="invalid_token")
    if role not in ROLES:
        raise Forbidden("Vai trò trong mã thông báo không được hỗ trợ.", code="unknown_role")
    if role in AGENCY_ROLES and not (isinstance(agency, str) and agency):
        raise Forbidden("Cán bộ phải thuộc một cơ quan (thiếu agency_id).", code="missing_agency")
    if id_number is not None and not valid_id_number(id_number):
        raise Unauthenticated("Số định danh trong mã thông báo không hợp lệ.", code="invalid_token")
    return Identity(sub=sub, role=role, agency_id=agency if isinstance(agency, str) and agency else None,
                    id_number=id_number, vneid_verified=_vneid_verified(claims))


def _vneid_verified(claims: Mapping[str, Any]) -> bool:
    """``vneid_verified`` (local tokens) or ``custom:vneid_verified`` (Cognito custom attributes
    arrive as strings): only an explicit true counts."""
    value = claims.get("vneid_verified", claims.get("custom:vneid_verified"))
    return value is True or value in ("true", "1")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Tiêu đề Authorization phải có dạng 'Bearer <token>'.", code="invalid_token")
    return token.strip()


def verify_local_token(token: str, secret: str) -> dict[str, Any]:
    """Verify an HS256 token of the local stage. Expiry is mandatory."""
    import jwt  # lazy: PyJWT pulls in cryptography helpers we do not need at cold start

    try:
        return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except jwt.PyJWTError:
        raise Unauthenticated("Mã thông báo không hợp lệ.", code="invalid_token") from None


def mint_local_token(secret: str, sub: str, role: str, agency_id: str | None = None,
                     ttl_seconds: int = 8 * 3600, now: float | None = None, id_number: str | None = None,
                     vneid_verified: bool = False) -> str:
    import jwt

    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": issued, "exp": issued + ttl_seconds}
    if agency_id:
        claims["agency_id"] = agency_id
    if id_number:
        claims["id_number"] = id_number
    if vneid_verified:
        claims["vneid_verified"] = True
    identity_from_claims(claims)  # refuse to mint something the API would reject
    return jwt.encode(claims, secret, algorithm="HS256")
