"""External OIDC issuers are federated into the stage's Cognito pool by issuer and client
only; a stage without them gets none. Built on a small stack (no full synth)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from infra import api, stages

VNEID = {"name": "VNeID", "issuer": "https://sso.vneid.example.vn", "client_id": "motcua-prod",
         "client_secret_name": "motcua/prod/oidc/vneid", "id_number_claim": "citizen_id"}


def pool_template(config: stages.StageConfig) -> Template:
    stack = Stack(App(), "Pool")
    api.user_pool(stack, config)
    return Template.from_stack(stack)


def test_a_stage_federates_each_provider_by_issuer_with_the_id_number_mapped():
    config = replace(stages.load("prod"), identity_providers=stages._providers("prod", [VNEID]),
                     auth_domain_prefix="motcua-prod-signin")
    template = pool_template(config)
    template.has_resource_properties("AWS::Cognito::UserPoolIdentityProvider", {
        "ProviderName": "VNeID", "ProviderType": "OIDC",
        "ProviderDetails": Match.object_like({"oidc_issuer": VNEID["issuer"], "client_id": "motcua-prod",
                                              "attributes_request_method": "GET"}),
        "AttributeMapping": {"email": "email", "name": "name", "custom:id_number": "citizen_id"}})
    secret = json.dumps(template.find_resources("AWS::Cognito::UserPoolIdentityProvider"))
    assert "resolve:secretsmanager:motcua/prod/oidc/vneid" in secret      # never the secret itself
    assert "custom:role" not in secret                                     # no provider can make staff
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {
        "SupportedIdentityProviders": ["COGNITO", "VNeID"], "AllowedOAuthFlows": ["code"],
        "CallbackURLs": [f"{config.portal_origin}/dang-nhap/callback"]})
    template.has_resource_properties("AWS::Cognito::UserPoolDomain", {"Domain": "motcua-prod-signin"})


def test_without_providers_the_pool_has_no_federation():
    template = pool_template(stages.load("prod"))
    template.resource_count_is("AWS::Cognito::UserPoolIdentityProvider", 0)
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 0)


@pytest.mark.parametrize("change, setting", [
    ({"issuer": "http://sso.example.vn"}, "identity_providers[0].issuer"),
    ({"client_id": ""}, "identity_providers[0].client_id"),
    ({"name": "a b"}, "identity_providers[0].name"),
])
def test_a_bad_provider_setting_is_named(change, setting):
    with pytest.raises(stages.StageError, match=f"'{setting}'".replace("[", r"\[").replace("]", r"\]")):
        stages._providers("prod", [{**VNEID, **change}])


def test_providers_need_a_sign_in_domain(tmp_path):
    document = json.loads(stages.DEFAULT_FILE.read_text(encoding="utf-8"))
    document["stages"]["dev"]["identity_providers"] = [VNEID]
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(stages.StageError, match="auth_domain_prefix"):
        stages.load("dev", path)
