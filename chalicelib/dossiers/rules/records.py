"""The dossier and the records it holds, written down once.

Pure: the types, and ``from_json``, the one way back from a stored dossier's JSON (every
store that reads dossier items uses it). A dossier is a JSON object (the ``body`` of its DynamoDB item, mapped in
chalicelib.dossiers.store.dossiers), so it is a TypedDict rather than a class: the rules
change it in place and the store writes it back as it is. Every key is declared here, once,
with what may be done with it:

* ``API``: shown in the full view (GET /dossiers/{code}, chalicelib.dossiers.rules.submission);
  a key without it (the owner's subject, the uploaders, the corrections…) never leaves.
* ``AUDIT``: its value is copied into an audit record's before/after
  (chalicelib.trust.rules.audit): scalars about the procedure, never about the person.
* ``AUDIT_MEMBERS``: a record whose changed scalar members are named and copied one level
  deep (``step.index``): the current step and the payment ledger hold no personal data.
* ``HISTORY``: a list that grows as the dossier is worked on; the store keeps each entry as
  an item of its own next to the dossier item (chalicelib.runtime.tables), so the dossier
  item does not grow with its history. ``pauses`` and ``uploaders`` stay in the dossier item:
  every deadline and file access needs them, and they are bounded by the supplement rounds
  (``MOTCUA_MAX_SUPPLEMENT_ROUNDS``) and files per round.

``DossierCore`` holds the keys every dossier has had since the first one; the keys of
``Dossier`` beyond it came later, so a dossier stored before them may lack them and readers
use ``.get``. Times are ISO 8601 with +07:00; money is integer VND.
"""
import json
from typing import Annotated, Any, NotRequired, TypedDict, get_type_hints

from chalicelib.payments.rules.records import PaymentLedger

API, AUDIT, AUDIT_MEMBERS, HISTORY = "api", "audit", "audit_members", "history"


class Applicant(TypedDict, total=False):
    """Who submitted (chalicelib.dossiers.rules.submission.validate_applicant). ``type`` is
    citizen | business | agency | organization; a dossier stored before it is a citizen's."""
    type: str
    full_name: str
    id_number: str
    phone: str
    email: str
    address: str
    tax_code: str                   # business: 10 digits, or 10-3 for a branch
    organization_name: str
    legal_representative: str
    vneid_verified: bool   # from the identity token's claim, never the body (766 index, 4.5)


class _FileCore(TypedDict):
    upload_id: str
    name: str


class FileRef(_FileCore, total=False):
    """An uploaded file: an attachment, a supplied document or a result document. The optional
    marks are what the national index (766, 4.2–4.4) counts: the file was digitised from paper,
    re-used from an earlier result (its reference), or taken from the citizen's national data
    store (DuocSoHoa, DuocTaiSuDung, DuocLayTuKhoDMQG)."""
    digitised: bool
    reused_from: str
    from_citizen_store: bool


class FeeLine(TypedDict):
    """A fee copied from the procedure when the dossier was submitted."""
    name: str
    amount: int


class PauseEntry(TypedDict, total=False):
    """A stop of the clock while the citizen supplies documents (``end`` None: still paused)."""
    start: str
    end: str | None
    reason: str
    due_at_before: str | None
    due_at_after: str | None


class DecisionEntry(TypedDict, total=False):
    """One line of the decision log: every transition, with what the log keeps of it."""
    action: str
    at: str
    by: str
    effective_at: str
    due_at: str | None
    reason: str
    to_step: int
    assignee: str
    method: str
    decision: str
    backdated: bool
    new_due_at: str
    source_event_id: str
    reassigned_to: str      # merger day: the successor agency (chalicelib/catalogue/rules/merger.py)


class StepTemplate(TypedDict):
    """A step of the internal process, copied from the procedure (its agency filled in)."""
    name: str
    role: str
    unit: str
    days: int
    agency_id: str | None


class CurrentStep(StepTemplate):
    """The step the dossier is in: the template, who holds it and until when."""
    index: int
    assignee: str | None
    started_at: str
    entered_by: str
    note: str | None
    due_at: str | None


class HeldStep(TypedDict):
    """A finished step: who held it and for how long."""
    index: int
    name: str
    unit: str
    agency_id: str | None
    assignee: str | None
    entered_by: str | None
    started_at: str
    ended_at: str
    due_at: str | None
    working_days: int
    seconds: int
    timeliness: str | None


class SupplementRequest(TypedDict):
    """Documents asked of the citizen and, once supplied, what they sent."""
    requested_at: str
    requested_by: str
    reason: str
    documents: list[str]
    supplied_at: str | None
    supplied_by: str | None
    attachments: list[FileRef]


class Extension(TypedDict):
    """An apology letter and the working days it added to the deadline."""
    at: str
    by: str
    reason: str
    old_due_at: str | None
    new_due_at: str | None
    added_working_days: int
    new_due_date: NotRequired[str]  # the day asked for (YYYY-MM-DD): the apology's new appointment
    working_days_before_due: NotRequired[int]   # how early it was made (at least 1: Decree 118/2025)


