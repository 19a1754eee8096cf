"""The API: Chalice's package imported through ``chalice.cdk.Chalice``, a Cognito user pool
as its authorizer, and the API Gateway stage settings Chalice does not model.

Which operations need a token comes from the contract (chalicelib/edge/openapi.yaml): an
operation documented with ``security: []`` is public, every other one (including any route
the contract forgot) gets the Cognito authorizer. API Gateway then passes the verified ID
token's claims in ``requestContext.authorizer.claims``, which chalicelib.edge.web.identity_of
reads in every stage but local.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from collections.abc import Iterable

from aws_cdk import Duration, RemovalPolicy, SecretValue, aws_apigateway as apigw, aws_cognito as cognito
from aws_cdk import aws_iam as iam, aws_logs as logs, aws_route53 as route53
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.runtime import resources
from chalicelib.trust.use_cases.sign_in import DASHBOARD_PATH
from infra.functions import RUNTIME, Shared, function_name, log_group, logs_removal, role
from infra.stages import StageConfig

API_STAGE = "api"           # .chalice/config.json's api_gateway_stage
API_TIMEOUT_SECONDS = 29    # API Gateway's integration limit
AUTHORIZER = "cognito"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
CONTRACT = Path(__file__).resolve().parents[1] / "chalicelib" / "edge" / "openapi.yaml"


def user_pool(scope: Construct, config: StageConfig) -> tuple[cognito.UserPool, cognito.UserPoolClient, dict[str, str]]:
    """Accounts are created by administrators (or federated later): no self sign-up. Roles
    and agencies are custom attributes the portal cannot write. The third value is the
    dashboard's sign-in settings for the API function (empty without a sign-in domain)."""
    pool = cognito.UserPool(
        scope, "Users", user_pool_name=function_name(config, "users"), self_sign_up_enabled=False,
        sign_in_aliases=cognito.SignInAliases(username=True, email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        custom_attributes={"role": cognito.StringAttribute(min_len=3, max_len=20, mutable=True),
                           "agency_id": cognito.StringAttribute(min_len=1, max_len=40, mutable=True),
                           # the citizen's CCCD/CMND, set by administrators or mapped from VNeID at
                           # federation; it links imported legacy accounts (chalicelib/trust/use_cases/legacy.py)
                           "id_number": cognito.StringAttribute(min_len=9, max_len=12, mutable=True)},
        password_policy=cognito.PasswordPolicy(min_length=12, require_digits=True, require_lowercase=True,
                                               require_uppercase=True, require_symbols=True,
                                               temp_password_validity=Duration.days(3)),
        mfa=cognito.Mfa.OPTIONAL, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,  # no SMS: no SNS spend, no SMS role
        deletion_protection=config.deletion_protection,
        removal_policy=RemovalPolicy.RETAIN if config.deletion_protection else RemovalPolicy.DESTROY,
    )
    standard = cognito.ClientAttributes().with_standard_attributes(email=True, phone_number=True, fullname=True)
    domain = pool.add_domain("SignIn", cognito_domain=cognito.CognitoDomainOptions(
        domain_prefix=config.auth_domain_prefix)) if config.auth_domain_prefix else None
    providers = federated_providers(scope, pool, config)
    client = pool.add_client(
        "Portal", user_pool_client_name=function_name(config, "portal"), generate_secret=False,
        auth_flows=cognito.AuthFlow(user_srp=True), prevent_user_existence_errors=True,
        read_attributes=standard.with_custom_attributes("role", "agency_id", "id_number"),
        write_attributes=standard,
        id_token_validity=Duration.hours(1), access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.days(30),
        **_portal_sign_in(config, providers))
    for provider in providers:
        client.node.add_dependency(provider)
    if domain is None:
        return pool, client, {}
    dashboard = _dashboard_client(pool, config, providers)
    # chalicelib/trust/use_cases/sign_in.py: the page signs in at the hosted UI with this client
    return pool, client, {"MOTCUA_SIGNIN_AUTHORITY": domain.base_url(),
                          "MOTCUA_DASHBOARD_CLIENT_ID": dashboard.user_pool_client_id}


def federated_providers(scope: Construct, pool: cognito.UserPool,
                        config: StageConfig) -> list[cognito.UserPoolIdentityProviderOidc]:
    """External OIDC issuers (VNeID, the national portal's SSO), each configured by issuer
    and client only: Cognito reads the issuer's discovery document and JWKS, verifies the
    provider's tokens (signature, issuer, audience, expiry) and issues its own. The id number
    claim is mapped to ``custom:id_number`` (legacy accounts link by it); no claim maps to
    ``custom:role``, so a federated user is a citizen (chalicelib/trust/rules/identity.py)."""
    return [cognito.UserPoolIdentityProviderOidc(
        scope, f"Provider{provider.name}", user_pool=pool, name=provider.name, issuer_url=provider.issuer,
        client_id=provider.client_id,
        # a dynamic reference: CloudFormation resolves it at deploy, the template never holds it
        client_secret=SecretValue.secrets_manager(provider.client_secret_name).unsafe_unwrap(),
        scopes=["openid", "profile", "email"], attribute_request_method=cognito.OidcAttributeRequestMethod.GET,
        attribute_mapping=cognito.AttributeMapping(
            email=cognito.ProviderAttribute.other("email"), fullname=cognito.ProviderAttribute.other("name"),
            custom={"custom:id_number": cognito.ProviderAttribute.other(provider.id_number_claim)}))
        for provider in config.identity_providers]


# The scopes a sign-in may ask for. Never aws.cognito.signin.user.admin: a token with it can
# change its own user's attributes (custom:role, custom:agency_id) through Cognito's API.
SIGN_IN_SCOPES = [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE]


def _code_flow(callback: str, logout: str) -> cognito.OAuthSettings:
    """Authorization code only (public clients, PKCE on the client side), no implicit flow,
    one callback and one sign-out address on the stage's own origin."""
    return cognito.OAuthSettings(flows=cognito.OAuthFlows(authorization_code_grant=True), scopes=SIGN_IN_SCOPES,
                                 callback_urls=[callback], logout_urls=[logout])


def _portal_sign_in(config: StageConfig, providers: list[Any]) -> dict[str, Any]:
    """The portal's hosted sign-in when federated providers exist; otherwise no OAuth at all
    (CDK's default would open implicit and code flows to https://example.com with every scope)."""
    if not providers:
        return {"disable_o_auth": True}
    federated = (cognito.UserPoolClientIdentityProvider.custom(p.name) for p in config.identity_providers)
    return {"supported_identity_providers": [cognito.UserPoolClientIdentityProvider.COGNITO, *federated],
            "o_auth": _code_flow(f"{config.portal_origin}/dang-nhap/callback", f"{config.portal_origin}/")}


def _dashboard_client(pool: cognito.UserPool, config: StageConfig, providers: list[Any]) -> cognito.UserPoolClient:
    """The leaders' dashboard (served by the API at /dashboard) signs officers in through the
    hosted UI: authorization code with PKCE, back to the dashboard itself (the redirect_uri
    chalicelib/trust/use_cases/sign_in.py gives the page)."""
    # the settings drop a trailing "/" from MOTCUA_PUBLIC_URL; the address must match exactly
    dashboard = f"{config.provider_settings['MOTCUA_PUBLIC_URL'].rstrip('/')}{DASHBOARD_PATH}"
    client = pool.add_client(
        "Dashboard", user_pool_client_name=function_name(config, "dashboard"), generate_secret=False,
        auth_flows=cognito.AuthFlow(), prevent_user_existence_errors=True,
        id_token_validity=Duration.hours(1), access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.hours(12),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        o_auth=_code_flow(dashboard, dashboard))
    for provider in providers:
        client.node.add_dependency(provider)
    return client


def load_contract(path: Path = CONTRACT) -> dict[str, Any]:
    import yaml
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def protected_operations(swagger_paths: dict[str, Any], contract: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, method) of every routed operation that needs a token: all but the documented public ones."""
    documented = contract.get("paths", {})
    protected = []
    for path, operations in swagger_paths.items():
        for method in operations:
            if method not in HTTP_METHODS:
                continue
            operation = documented.get(path, {}).get(method)
            if operation is None or operation.get("security") != []:
                protected.append((path, method))
    return protected


def _override_key(*parts: str) -> str:
    """A CloudFormation property path; dots inside a part (``/openapi.json``) are escaped."""
    return ".".join(part.replace(".", "\\.") for part in parts)


def chalice_api(scope: Construct, shared: Shared, project_dir: Path, pool: cognito.UserPool,
                secrets: Iterable[str], objects: tuple[resources.Objects, ...],
                invoked: tuple[resources.Invoked, ...] = (), sign_in: dict[str, str] | None = None) -> Chalice:
    config = shared.config
    name = function_name(config, "api")
    api_role = role(scope, "Role-api", shared, "api", tables=None, secrets=tuple(secrets), publishes=False,
                    objects=objects, invokes=tuple(function.name for function in invoked))
    stage_config: dict[str, Any] = {
        "api_gateway_stage": API_STAGE,
        "api_gateway_endpoint_type": "REGIONAL",
        "manage_iam_role": False,
        "iam_role_arn": api_role.role_arn,
        "autogen_policy": False,
        "lambda_memory_size": config.api_memory_mb,
        "lambda_timeout": API_TIMEOUT_SECONDS,
        "xray": True,
        "environment_variables": {**shared.environment, "POWERTOOLS_SERVICE_NAME": "motcua-api",
                                  "MOTCUA_PORTAL_ORIGIN": config.portal_origin, **(sign_in or {}),
                                  **{function.setting: function_name(config, function.name) for function in invoked}},
    }
    if config.api_reserved_concurrency is not None:
        stage_config["reserved_concurrency"] = config.api_reserved_concurrency
    if config.domain is not None:
        stage_config["api_gateway_custom_domain"] = {
            "domain_name": config.domain.name, "certificate_arn": config.domain.certificate_arn,
            "tls_version": "TLS_1_2"}
    os.environ.setdefault("AWS_DEFAULT_REGION", config.region)  # chalice package needs a region, no account
    api = Chalice(scope, "Api", source_dir=str(project_dir), stage_config=stage_config)
    handler = api.get_resource("APIHandler")
    handler.add_property_override("FunctionName", name)
    # Chalice takes the runtime from the Python running the synth (it has no setting for it);
    # the API runs the pinned one like every other function.
    handler.add_property_override("Runtime", RUNTIME.name)
    # Chalice's own log_retention_in_days emits a broken Fn::Sub in SAM output; own the group here.
    handler.node.add_dependency(log_group(scope, "Logs-api", config, name))
    _configure_rest_api(scope, api, config, pool)
    if config.domain is not None and config.domain.hosted_zone_id:
        domain = api.get_resource("ApiGatewayCustomDomain")
        route53.CfnRecordSet(scope, "ApiDomainRecord", hosted_zone_id=config.domain.hosted_zone_id,
                             name=config.domain.name, type="A", alias_target=route53.CfnRecordSet.AliasTargetProperty(
                                 dns_name=domain.attr_regional_domain_name,
                                 hosted_zone_id=domain.attr_regional_hosted_zone_id))
    return api


def sam_paths(api: Chalice) -> dict[str, Any]:
    """The routes as Chalice generated them (its construct keeps the SAM template on disk)."""
    sam = json.loads((Path(api._sam_package_dir) / "sam.json").read_text(encoding="utf-8"))
    return sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]


def _configure_rest_api(scope: Construct, api: Chalice, config: StageConfig, pool: cognito.UserPool) -> None:
    rest = api.get_resource("RestAPI")
    access_logs = logs.LogGroup(scope, "ApiAccessLogs", removal_policy=logs_removal(config))
    access_logs.node.default_child.retention_in_days = config.log_retention_days
    rest.add_property_override("Name", function_name(config, "api"))
    rest.add_property_override("TracingEnabled", True)
    rest.add_property_override("AccessLogSetting", {
        "DestinationArn": access_logs.log_group_arn,
        "Format": json.dumps({"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
                              "method": "$context.httpMethod", "path": "$context.resourcePath",
                              "status": "$context.status", "latencyMs": "$context.responseLatency",
                              "sub": "$context.authorizer.claims.sub"})})
    rest.add_property_override("MethodSettings", [{
        "ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True, "LoggingLevel": "ERROR",
        "DataTraceEnabled": False, "ThrottlingRateLimit": config.api_throttle_rate,
        "ThrottlingBurstLimit": config.api_throttle_burst}])
    rest.add_property_override(_override_key("DefinitionBody", "securityDefinitions", AUTHORIZER), {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [pool.user_pool_arn]}})
    paths = sam_paths(api)
    for path, method in protected_operations(paths, load_contract()):
        rest.add_property_override(_override_key("DefinitionBody", "paths", path, method, "security"),
                                   [{AUTHORIZER: []}])
    _cors(rest, config, paths)
    if config.manage_apigateway_account_role:
        rest.node.add_dependency(_account_logging_role(scope))


CORS_REQUEST_HEADERS = "Authorization,Content-Type,Idempotency-Key"


def _cors(rest: Any, config: StageConfig, paths: dict[str, Any]) -> None:
    """The portal's browsers may call the API, and no other origin: API Gateway answers each
    path's preflight (a mock, no authorizer: browsers send no token on it) for the stage's
    portal_origin only, its own error answers (401 from the authorizer, 429) carry the same
    header, and the function adds it to its answers (chalicelib.edge.web.cors_headers)."""
    origin = f"'{config.portal_origin}'"
    for path, operations in paths.items():
        methods = ",".join(sorted({m.upper() for m in operations if m in HTTP_METHODS} | {"OPTIONS"}))
        headers = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": f"'{methods}'",
                   "Access-Control-Allow-Headers": f"'{CORS_REQUEST_HEADERS}'", "Access-Control-Max-Age": "'600'",
                   "Vary": "'Origin'"}
        rest.add_property_override(_override_key("DefinitionBody", "paths", path, "options"), {
            "consumes": ["application/json"], "produces": ["application/json"], "security": [],
            "responses": {"204": {"description": "CORS preflight", "headers": {h: {"type": "string"} for h in headers}}},
            "x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 204}'},
                "responses": {"default": {"statusCode": "204", "responseParameters": {
                    f"method.response.header.{h}": v for h, v in headers.items()}}}}})
    cors = {"ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": origin, "Vary": "'Origin'"}}}
    rest.add_property_override("GatewayResponses", {
        "DEFAULT_4XX": cors, "DEFAULT_5XX": cors,
        **{kind: {**cors, **answer} for kind, answer in gateway_answers().items()}})


def gateway_answers() -> dict[str, dict[str, Any]]:
    """The answers API Gateway gives itself, before the function, in the API's error shape
    (issue 18's black-box rerun, docs/security.md#the-black-box-run): a path no route serves
    is 404 ``route_not_found`` (API Gateway's own is a 403 "Missing Authentication Token" that
    repeats the caller's Authorization header), and the authorizer's refusal of a token is 401
    ``unauthenticated`` (its own is {"message": "Unauthorized"}); the texts are the edge's."""
    from chalicelib.edge.errors import body_of, chalice_error_body
    from chalicelib.kernel.errors import Unauthenticated

    def answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"StatusCode": str(status), "ResponseTemplates": {"application/json": json.dumps(body, ensure_ascii=False)}}
    return {"MISSING_AUTHENTICATION_TOKEN": answer(404, chalice_error_body("RouteNotFound")),
            "UNAUTHORIZED": answer(401, body_of(Unauthenticated()))}


def _account_logging_role(scope: Construct) -> apigw.CfnAccount:
    """API Gateway writes stage logs through one role per account and region."""
    push = iam.Role(scope, "ApiGatewayLogsRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                    managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                        "service-role/AmazonAPIGatewayPushToCloudWatchLogs")])
    return apigw.CfnAccount(scope, "ApiGatewayAccount", cloud_watch_role_arn=push.role_arn)


