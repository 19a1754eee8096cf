"""Settings: every environment variable the deployed code reads, read once and checked.

Why one module: a setting read where it is used is read on every call, sometimes at import,
and a bad value fails one request at a time, far from its cause. Here each setting is
declared once (name, type, value in the local stage, whether an AWS stage must set it), read
once per process (a Lambda cold start) and checked then: a missing or malformed setting
stops the cold start with a ``SettingError`` that names it. No other module of chalicelib/,
handlers/ or payments/ reads ``os.environ`` (tests/unit/test_settings.py checks it).

The local stage needs no configuration: every default points at the loopback stack and its
simulators, and every credential default is obviously fake (AWS stages read credentials
from Secrets Manager, chalicelib.runtime.credentials, and refuse those fakes). An AWS stage
must set the settings declared ``required_in_aws``; infra/ sets them from infra/stages.json.
An empty value counts as unset. docs/settings.md lists every setting;
tests/unit/test_settings_doc.py keeps that table equal to the declarations here.
"""
from __future__ import annotations

import os
import re
import types
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from chalicelib.runtime.names import physical_name

LOCAL_STAGE = "local"
# Obviously fake credentials of the local stage; AWS stages refuse them (credentials.py).
FAKE_LOCAL_JWT_SECRET = "local-only-not-a-secret-change-me"
FAKE_ID_HASH_KEY = "local-only-id-hash-key-not-a-secret"
FAKE_VNPAY_TMN_CODE = "MOTCUA01"                       # the VNPay simulator's defaults
FAKE_VNPAY_HASH_SECRET = "LOCALSIMULATORSECRETNOTREAL"
FAKE_PAYGOV_PARTNER_CODE = "MOTCUA-LOCAL"               # the PayGov simulator's defaults
FAKE_PAYGOV_SECRET_KEY = "LOCALPAYGOVSECRETNOTREAL"
FAKE_PAYGOV_ACCESS_TOKEN = "local-paygov-token-not-real"
ONLINE_PROVIDERS = ("vnpay", "paygov")                  # gateways a stage may offer citizens
FAKE_NATIONAL_USERNAME = "motcua-local"               # what the national portal simulator accepts
FAKE_NATIONAL_PASSWORD = "local-only-not-a-secret"
FAKE_NATIONAL_DSTCODE = "MOTCUA-LOCAL"                # the routing code the simulator expects
FAKE_LGSP_CLIENT_ID = "motcua-local-lgsp"             # an LGSP client the simulator accepts
FAKE_LGSP_CLIENT_SECRET = "local-only-lgsp-not-a-secret"
FAKE_ZALO_TOKEN = "local-zalo-token-not-real"
# A connected ministry system's endpoint and shared secret are settings named in its
# configuration (chalicelib/sync/data/connectors.json): MOTCUA_CONNECTOR_<SYSTEM>_URL/_SECRET,
# read into Connectors.endpoints. Their local defaults are in that configuration too.
CONNECTOR_PREFIX = "MOTCUA_CONNECTOR_"


