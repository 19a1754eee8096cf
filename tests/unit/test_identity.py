"""One path from verified claims to an Identity; the local HS256 path exists only locally."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.runtime import settings as config
from chalicelib.edge import web as http
from chalicelib.kernel.errors import DomainError, Forbidden, TokenExpired, Unauthenticated
from chalicelib.trust.rules.identity import Identity, identity_from_claims, mint_local_token, verify_local_token

SECRET = config.FAKE_LOCAL_JWT_SECRET


def request(authorization=None, claims=None):
    context = {"authorizer": {"claims": claims}} if claims is not None else {}
    headers = {"authorization": authorization} if authorization else {}
    return SimpleNamespace(headers=headers, context=context)


@pytest.fixture
def stage(monkeypatch):
    def use(name: str) -> None:
        monkeypatch.setattr(http, "settings", lambda: config.settings()._replace(stage=name))
    return use


def test_local_stage_verifies_our_hs256_token(stage):
    stage("local")
    token = mint_local_token(SECRET, "officer-1", "officer", "000.00.13.H50")
    assert http.identity_of(request(f"Bearer {token}")) == Identity("officer-1", "officer", "000.00.13.H50")


def test_other_stages_refuse_a_local_token_and_use_authorizer_claims_only(stage):
    stage("prod")
    token = mint_local_token(SECRET, "citizen-1", "citizen")
    with pytest.raises(Unauthenticated):
        http.identity_of(request(f"Bearer {token}"))
    from_gateway = request(claims={"sub": "abc", "custom:role": "officer", "custom:agency_id": "000.00.13.H50"})
    assert http.identity_of(from_gateway) == Identity("abc", "officer", "000.00.13.H50")


def test_a_federated_sign_in_without_a_role_is_a_citizen_and_cannot_claim_more(stage):
    stage("prod")
    federated = {"sub": "vneid-1", "identities": '[{"providerName": "VNeID", "userId": "0790"}]',
                 "custom:id_number": "079301004444"}
    assert http.identity_of(request(claims=federated)) == Identity("vneid-1", "citizen", None, "079301004444")
    with pytest.raises(Forbidden):          # neither a role nor a federated sign-in
        identity_from_claims({"sub": "plain"})
    staff = {**federated, "custom:role": "officer", "custom:agency_id": "000.00.13.H50"}
    assert http.identity_of(request(claims=staff)).role == "officer"   # an admin-set role wins


@pytest.mark.parametrize("claims, error", [
    ({"role": "citizen"}, Unauthenticated),
    ({"sub": "x", "role": "superuser"}, Forbidden),
    ({"sub": "x", "role": "officer"}, Forbidden),
    ({"sub": "x" * 200, "role": "citizen"}, Unauthenticated),
])
def test_incomplete_claims_are_refused(claims, error):
    with pytest.raises(error):
        identity_from_claims(claims)


def test_expired_token_is_token_expired():
    token = mint_local_token(SECRET, "c", "citizen", now=1000, ttl_seconds=10)
    with pytest.raises(TokenExpired):
        verify_local_token(token, SECRET)


def test_token_without_exp_is_refused():
    import jwt
    token = jwt.encode({"sub": "c", "role": "citizen"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        verify_local_token(token, SECRET)


def test_alg_none_is_refused():
    import jwt
    token = jwt.encode({"sub": "c", "role": "citizen", "exp": 2**40}, key=None, algorithm="none")
    with pytest.raises(DomainError):
        verify_local_token(token, SECRET)
