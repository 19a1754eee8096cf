"""Who may do what: the permission matrix as data, checked in one place. Pure: no AWS.

Every route has exactly one action here (``RULES``), and every action says, per role, the
scope within which that role may perform it. Roles absent from an action may not perform it
at all (Forbidden, before the body is read). Public actions need no token.

Two checks, in this order:

1. ``allow(identity, action)`` at the edge (app.py ``route``): may this role do this at all?
2. ``check(identity, action, resource)`` in the use case, once the dossier or payment is
   loaded: is this resource within the role's scope? Out of scope, a read is NotFound as if
   the resource did not exist; a write is NotFound for owner- and procedure-scoped roles
   (citizens, integrations: existence is not leaked) and Forbidden for agency-scoped roles (an
   officer of agency B acting on agency A's dossier is told it is not theirs).

Scopes:

- ``own``: the citizen's own dossiers and payments (``owner_sub`` is the token's subject);
- ``agency``: for reads, the identity's agency, or an agency retired into it (merger day),
  took part in the dossier (the competent agency, the desk that received it, or one that held
  a step: ``agencies`` and ``receiving_agency_id``); for writes, it is the dossier's current
  agency (the competent agency or the one holding the current step); for payments, the
  dossier's agency;
- ``receiving``: ``agency``, or the desk that received the dossier (``receiving_agency_id``),
  which under Decree 118/2025 may belong to another agency: it hands the dossier over
  (acceptance, refusal of intake) and returns the result at its counter;
- ``desk``: a dossier received at a desk (direct or postal), by the identity's agency as the
  receiving desk or as the competent agency; it acts for the walk-in citizen (supplements,
  withdrawal, the rating given at the desk);
- ``procedures``: an integration client's own procedures, from its connector configuration
  (chalicelib/sync/data/connectors.json: the system whose ``client_sub`` is the token's subject);
- ``all``: anything; for actions on no single resource (lists, reports) the use case narrows
  by the scope itself (``scope_of``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Mapping

from chalicelib.sync.rules.connectors import system_of_client
from chalicelib.kernel.errors import Forbidden, NotFound
from chalicelib.trust.rules.identity import Identity

PUBLIC = "public"
OWN, AGENCY, RECEIVING, DESK, PROCEDURES, ALL = "own", "agency", "receiving", "desk", "procedures", "all"
SCOPES = (OWN, AGENCY, RECEIVING, DESK, PROCEDURES, ALL)
READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Rule:
    """One action: the route that performs it (None for an action chosen in the body of
    POST /dossiers/{code}/actions), whether it reads or writes, what it acts on, and the
    scope of each role allowed to do it (empty for a public route)."""
    route: tuple[str, str] | None
    kind: str
    grants: Mapping[str, str] = field(default_factory=dict)
    resource: str | None = None      # "dossier" | "payment" | None (lists, reports, uploads)
    public: bool = False


def _public(method: str, path: str) -> Rule:
    return Rule((method, path), READ, {}, None, public=True)


CITIZEN_OWN = {"citizen": OWN}
AGENCY_STAFF = {"officer": AGENCY, "leader": AGENCY}
DOSSIER_READERS = {"citizen": OWN, **AGENCY_STAFF, "admin": ALL, "integration": PROCEDURES}
PAYMENT_READERS = {"citizen": OWN, **AGENCY_STAFF, "finance": ALL, "admin": ALL}
REPORT_READERS = {**AGENCY_STAFF, "finance": ALL, "admin": ALL}
MONEY = {"finance": ALL, "admin": ALL}
OWNER_OR_DESK = {"citizen": OWN, "officer": DESK, "leader": DESK}
AGENCY_OR_RECEIVING_DESK = {"officer": RECEIVING, "leader": RECEIVING}

RULES: dict[str, Rule] = {
    # --- public: the contract, the catalogue, tracking, the dashboard page, provider callbacks
    "contract.read": _public("GET", "/openapi.json"),
    "catalogue.search": _public("GET", "/procedures"),
    "catalogue.read": _public("GET", "/procedures/{procedure_code}"),
    "catalogue.agencies": _public("GET", "/agencies"),                  # changes: `motcua agencies apply` (admin)
    "catalogue.agency": _public("GET", "/agencies/{agency_id}"),
    "dossier.track": _public("GET", "/track/{code}"),                  # code + phone digits, rate-limited
    "file.public_link": _public("GET", "/files/{token}"),              # the national portal fetches files; the token is the key
    "dashboard.page": _public("GET", "/dashboard"),                     # the page; its data needs a token
    "dashboard.script": _public("GET", "/dashboard/chart.umd.min.js"),
    "dashboard.signin_config": _public("GET", "/dashboard/config"),       # where to sign in: no secret
    "dashboard.signin_script": _public("GET", "/dashboard/signin.js"),
    "dashboard.local_signin_page": _public("GET", "/dashboard/sign-in"),  # local stage only (404 elsewhere)
    "dashboard.local_signin": Rule(("POST", "/dashboard/sign-in"), WRITE, {}, None, public=True),  # local only
    "payment.ipn": _public("GET", "/payments/providers/{provider}/ipn"),  # the provider's signature instead of a token
    "payment.ipn_post": _public("POST", "/payments/providers/{provider}/ipn"),  # PayGov POSTs its confirmation
    "payment.return": _public("GET", "/payments/providers/{provider}/return"),
    "payment.vnpay_ipn": _public("GET", "/payments/vnpay/ipn"),           # registered with VNPay: kept
    "payment.vnpay_return": _public("GET", "/payments/vnpay/return"),
    # --- intake
    "upload.create": Rule(("POST", "/uploads"), WRITE,
                          {"citizen": ALL, "officer": ALL, "leader": ALL, "integration": ALL}),
    "dossier.submit": Rule(("POST", "/dossiers"), WRITE, {"citizen": ALL}),
    "dossier.desk_submit": Rule(("POST", "/desk/dossiers"), WRITE, {"officer": ALL}),  # any agency (Decree 118/2025)
    "dossier.list": Rule(("GET", "/dossiers"), READ, {"citizen": OWN, **AGENCY_STAFF, "admin": ALL}),
    "dossier.due_list": Rule(None, READ, AGENCY_STAFF),                 # GET /dossiers?due=soon|overdue
    "dossier.read": Rule(("GET", "/dossiers/{code}"), READ, DOSSIER_READERS, "dossier"),
    "dossier.deadline": Rule(("GET", "/dossiers/{code}/deadline"), READ, DOSSIER_READERS, "dossier"),
    "dossier.history": Rule(("GET", "/dossiers/{code}/history"), READ,
                            {"citizen": OWN, **AGENCY_STAFF, "admin": ALL}, "dossier"),
    "dossier.form": Rule(("GET", "/dossiers/{code}/forms/{form}"), READ, {"citizen": OWN, **AGENCY_STAFF, "admin": ALL},
                         "dossier"),   # the Circular 03/2025 papers (docs/forms.md)
    "attachment.read": Rule(("GET", "/dossiers/{code}/attachments/{upload_id}"), READ, DOSSIER_READERS, "dossier"),
    "dossier.accept": Rule(("POST", "/dossiers/{code}/accept"), WRITE, {"officer": RECEIVING}, "dossier"),
    "dossier.refuse": Rule(("POST", "/dossiers/{code}/refuse"), WRITE, {"officer": RECEIVING}, "dossier"),
    # --- processing: /actions lets through the union of its body actions' roles; the body's
    # action is then checked as dossier.<action> on the loaded dossier.
    "dossier.act": Rule(("POST", "/dossiers/{code}/actions"), WRITE, {"citizen": OWN, **AGENCY_STAFF}, "dossier"),
    "dossier.forward": Rule(("POST", "/dossiers/{code}/forward"), WRITE, AGENCY_STAFF, "dossier"),
    "dossier.supplement": Rule(("POST", "/dossiers/{code}/supplements"), WRITE, OWNER_OR_DESK, "dossier"),
    "dossier.rate": Rule(("POST", "/dossiers/{code}/rating"), WRITE, OWNER_OR_DESK, "dossier"),   # at_desk
    "dossier.request_supplement": Rule(None, WRITE, AGENCY_STAFF, "dossier"),
    "dossier.extend": Rule(None, WRITE, AGENCY_STAFF, "dossier"),
    "dossier.stop": Rule(None, WRITE, AGENCY_STAFF, "dossier"),
    "dossier.withdraw": Rule(None, WRITE, OWNER_OR_DESK, "dossier"),
    "dossier.issue_result": Rule(None, WRITE, AGENCY_STAFF, "dossier"),
    "dossier.return_result": Rule(None, WRITE, AGENCY_OR_RECEIVING_DESK, "dossier"),
    # merger day: only the province's administration moves dossiers, through `motcua agencies apply`
    "dossier.reassign": Rule(None, WRITE, {"admin": ALL}, "dossier"),
    "integration.report": Rule(("POST", "/integrations/{system}/events"), WRITE, {"integration": PROCEDURES}, "dossier"),
    # --- corrections: officers of the agency file them; the province's administration decides
    "correction.request": Rule(("POST", "/dossiers/{code}/corrections"), WRITE, {"officer": AGENCY}, "dossier"),
    "correction.approve": Rule(("POST", "/dossiers/{code}/corrections/{correction_id}/approve"), WRITE,
                               {"admin": ALL}, "dossier"),
    "correction.reject": Rule(("POST", "/dossiers/{code}/corrections/{correction_id}/reject"), WRITE,
                              {"admin": ALL}, "dossier"),
    # --- payments
    # citizens pay online; officers record fees taken at the desk (the competent agency's, or the
    # desk that received the dossier: Decree 118/2025)
    "payment.create": Rule(("POST", "/dossiers/{code}/payments"), WRITE, {"citizen": OWN, "officer": RECEIVING},
                           "dossier"),
    "payment.read": Rule(("GET", "/payments/{payment_id}"), READ, PAYMENT_READERS, "payment"),
    "payment.receipt": Rule(("GET", "/payments/{payment_id}/receipt"), READ, PAYMENT_READERS, "payment"),
    "payment.refund": Rule(("POST", "/payments/{payment_id}/refunds"), WRITE, MONEY, "payment"),
    "finance.refunds": Rule(("GET", "/finance/refunds/pending"), READ, MONEY),
    "finance.reconciliation": Rule(("GET", "/finance/reconciliation"), READ, MONEY),
    # --- reports: agency staff see their agency; finance and admins any or all agencies
    "report.read": Rule(("GET", "/reports/dossiers"), READ, REPORT_READERS),
    "report.items": Rule(("GET", "/reports/dossiers/items"), READ, REPORT_READERS),
    "report.payments": Rule(("GET", "/reports/payments"), READ, REPORT_READERS),
    "report.register": Rule(("GET", "/reports/register"), READ, REPORT_READERS),   # sổ theo dõi hồ sơ
    "report.satisfaction": Rule(("GET", "/reports/satisfaction"), READ, REPORT_READERS),
    # --- the 766 index: as the reports (agency staff their agency; finance and admins the province)
    "index.read": Rule(("GET", "/reports/indicators"), READ, REPORT_READERS),
    "index.items": Rule(("GET", "/reports/indicators/items"), READ, REPORT_READERS),
    "index.at_risk": Rule(("GET", "/reports/indicators/at-risk"), READ, REPORT_READERS),
    # --- citizens' feedback (phản ánh, kiến nghị): citizens their own; officers record calls and,
    # with leaders, handle their agency's; admins all; answered ones are public
    "feedback.submit": Rule(("POST", "/feedback"), WRITE, {"citizen": OWN, "officer": AGENCY}),
    "feedback.list": Rule(("GET", "/feedback"), READ, {**AGENCY_STAFF, "admin": ALL}),
    "feedback.published": _public("GET", "/feedback/published"),
    "feedback.read": Rule(("GET", "/feedback/{feedback_id}"), READ, {"citizen": OWN, **AGENCY_STAFF, "admin": ALL}),
    "feedback.answer": Rule(("POST", "/feedback/{feedback_id}/answer"), WRITE, AGENCY_STAFF),
    "feedback.refuse": Rule(("POST", "/feedback/{feedback_id}/refuse"), WRITE, AGENCY_STAFF),
    "feedback.request_supplement": Rule(("POST", "/feedback/{feedback_id}/supplement-request"), WRITE, AGENCY_STAFF),
    "feedback.supply": Rule(("POST", "/feedback/{feedback_id}/supplement"), WRITE, {"citizen": OWN, **AGENCY_STAFF}),
    "feedback.react": Rule(("POST", "/feedback/{feedback_id}/reaction"), WRITE, CITIZEN_OWN),
    # --- the audit log: read-only, provincial administration only
    "audit.read": Rule(("GET", "/audit"), READ, {"admin": ALL}),
}

BY_ROUTE: dict[tuple[str, str], str] = {rule.route: name for name, rule in RULES.items() if rule.route}


class UnknownRoute(LookupError):
    """A route was registered without an entry in RULES: add one (import-time error)."""


def action_for(method: str, path: str) -> str:
    try:
        return BY_ROUTE[(method.upper(), path)]
    except KeyError:
        raise UnknownRoute(f"{method} {path} has no action in chalicelib/trust/rules/permissions.py RULES; "
                           "add one (role x scope), or mark it public") from None


def is_public(action: str) -> bool:
    return RULES[action].public


def scope_of(identity: Identity, action: str) -> str:
    """The caller's scope for an action, or Forbidden if the role may not do it."""
    scope = RULES[action].grants.get(identity.role)
    if scope is None:
        raise Forbidden()
    return scope