class Result(TypedDict):
    """The agency's result (đã xử lý xong)."""
    decision: str
    documents: list[FileRef]
    issued_by: str
    recorded_at: str
    effective_at: str
    backdated: bool


class Rating(TypedDict):
    """The citizen's rating on the national index's 9 criteria."""
    criteria: dict[str, int]
    overall: int
    comment: str | None
    rated_at: str
    at_desk: NotRequired[bool]      # recorded by the receiving desk for a walk-in citizen
    recorded_by: NotRequired[str]


class Correction(TypedDict, total=False):
    """An audited correction of ``finished_at`` or ``returned_at`` (chalicelib.dossiers.rules.corrections)."""
    id: str
    field: str
    original: str
    value: str
    reason: str
    evidence_upload_id: str
    state: str
    requested_by: str
    requested_at: str
    decided_by: str
    decided_at: str
    note: str


class DossierCore(TypedDict):
    """The keys every dossier has."""
    code: Annotated[str, API]
    status: Annotated[str, API, AUDIT]
    version: Annotated[int, API, AUDIT]
    channel: Annotated[str, API, AUDIT]                   # online | direct | postal
    owner_sub: str                                        # the citizen, or desk:{officer}
    procedure_code: Annotated[str, API, AUDIT]
    procedure_name: Annotated[str, API]
    field: Annotated[str, API]
    field_code: str
    agency_id: Annotated[str, API, AUDIT]                 # the competent agency
    processing_days: Annotated[int, API]
    supplement_rule: Annotated[str, API]                  # resume | restart
    online_level: str
    applicant: Annotated[Applicant, API]
    summary: Annotated[str, API]
    form: Annotated[dict[str, Any], API]
    attachments: Annotated[list[FileRef], API]
    fees: Annotated[list[FeeLine], API]
    amount_due: Annotated[int, API, AUDIT]
    submitted_at: Annotated[str, API, AUDIT]
    accepted_at: Annotated[str | None, API, AUDIT]
    due_at: Annotated[str | None, API, AUDIT]
    pauses: Annotated[list[PauseEntry], API]
    decisions: Annotated[list[DecisionEntry], API, HISTORY]


class Dossier(DossierCore, total=False):
    """A dossier (hồ sơ): the core, and what processing, payments and privacy added later."""
    pay_before_accept: Annotated[bool, AUDIT]
    payment_providers: list[str]                          # online providers the procedure allows (empty: the stage's)
    notify: Annotated[list[str], API]                     # sms | zalo | email
    consent: Annotated[bool | None, API, AUDIT]           # desk intake: data-processing consent
    received_by: Annotated[str | None, API, AUDIT]        # desk intake: the receiving officer
    receiving_agency_id: Annotated[str, API, AUDIT]       # the desk that took it (Decree 118/2025)
    result_delivery: Annotated[str, API, AUDIT]           # desk | post: how the result goes back
    steps: Annotated[list[StepTemplate], API]
    step: Annotated[CurrentStep | None, API, AUDIT_MEMBERS]
    step_history: Annotated[list[HeldStep], API, HISTORY]
    holder_agency_id: Annotated[str, API, AUDIT]          # who holds it now (liên thông)
    agencies: list[str]                                   # every agency that held it
    extension_days: Annotated[int, AUDIT]
    extensions: Annotated[list[Extension], API, HISTORY]
    supplements: Annotated[list[SupplementRequest], API, HISTORY]
    result: Annotated[Result | None, API]
    finished_at: Annotated[str | None, API, AUDIT]
    returned_at: Annotated[str | None, API, AUDIT]
    return_method: Annotated[str | None, API, AUDIT]
    rating: Annotated[Rating | None, API]
    attachments_purged_at: Annotated[str, API]
    attachments_purged_count: int
    uploaders: dict[str, str]                             # upload id -> whose upload space holds it
    corrections: Annotated[list[Correction], HISTORY]
    payment: Annotated[PaymentLedger, AUDIT_MEMBERS]
    result_is_document: Annotated[bool, API]              # copied from the procedure (766 index)
    imported_from: str                                    # "v1": brought over by `motcua legacy import-dossiers`
    history: dict[str, int]     # only in a dossier item read alone from an index: entries kept apart per list


def _marked(marker: str) -> frozenset[str]:
    return frozenset(key for key, hint in _HINTS.items() if marker in getattr(hint, "__metadata__", ()))


_HINTS = get_type_hints(Dossier, include_extras=True)
DOSSIER_KEYS: tuple[str, ...] = tuple(_HINTS)
REQUIRED_KEYS: frozenset[str] = Dossier.__required_keys__
API_KEYS: tuple[str, ...] = tuple(key for key in DOSSIER_KEYS if key in _marked(API))
AUDIT_VALUE_KEYS: frozenset[str] = _marked(AUDIT)
AUDIT_MEMBER_KEYS: frozenset[str] = _marked(AUDIT_MEMBERS)
HISTORY_KEYS: tuple[str, ...] = tuple(key for key in DOSSIER_KEYS if key in _marked(HISTORY))


def from_json(body: str) -> Dossier:
    """The dossier a stored JSON body holds (the body of its item is the whole dossier; the
    item's other attributes are derived from it)."""
    dossier: Dossier = json.loads(body)
    return dossier
