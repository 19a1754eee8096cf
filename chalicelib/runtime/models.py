"""pynamodb models. Only the repository modules use them; the domain never does.

The dossiers table is a single table per Open Zaak's "cases" side: the dossier item, the
entries of its history, its outbox events (which double as the dossier's event history), idempotency records for
submissions and the per-agency daily sequence counters. The catalogue has its own table.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model
from typing import cast

from chalicelib.runtime import cold_start, resources
from chalicelib.runtime.aws import botocore_session
from chalicelib.runtime.settings import settings

cold_start.share_session_with_pynamodb(botocore_session)


def table_meta(table: resources.Table) -> MetaProtocol:
    """The pynamodb Meta of a table of this stage (for the models here and chalicelib.reports.store's)."""
    cfg = settings()
    attrs = {"table_name": cfg.name(table.name), "region": cfg.region}
    if cfg.aws_endpoint_url:
        attrs["host"] = cfg.aws_endpoint_url
    return cast("MetaProtocol", type("Meta", (), attrs))


def _gsi(index: resources.Index) -> GlobalSecondaryIndex:
    meta = type("Meta", (), {"index_name": index.name, "projection": AllProjection()})
    attrs = {"Meta": meta, index.pk: UnicodeAttribute(hash_key=True)}
    if index.sk:
        attrs[index.sk] = UnicodeAttribute(range_key=True)
    return type(f"Index_{index.name}", (GlobalSecondaryIndex,), attrs)()


_DOSSIER_INDEXES = {index.name: index for index in resources.DOSSIERS.indexes}


class DossierItem(Model):
    """The dossier itself: the whole Dossier (chalicelib.dossiers.rules.records) is JSON in
    ``body``; the other attributes are derived from it for keys and indexes
    (chalicelib.dossiers.store.dossiers.to_item; back by records.from_json)."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    code = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    agency_id = UnicodeAttribute()
    procedure_code = UnicodeAttribute()
    owner_sub = UnicodeAttribute()
    list_sk = UnicodeAttribute()
    gsi_agency = UnicodeAttribute()
    gsi_agency_status = UnicodeAttribute()
    gsi_owner = UnicodeAttribute()
    gsi_owner_status = UnicodeAttribute()
    gsi_open = UnicodeAttribute(null=True)    # holding agency, only while the clock runs
    gsi_due = UnicodeAttribute(null=True)     # earliest due date (ISO, +07:00)
    gsi_closed = UnicodeAttribute(null=True)      # agency, only while closed and files not purged
    gsi_closed_at = UnicodeAttribute(null=True)   # when it closed (ISO, +07:00)
    gsi_desk = UnicodeAttribute(null=True)        # the receiving desk, only for desk intake
    body = UnicodeAttribute()

    by_agency = _gsi(_DOSSIER_INDEXES["by_agency"])
    by_agency_status = _gsi(_DOSSIER_INDEXES["by_agency_status"])
    by_owner = _gsi(_DOSSIER_INDEXES["by_owner"])
    by_owner_status = _gsi(_DOSSIER_INDEXES["by_owner_status"])
    open_by_agency_due = _gsi(_DOSSIER_INDEXES["open_by_agency_due"])
    closed_by_agency = _gsi(_DOSSIER_INDEXES["closed_by_agency"])
    received_by_desk = _gsi(_DOSSIER_INDEXES["received_by_desk"])


class HistoryEntryItem(Model):
    """One entry of a dossier's growing history (a decision, a held step, a supplement round,
    an extension, a correction), kept apart from the dossier item so the item never grows
    with its history (chalicelib/runtime/tables.py names and reads them)."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)   # DOSSIER#{list}#{index:05d}
    body = UnicodeAttribute()


class OutboxItem(Model):
    """An event waiting for (and after) publication; the stream publishes its INSERT."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    version = NumberAttribute()
    event = UnicodeAttribute()


class IdempotencyItem(Model):
    """The stored response of a submission, keyed by the caller and its Idempotency-Key."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    request_hash = UnicodeAttribute()
    response = UnicodeAttribute()
    ttl = TTLAttribute()