def allow(identity: Identity, action: str) -> Identity:
    scope_of(identity, action)
    return identity


# --- resource scopes: each answers None (in scope) or (code, message) of the Forbidden -------

Denial = tuple[str, str] | None
NOT_YOURS = ("agency_out_of_scope", "Hồ sơ thuộc thẩm quyền của cơ quan khác.")
HANDED_OVER = ("agency_out_of_scope", "Hồ sơ đã được chuyển sang cơ quan khác xử lý.")
OWNER_ONLY = ("owner_only", "Hồ sơ nộp trực tuyến: chỉ công dân chủ hồ sơ được thực hiện thao tác này.")
HIDDEN = ("hidden", "")


def _own(identity: Identity, resource: Mapping[str, Any], kind: str) -> Denial:
    return None if resource.get("owner_sub") == identity.sub else HIDDEN


def involved_agencies(resource: Mapping[str, Any]) -> list[str]:
    involved = list(resource.get("agencies") or [resource["agency_id"]])
    return [*involved, receiving_agency(resource)]


def receiving_agency(resource: Mapping[str, Any]) -> str:
    """The desk that took the dossier (Decree 118/2025); older dossiers: the competent agency."""
    return str(resource.get("receiving_agency_id") or resource["agency_id"])


def current_agencies(resource: Mapping[str, Any]) -> tuple[str, ...]:
    return (resource["agency_id"], resource.get("holder_agency_id") or resource["agency_id"])


