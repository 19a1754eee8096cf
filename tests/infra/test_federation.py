"""External OIDC issuers are federated into the stage's Cognito pool by issuer and client
only; a stage without them gets none; cdk-nag passes with them. Built on a small stack (the
pool, its client, domain and providers: all that ``identity_providers`` changes), not a full
synth."""
from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Annotations, Match, Template

from infra import api, nag, stages

VNEID = {"name": "VNeID", "issuer": "https://sso.vneid.example.vn", "client_id": "motcua-prod",
         "client_secret_name": "motcua/prod/oidc/vneid", "id_number_claim": "citizen_id"}


def pool_template(config: stages.StageConfig) -> Template:
    stack = Stack(App(), "Pool")
    api.user_pool(stack, config)
    return Template.from_stack(stack)


def federated() -> stages.StageConfig:
    return replace(stages.load("prod"), identity_providers=stages._providers("prod", [VNEID]),
                   auth_domain_prefix="motcua-prod-signin")


def test_a_stage_federates_each_provider_by_issuer_with_the_id_number_mapped():
    config = federated()
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


def test_cdk_nag_finds_nothing_unsuppressed_on_a_stage_with_identity_providers(tmp_path):
    """The same AWS Solutions pack and suppressions as the real synth (infra.nag.check)."""
    stack = Stack(App(outdir=str(tmp_path)), "Federated")
    api.user_pool(stack, federated())
    nag.check(stack)
    findings = Match.string_like_regexp("AwsSolutions-")
    annotations = Annotations.from_stack(stack)
    assert annotations.find_error("*", findings) == [] and annotations.find_warning("*", findings) == []
    [report] = tmp_path.glob("AwsSolutions-*Federated-NagReport.csv")
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert not [row for row in rows if row["Compliance"] == "Non-Compliant"]
    assert any(row["Compliance"] == "Compliant" and "/Users/" in row["Resource ID"] for row in rows)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Cognito::UserPoolIdentityProvider", 1)   # what was checked had the provider


def test_without_providers_or_a_sign_in_domain_the_pool_has_no_federation_and_no_oauth():
    template = pool_template(replace(stages.load("prod"), auth_domain_prefix=None))
    template.resource_count_is("AWS::Cognito::UserPoolIdentityProvider", 0)
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 0)
    template.resource_count_is("AWS::Cognito::UserPoolClient", 1)
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {"AllowedOAuthFlowsUserPoolClient": False})


def test_a_sign_in_domain_gives_the_dashboard_a_code_flow_client_back_to_itself():
    template = pool_template(stages.load("prod"))
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {
        "AllowedOAuthFlows": ["code"], "AllowedOAuthFlowsUserPoolClient": True,
        "CallbackURLs": ["https://api.dichvucong.example.vn/dashboard"],
        "LogoutURLs": ["https://api.dichvucong.example.vn/dashboard"],
        "AllowedOAuthScopes": Match.array_with(["openid"])})


def test_the_api_learns_the_hosted_ui_and_the_dashboard_client_from_the_pool():
    """What GET /dashboard/config gives the page (chalicelib/trust/use_cases/sign_in.py)."""
    stack = Stack(App(), "Pool")
    _, _, sign_in = api.user_pool(stack, stages.load("prod"))
    resolved = {name: stack.resolve(value) for name, value in sign_in.items()}
    assert set(resolved) == {"MOTCUA_SIGNIN_AUTHORITY", "MOTCUA_DASHBOARD_CLIENT_ID"}
    authority = json.dumps(resolved["MOTCUA_SIGNIN_AUTHORITY"])
    assert "https://" in authority and ".auth." in authority and "amazoncognito.com" in authority
    domain, = Template.from_stack(stack).find_resources("AWS::Cognito::UserPoolDomain")
    assert domain in authority
    client, = [name for name, resource in Template.from_stack(stack).find_resources("AWS::Cognito::UserPoolClient").items()
               if resource["Properties"].get("ClientName", "").endswith("dashboard")]
    assert resolved["MOTCUA_DASHBOARD_CLIENT_ID"] == {"Ref": client}
    _, _, without = api.user_pool(Stack(App(), "Plain"), replace(stages.load("prod"), auth_domain_prefix=None))
    assert without == {}


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