class SettingError(RuntimeError):
    """A setting is missing or malformed: a deployment mistake, reported by name at cold start."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"setting {name} {why}")
        self.setting = name


class Declared(NamedTuple):
    """One environment variable: its name (and any other name read in its place), its value when
    unset (as written in the environment; None: unset), whether an AWS stage must set it,
    an extra check of its value beyond its type, whether its value is kept out of ``repr``,
    and the kind of value docs/settings.md names (filled in by ``declared``)."""
    name: str
    local: str | None
    required_in_aws: bool = False
    check: Callable[[str], str | None] | None = None   # returns why the value is wrong, or None
    also: tuple[str, ...] = ()
    secret: bool = False
    kind: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.also)


def _setting(name: str, local: str | None = None, *, required_in_aws: bool = False,
             check: Callable[[str], str | None] | None = None, also: tuple[str, ...] = (),
             secret: bool = False) -> Any:
    """A settings field: its declaration is the field's default, replaced by the value ``load``
    reads; ``secret`` keeps the value out of ``repr``."""
    return Declared(name, local, required_in_aws, check, also, secret)


def safe_repr(group: Any) -> str:
    """A settings group as ``repr`` shows it, its secrets left out (logs and tracebacks print it)."""
    shown = (f"{name}={value!r}" for name, value in zip(group._fields, group, strict=True)
             if not getattr(type(group)._field_defaults.get(name), "secret", False))
    return f"{type(group).__name__}({', '.join(shown)})"


def _stage_name(value: str) -> str | None:
    """The stage names every resource (``motcua-{stage}-dossiers``)."""
    return None if re.fullmatch(r"[a-z][a-z0-9-]{0,20}", value) else "must be a lowercase stage name such as prod"


def _http_url(value: str) -> str | None:
    """URLs go into requests and Location headers: absolute http(s), no spaces or line breaks."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in value for c in "\r\n\t "):
        return "must be an absolute http(s) URL without spaces or line breaks"
    return None


def _clock(value: str) -> str | None:
    return None if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value) else "must be a time of day as HH:MM"


def _email(value: str) -> str | None:
    return None if re.fullmatch(r"[^@\s]+@[^@\s]+", value) else "must be an e-mail address"


def _unit_code(value: str) -> str | None:
    return None if re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}", value) else "must be a unit code such as 000.00.00.H50"


class Vnpay(NamedTuple):
    """Where the VNPay gateway is; its terminal code and hash secret are credentials."""
    host: str = _setting("VNPAY_HOST", "http://127.0.0.1:8089", required_in_aws=True, check=_http_url)
    pay_url: str | None = _setting("VNPAY_PAY_URL", check=_http_url)   # production's pay page and
    api_url: str | None = _setting("VNPAY_API_URL", check=_http_url)   # merchant API live apart from host


def _codes(value: str) -> str | None:
    """Whole numbers separated by commas, such as -99,500 (the portal's error codes)."""
    return None if re.fullmatch(r"\s*-?\d+\s*(,\s*-?\d+\s*)*", value) else "must be whole numbers separated by commas"


def _providers(value: str) -> str | None:
    """Online providers a citizen may choose, in order (the first is the default)."""
    names = [name.strip() for name in value.split(",")]
    if not all(re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name) for name in names) or len(set(names)) != len(names):
        return "must be provider names separated by commas, such as vnpay,paygov"
    return None


class Paygov(NamedTuple):
    """Where PayGov, the national payment platform, is; its partner code, secret key and
    access token are credentials. Its confirmation and return addresses are registered with
    PayGov for the partner code: {MOTCUA_PUBLIC_URL}/payments/providers/paygov/ipn and /return."""
    host: str = _setting("PAYGOV_HOST", "http://127.0.0.1:8090", check=_http_url)
    init_url: str | None = _setting("PAYGOV_INIT_URL", check=_http_url)     # deployments receive the INIT and
    query_url: str | None = _setting("PAYGOV_QUERY_URL", check=_http_url)   # QUERY addresses separately


class Payments(NamedTuple):
    # The stage's online providers, first = default; a procedure may narrow them (docs/payments.md).
    providers: str = _setting("MOTCUA_PAYMENT_PROVIDERS", "vnpay,paygov", check=_providers,
                              also=("MOTCUA_PAYMENT_PROVIDER",))
    ttl_minutes: int = _setting("MOTCUA_PAYMENT_TTL_MINUTES", "15")
    reconcile_after_minutes: int = _setting("MOTCUA_RECONCILE_AFTER_MINUTES", "15")