def _agency(identity: Identity, resource: Mapping[str, Any], kind: str) -> Denial:
    if kind == READ:
        involved = involved_agencies(resource)
        if identity.agency_id in involved or any(a in identity.predecessors for a in involved):
            return None
        return HIDDEN
    if identity.agency_id in current_agencies(resource):
        return None
    return HANDED_OVER if identity.agency_id in involved_agencies(resource) else NOT_YOURS


def _receiving(identity: Identity, resource: Mapping[str, Any], kind: str) -> Denial:
    if identity.agency_id == receiving_agency(resource):
        return None
    return _agency(identity, resource, kind)


def _desk(identity: Identity, resource: Mapping[str, Any], kind: str) -> Denial:
    if resource.get("channel", "online") == "online":
        return OWNER_ONLY
    return None if identity.agency_id in (resource["agency_id"], receiving_agency(resource)) else NOT_YOURS


def integration_procedures(identity: Identity) -> tuple[str, ...]:
    """The procedures of the connected system this integration client is (by token subject)."""
    system = system_of_client(identity.sub)
    return system.procedures if system else ()


def _procedures(identity: Identity, resource: Mapping[str, Any], kind: str) -> Denial:
    return None if resource.get("procedure_code") in integration_procedures(identity) else HIDDEN


def _all(identity: Identity, resource: Mapping[str, Any], kind: str) -> Denial:
    return None


SCOPE_CHECKS: dict[str, Callable[[Identity, Mapping[str, Any], str], Denial]] = {
    OWN: _own, AGENCY: _agency, RECEIVING: _receiving, DESK: _desk, PROCEDURES: _procedures, ALL: _all,
}
NOT_FOUND = {
    "dossier": ("dossier_not_found", "Không tìm thấy hồ sơ."),
    "payment": ("payment_not_found", "Không tìm thấy giao dịch thanh toán."),
}


def not_found(action: str) -> NotFound:
    code, message = NOT_FOUND[RULES[action].resource or "dossier"]
    return NotFound(message, code=code)


def check[R: Mapping[str, Any]](identity: Identity, action: str, resource: R | None) -> R:
    """The resource, if this caller may perform ``action`` on it. Absent or hidden: NotFound;
    an agency role out of its reach on a write: Forbidden with the reason."""
    rule = RULES[action]
    if resource is None:
        raise not_found(action)
    denial = SCOPE_CHECKS[scope_of(identity, action)](identity, resource, rule.kind)
    if denial is None:
        return resource
    if denial is HIDDEN or rule.kind == READ:
        raise not_found(action)
    raise Forbidden(denial[1], code=denial[0])
