"""Notification templates: one per event type, Vietnamese with diacritics, known placeholders."""
from __future__ import annotations

import re
import unicodedata

from typing import Any

from chalicelib.dossiers.rules import transitions
from chalicelib.kernel.events import new_event
from chalicelib.sync.rules.notifications import e164, local_time, render, templates
from tests.unit.test_processing import accepted, at, run

def event(dossier: dict[str, Any], event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return new_event(event_type, dossier_code=dossier["code"], version=dossier["version"],
                     occurred_at="2026-11-20T10:00:00+07:00", agency_id=dossier["agency_id"],
                     procedure_code=dossier["procedure_code"], status=dossier["status"], data=data)


KNOWN = {"code", "procedure", "agency", "at", "due", "reason", "documents", "step", "old_due", "new_due",
         "method", "decision"}


def test_every_event_type_has_a_vietnamese_template_with_known_placeholders():
    assert set(templates()) == set(transitions.EVENT_TYPES.values())
    for name, template in templates().items():
        assert any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", template.text)), name
        assert set(re.findall(r"{(\w+)}", template.subject + template.text)) <= KNOWN, name
        assert "{code}" in template.text and template.zalo_template.isdigit()


def test_a_supplement_request_lists_the_documents_and_the_reason():
    d = accepted()
    data = run(d, "request_supplement", at(4, 15), "supplement_requested", reason="Thiếu bản vẽ",
               documents=["Bản vẽ mặt bằng", "Giấy tờ đất"])
    message = render(event(d, "DossierSupplementRequested", data), d, "UBND phường")
    assert "Bản vẽ mặt bằng, Giấy tờ đất" in message.text and "Thiếu bản vẽ" in message.text
    assert message.zalo_data["code"] == d["code"] and set(message.zalo_data) == {"code", "documents", "reason"}


def test_times_are_local_and_phone_numbers_become_e164():
    assert local_time("2026-11-20T10:00:00Z") == "20/11/2026 17:00"
    assert e164("0912345678") == "+84912345678" and e164("+84912345678") == "+84912345678"


def test_zns_errors_that_no_retry_changes_are_told_from_the_others():
    from chalicelib.sync.rules.zns import permanent
    assert all(permanent(code) for code in (-108, -109, -111, -112, -118, -119))
    assert not any(permanent(code) for code in (0, -100, -124, None, "-118"))


def test_a_parameter_is_cut_to_its_limit_with_an_ellipsis():
    from chalicelib.sync.rules.notifications import fit
    assert fit("Hồ sơ 123", 30) == "Hồ sơ 123"
    assert fit("a" * 31, 30) == "a" * 29 + "…" and len(fit("b" * 500, 100)) == 100