class NationalPortal(NamedTuple):
    """Where the national portal is (docs/national-portal.md): its auth and integration
    endpoints default to ``MOTCUA_NATIONAL_URL`` + ``/auth`` and ``/service``; a province that
    reaches it through its LGSP sets ``MOTCUA_NATIONAL_LGSP_URL`` (OAuth2 client credentials)."""
    url: str = _setting("MOTCUA_NATIONAL_URL", "http://127.0.0.1:8010", required_in_aws=True, check=_http_url)
    auth_url: str | None = _setting("MOTCUA_NATIONAL_AUTH_URL", check=_http_url)         # None: url + /auth
    service_url: str | None = _setting("MOTCUA_NATIONAL_SERVICE_URL", check=_http_url)   # None: url + /service
    dstcode: str = _setting("MOTCUA_NATIONAL_DSTCODE", FAKE_NATIONAL_DSTCODE, required_in_aws=True)
    lgsp_url: str | None = _setting("MOTCUA_NATIONAL_LGSP_URL", check=_http_url)         # None: no LGSP token
    madonvi: str = _setting("MOTCUA_NATIONAL_MADONVI", "000.00.00.H50", required_in_aws=True, check=_unit_code)
    timeout_seconds: float = _setting("MOTCUA_NATIONAL_TIMEOUT", "10")
    status_map_file: str | None = _setting("MOTCUA_NATIONAL_STATUS_MAP")   # None: the packaged map
    # error_code values the portal uses for its own faults: retried, never taken as a refused record
    retry_codes: str | None = _setting("MOTCUA_NATIONAL_RETRY_CODES", check=_codes)


class Zalo(NamedTuple):
    url: str = _setting("MOTCUA_ZALO_URL", "http://127.0.0.1:8011", required_in_aws=True, check=_http_url)
    oauth_url: str = _setting("MOTCUA_ZALO_OAUTH_URL", "http://127.0.0.1:8011", required_in_aws=True, check=_http_url)
    timeout_seconds: float = _setting("MOTCUA_ZALO_TIMEOUT", "10")


class Notifications(NamedTuple):
    email_sender: str = _setting("MOTCUA_EMAIL_SENDER", "thongbao@motcua.example", required_in_aws=True,
                                 check=_email)
    templates_file: str | None = _setting("MOTCUA_NOTIFICATION_TEMPLATES")   # None: the packaged templates
    sink_file: str | None = _setting("MOTCUA_NOTIFICATIONS_SINK")   # local stack: what was sent, JSON lines


class Connectors(NamedTuple):
    config_file: str | None = _setting("MOTCUA_CONNECTORS")   # None: the packaged configuration
    timeout_seconds: float = _setting("MOTCUA_CONNECTOR_TIMEOUT", "10")
    # MOTCUA_CONNECTOR_<SYSTEM>_URL / _SECRET, whatever systems the configuration names
    endpoints: Mapping[str, str] = MappingProxyType({})


class Reports(NamedTuple):
    shards: int = _setting("MOTCUA_REPORT_SHARDS", "4")   # fixed for the life of a deployment
    agency_succession_file: str | None = _setting("MOTCUA_AGENCY_SUCCESSION")   # None: the packaged table
    index_points_file: str | None = _setting("MOTCUA_INDEX766_POINTS")   # None: the packaged allocation
    index_at_risk_days: int = _setting("MOTCUA_INDEX766_AT_RISK_DAYS", "3")   # working days of warning