class SequenceItem(Model):
    """Last dossier number issued by one agency on one local day."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    value = NumberAttribute()


class CatalogueItem(Model):
    """A procedure or an agency, as JSON in ``body``; ``kind`` tells which."""
    Meta = table_meta(resources.CATALOGUE)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    body = UnicodeAttribute()


class ProjectionItem(Model):
    """The dossier version last projected into the counters, and what it contributed."""
    Meta = table_meta(resources.REPORTS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = NumberAttribute()
    contributions = UnicodeAttribute()
    agency_id = UnicodeAttribute(null=True)   # counted under (merger day moves a dossier's counts)


# --- payments (issue 3) ------------------------------------------------------------------

_PAYMENT_INDEXES = {index.name: index for index in resources.PAYMENTS.indexes}


class PaymentItem(Model):
    """A payment (chalicelib.payments.rules.records.Payment), as JSON in ``body``
    (chalicelib.payments.store.payments.to_item / from_item). The index attributes are set only
    while they apply: ``gsi_pending`` only while pending (a sparse index the reconciliation sweep reads)."""
    Meta = table_meta(resources.PAYMENTS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    version = NumberAttribute()
    dossier_code = UnicodeAttribute()
    gsi_pending = UnicodeAttribute(null=True)
    gsi_pending_sk = UnicodeAttribute(null=True)
    gsi_day = UnicodeAttribute()
    gsi_day_sk = UnicodeAttribute()
    body = UnicodeAttribute()

    pending = _gsi(_PAYMENT_INDEXES["pending"])
    by_day = _gsi(_PAYMENT_INDEXES["by_day"])


class RefundDueItem(Model):
    """A dossier that holds money it must give back; listed while ``gsi_refund_due`` is set.
    ``dossier_version`` orders writers: an older view of the dossier never overwrites a newer."""
    Meta = table_meta(resources.PAYMENTS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    dossier_version = NumberAttribute()
    gsi_refund_due = UnicodeAttribute(null=True)
    gsi_refund_due_sk = UnicodeAttribute(null=True)
    body = UnicodeAttribute()

    due = _gsi(_PAYMENT_INDEXES["refund_due"])


class SyncLedgerItem(Model):
    """Per dossier: the last version delivered to the national portal and how delivery goes."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = NumberAttribute()               # last dossier version delivered (0: none yet)
    state = UnicodeAttribute()                # pending (never synced) | synced | retrying | dead | rejected
    attempts = NumberAttribute()              # failed deliveries since the last success
    last_error = UnicodeAttribute(null=True)
    synced_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    # the portal holds the dossier (a create was accepted): what follows goes as an update.
    # Unset on ledgers written before it existed: read as ``version > 0``.
    on_portal = BooleanAttribute(null=True)
    # state rejected: the version the portal refused (``version`` stays the last one it took)
    rejected_version = NumberAttribute(null=True)


class NotificationItem(Model):
    """One notification of one event through one channel: claimed before sending, so it is
    sent at most once (``sending`` left by a crash is never resent)."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute()                # sending | sent | undeliverable
    provider_id = UnicodeAttribute(null=True)
    at = UnicodeAttribute()
    ttl = TTLAttribute()


# --- personal data (issue 6) --------------------------------------------------------------

class ApplicantItem(Model):
    """``APPLICANT#{hmac of id number}`` / ``DOSSIER#{code}``: written with the dossier, so
    everything held about one citizen is one Query away (privacy export, legacy matching)."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    code = UnicodeAttribute()


class LegacyItem(Model):
    """A citizen account imported from a legacy system (``sk`` ACCOUNT) and its old dossiers
    (``sk`` DOSSIER#{code}), under ``LEGACY#{hmac of id number}``. ``linked_sub`` is set on
    the account at the citizen's first login, once."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute()
    linked_sub = UnicodeAttribute(null=True)
# --- audit log (issue 6) -----------------------------------------------------------------

class AuditItem(Model):
    """One audit record (chalicelib.trust.rules.audit), JSON in ``body``. Written once, never updated:
    every write is conditioned on the item not existing (chalicelib.trust.store.audit)."""
    Meta = table_meta(resources.AUDIT)
    pk = UnicodeAttribute(hash_key=True)      # DOSSIER#{code} | SUBJECT#{digest}
    sk = UnicodeAttribute(range_key=True)     # {at}#{record id}
    actor_sub = UnicodeAttribute()
    kind = UnicodeAttribute()                 # change | read
    body = UnicodeAttribute()
    expires_at = TTLAttribute()

    by_actor = _gsi(resources.AUDIT.indexes[0])


# --- public file links (the national portal fetches files through them) ----------------------

class FileLinkItem(Model):
    """A public file link: ``FILELINK#{token}`` / ``FILELINK`` holds what it serves, and
    ``DOSSIER#{code}`` / ``FILELINK#{upload_id}`` points at the file's current token, so a
    file gets the same link while it is valid (chalicelib.dossiers.store.file_links)."""
    Meta = table_meta(resources.DOSSIERS)
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    token = UnicodeAttribute()
    dossier_code = UnicodeAttribute()
    upload_id = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