class DossierLimits(NamedTuple):
    """How far a dossier may grow (issue 18: a maximal submission and five supplement rounds
    took one past DynamoDB's 400 KB item limit, and every later write failed). Each bound is
    refused with a 422 naming the field, or a 409; ``item_bytes`` is the last guard, checked
    on every write of the dossier item (409 ``dossier_too_large``)."""
    form_bytes: int = _setting("MOTCUA_MAX_FORM_BYTES", "32768")              # the form, as UTF-8 JSON
    attachments: int = _setting("MOTCUA_MAX_ATTACHMENTS", "30")               # files at submission
    supplement_attachments: int = _setting("MOTCUA_MAX_SUPPLEMENT_ATTACHMENTS", "10")   # per supplement
    supplement_rounds: int = _setting("MOTCUA_MAX_SUPPLEMENT_ROUNDS", "5")
    supplement_request_bytes: int = _setting("MOTCUA_MAX_SUPPLEMENT_REQUEST_BYTES", "4096")   # reason + documents
    file_name_bytes: int = _setting("MOTCUA_MAX_FILE_NAME_BYTES", "255")      # as most file systems
    item_bytes: int = _setting("MOTCUA_MAX_DOSSIER_BYTES", "380000")          # the stored dossier, UTF-8 JSON


class Retries(NamedTuple):
    """Overrides of the queues' retry backoff (the local stack and tests shorten it)."""
    first_seconds: int | None = _setting("MOTCUA_RETRY_FIRST_SECONDS")
    max_seconds: int | None = _setting("MOTCUA_RETRY_MAX_SECONDS")


class LocalCredentials(NamedTuple):
    """Credentials of the local stage only; AWS stages read Secrets Manager instead."""
    id_hash_key: str = _setting("MOTCUA_ID_HASH_KEY", FAKE_ID_HASH_KEY, secret=True)
    vnpay_tmn_code: str = _setting("VNPAY_TMN_CODE", FAKE_VNPAY_TMN_CODE)
    vnpay_hash_secret: str = _setting("VNPAY_HASH_SECRET", FAKE_VNPAY_HASH_SECRET, secret=True)
    paygov_partner_code: str = _setting("PAYGOV_PARTNER_CODE", FAKE_PAYGOV_PARTNER_CODE)
    paygov_secret_key: str = _setting("PAYGOV_SECRET_KEY", FAKE_PAYGOV_SECRET_KEY, secret=True)
    paygov_access_token: str = _setting("PAYGOV_ACCESS_TOKEN", FAKE_PAYGOV_ACCESS_TOKEN, secret=True)
    national_username: str = _setting("MOTCUA_NATIONAL_USERNAME", FAKE_NATIONAL_USERNAME)
    national_password: str = _setting("MOTCUA_NATIONAL_PASSWORD", FAKE_NATIONAL_PASSWORD, secret=True)
    lgsp_client_id: str = _setting("MOTCUA_NATIONAL_LGSP_CLIENT_ID", FAKE_LGSP_CLIENT_ID)
    lgsp_client_secret: str = _setting("MOTCUA_NATIONAL_LGSP_CLIENT_SECRET", FAKE_LGSP_CLIENT_SECRET, secret=True)
    zalo_token: str = _setting("MOTCUA_ZALO_TOKEN", FAKE_ZALO_TOKEN, secret=True)

    def __repr__(self) -> str:
        return safe_repr(self)


class Settings(NamedTuple):
    """The settings of this process. The flat fields are the stage, its AWS resources and
    the API's limits; each provider and each context's overrides are a group of their own.

    Every group is a NamedTuple whose field defaults are the declarations: an immutable typed
    record, like a frozen dataclass, but created for a sixth of the CPU (about 85 µs against
    520 µs on CPython 3.13), and every function imports this module on its cold start."""
    vnpay: Vnpay
    paygov: Paygov
    payments: Payments
    national: NationalPortal
    zalo: Zalo
    notifications: Notifications
    connectors: Connectors
    reports: Reports
    dossier_limits: DossierLimits
    retries: Retries
    local_credentials: LocalCredentials
    stage: str = _setting("MOTCUA_STAGE", LOCAL_STAGE, required_in_aws=True, check=_stage_name)
    region: str = _setting("AWS_REGION", "ap-southeast-1", also=("AWS_DEFAULT_REGION",))
    aws_endpoint_url: str | None = _setting("MOTCUA_AWS_ENDPOINT", check=_http_url)   # the moto server locally
    attachments_bucket: str | None = _setting("MOTCUA_ATTACHMENTS_BUCKET", required_in_aws=True)   # set by infra/
    public_url: str = _setting("MOTCUA_PUBLIC_URL", "http://127.0.0.1:8000", required_in_aws=True, check=_http_url)
    portal_origin: str | None = _setting("MOTCUA_PORTAL_ORIGIN", check=_http_url)   # the one origin CORS admits
    papers_place: str | None = _setting("MOTCUA_PAPERS_PLACE")   # None: from the catalogue's province (docs/forms.md)
    papers_function: str | None = _setting("MOTCUA_PAPERS_FUNCTION")   # None: draw in-process (set by infra/)
    local_jwt_secret: str = _setting("MOTCUA_LOCAL_JWT_SECRET", FAKE_LOCAL_JWT_SECRET, secret=True)
    # The leaders' dashboard signs in through the stage's Cognito hosted UI (docs/security.md#sign-in);
    # infra/ sets both when the stage has a sign-in domain. Unset: no OIDC sign-in (local: the local page).
    signin_authority: str | None = _setting("MOTCUA_SIGNIN_AUTHORITY", check=_http_url)
    dashboard_client_id: str | None = _setting("MOTCUA_DASHBOARD_CLIENT_ID")
    workday_end: str = _setting("MOTCUA_WORKDAY_END", "17:00", check=_clock)
    calendar_extras_file: str | None = _setting("MOTCUA_CALENDAR_EXTRAS")
    max_body_bytes: int = _setting("MOTCUA_MAX_BODY_BYTES", "1048576")
    upload_max_bytes: int = _setting("MOTCUA_UPLOAD_MAX_BYTES", "20971520")
    import_max_bytes: int = _setting("MOTCUA_IMPORT_MAX_BYTES", "67108864")   # a file of `motcua ... import`
    upload_url_ttl_seconds: int = _setting("MOTCUA_UPLOAD_URL_TTL", "900")
    download_url_ttl_seconds: int = _setting("MOTCUA_DOWNLOAD_URL_TTL", "300")
    receipt_url_ttl_seconds: int = _setting("MOTCUA_RECEIPT_URL_TTL", "300")
    file_link_ttl_days: int = _setting("MOTCUA_FILE_LINK_TTL_DAYS", "365")   # national portal file links
    catalogue_cache_seconds: int = _setting("MOTCUA_CATALOGUE_CACHE_SECONDS", "60")
    idempotency_ttl_seconds: int = _setting("MOTCUA_IDEMPOTENCY_TTL", "86400")
    track_per_ip: int = _setting("MOTCUA_TRACK_PER_IP", "10")
    track_failures_per_code: int = _setting("MOTCUA_TRACK_FAILURES_PER_CODE", "5")
    track_failure_window_seconds: int = _setting("MOTCUA_TRACK_FAILURE_WINDOW", "900")
    audit_retention_days: int = _setting("MOTCUA_AUDIT_RETENTION_DAYS", "3650")   # infra/ sets it per stage
    attachment_retention_years: int = _setting("MOTCUA_ATTACHMENT_RETENTION_YEARS", "5")
    secrets_max_age_seconds: int = _setting("MOTCUA_SECRETS_MAX_AGE", "900")
    # Decree 118/2025: an extension's horizon, working days added in all (None: the procedure's own days).
    extension_max_days: int | None = _setting("MOTCUA_EXTENSION_MAX_DAYS")

    def __repr__(self) -> str:
        return safe_repr(self)

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    def name(self, resource: str) -> str:
        """Physical name of a resource for this stage, e.g. ``motcua-local-dossiers``."""
        return physical_name(self.stage, resource)


CONNECTOR_SETTINGS = (
    Declared(f"{CONNECTOR_PREFIX}<SYSTEM>_URL", None, required_in_aws=True, kind="URL"),
    Declared(f"{CONNECTOR_PREFIX}<SYSTEM>_SECRET", None, required_in_aws=True, kind="text"),
)


@cache
def _hints(cls: type) -> dict[str, Any]:
    """A settings class's field types, evaluated once: ``load`` walks every class twice
    (its values, then the declared names) and the annotations are strings to evaluate."""
    return get_type_hints(cls)


def _is_group(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_field_defaults") \
        and hint is not Declared


def declared(cls: type = Settings) -> list[Declared]:
    """Every declared setting, groups included, with its kind (docs/settings.md)."""
    found: list[Declared] = []
    hints = _hints(cls)
    for name in cls._fields:   # type: ignore[attr-defined]
        spec = cls._field_defaults.get(name)   # type: ignore[attr-defined]
        if isinstance(spec, Declared):
            found.append(spec._replace(kind="secret" if spec.secret else _kind(spec, name, hints[name])))
        elif _is_group(hints[name]):
            found += declared(hints[name])
    return found


def _kind(spec: Declared, field_name: str, hint: Any) -> str:
    kind, _ = _optional(hint)
    if kind is int:
        return "integer"
    if kind is float:
        return "number"
    if spec.check:
        kinds: dict[Callable[[str], str | None], str] = {
            _http_url: "URL", _clock: "HH:MM", _email: "e-mail", _unit_code: "unit code", _stage_name: "stage name",
            _providers: "names", _codes: "codes"}
        return kinds[spec.check]
    return "path" if field_name.endswith("_file") else "text"


def _optional(hint: Any) -> tuple[Any, bool]:
    """(the type inside ``X | None``, whether None is allowed)."""
    if get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint):
        return next(arg for arg in get_args(hint) if arg is not type(None)), True
    return hint, False


def _value(spec: Declared, hint: Any, environ: Mapping[str, str], stage: str) -> Any:
    raw = next((environ[name] for name in spec.names if environ.get(name)), None)
    if raw is None and spec.required_in_aws and stage != LOCAL_STAGE:
        raise SettingError(spec.name, f"is required in stage {stage!r} (infra/ sets it from infra/stages.json)")
    raw = raw if raw is not None else spec.local
    kind, optional = _optional(hint)
    if raw is None:
        if not optional:
            raise SettingError(spec.name, "is required")
        return None
    if kind in (int, float):
        try:
            number = kind(raw)
        except ValueError:
            raise SettingError(spec.name, f"must be a {'whole ' if kind is int else ''}number, not {raw!r}") from None
        if number <= 0:
            raise SettingError(spec.name, f"must be greater than 0, not {raw!r}")
        return number
    why = spec.check(raw) if spec.check else None
    if why:
        raise SettingError(spec.name, why)
    return raw.rstrip("/") if spec.check is _http_url else raw


def _group(cls: type, environ: Mapping[str, str], stage: str) -> Any:
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for name in cls._fields:   # type: ignore[attr-defined]
        spec = cls._field_defaults.get(name)   # type: ignore[attr-defined]
        if isinstance(spec, Declared):
            values[name] = _value(spec, hints[name], environ, stage)
        elif _is_group(hints[name]):
            values[name] = _group(hints[name], environ, stage)
    return cls(**values)


def load(environ: Mapping[str, str]) -> Settings:
    """The settings in ``environ``, checked; raises SettingError naming the first bad one."""
    loaded: Settings = _group(Settings, environ, environ.get("MOTCUA_STAGE") or LOCAL_STAGE)
    known = {name for spec in declared() for name in spec.names}
    endpoints = {name: value for name, value in environ.items()
                 if name.startswith(CONNECTOR_PREFIX) and name not in known and value}
    return loaded._replace(connectors=loaded.connectors._replace(endpoints=MappingProxyType(endpoints)))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """This process's settings, read from the environment on first use (``cache_clear`` to
    read again, as tests do after changing the environment)."""
    return load(os.environ)
