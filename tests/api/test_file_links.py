"""Public file links: the national portal downloads a dossier's files with no user token,
through a stable, unguessable link that can be revoked and expires after its validity."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.store import file_links as link_store
from chalicelib.dossiers.use_cases import file_links
from chalicelib.runtime.settings import settings
from chalicelib.trust.store import audit as audit_store
from tests.api.test_attachments import submitted_with
from tests.api.test_contract import check

PDF = b"%PDF-1.7 giay phep"


def linked(api, aws_env, **kw):
    created, _, _ = submitted_with(api, aws_env, [("application/pdf", PDF)], sub="citizen-links")
    dossier = store.get_dossier(created.json["dossier_code"])
    return dossier, dossier["attachments"][0], file_links.link_for(dossier, dossier["attachments"][0], **kw)


def fetch(api, link):
    return api.call("GET", urlsplit(link).path)


def test_a_link_downloads_the_file_with_no_token_and_names_no_bucket(api, aws_env):
    dossier, _, link = linked(api, aws_env)
    assert link.startswith(f"{settings().public_url}/files/") and len(link.rsplit("/", 1)[1]) == 43
    response = fetch(api, link)
    assert response.status_code == 302, response.json
    check("/files/{token}", "get", response)
    assert response.headers["Location"] == response.json["url"] and response.headers["Cache-Control"] == "no-store"
    downloaded = requests.get(response.headers["Location"], timeout=5)    # moto answers presigned URLs in-process
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert "attachments" not in link and "uploads" not in link
    reads = audit_store.records_of_dossier(dossier["code"], limit=10, cursor=None).items
    assert [(r["action"], r["actor"]["sub"], r["detail"]["upload_id"]) for r in reads if r["kind"] == "read"] == [
        ("file_link.download", "public-link", dossier["attachments"][0]["upload_id"])]


def test_the_same_file_keeps_its_link_and_another_file_gets_another(api, aws_env):
    dossier, item, link = linked(api, aws_env)
    assert file_links.link_for(dossier, item) == link
    assert file_links.link_for(dossier, {"upload_id": "r" * 32, "name": "Giấy phép.pdf"}) != link


def test_a_revoked_link_answers_410_and_the_next_sync_gets_a_new_one(api, aws_env):
    dossier, item, link = linked(api, aws_env)
    assert file_links.revoke_dossier(dossier) == 1
    response = fetch(api, link)
    assert (response.status_code, response.json["error"]["code"]) == (410, "file_link_revoked")
    check("/files/{token}", "get", response)
    assert "thu hồi" in response.json["error"]["message"]
    fresh = file_links.link_for(dossier, item)
    assert fresh != link and fetch(api, fresh).status_code == 302


def test_a_link_past_its_validity_answers_410_expired(api, aws_env):
    long_ago = datetime.now(UTC) - timedelta(days=settings().file_link_ttl_days + 1)
    dossier, item, link = linked(api, aws_env, clock=lambda: long_ago)
    response = fetch(api, link)
    assert (response.status_code, response.json["error"]["code"]) == (410, "file_link_expired")
    assert file_links.link_for(dossier, item) != link


def test_a_link_is_valid_for_the_configured_days(api, aws_env, monkeypatch):
    monkeypatch.setenv("MOTCUA_FILE_LINK_TTL_DAYS", "30")
    settings.cache_clear()
    try:
        dossier, item, link = linked(api, aws_env)
        issued = datetime.now(UTC)
        assert fetch(api, link).status_code == 302
        later = file_links.link_for(dossier, item, clock=lambda: issued + timedelta(days=31))
        assert later != link                                         # the first one is no longer valid
    finally:
        monkeypatch.delenv("MOTCUA_FILE_LINK_TTL_DAYS")
        settings.cache_clear()


@pytest.mark.parametrize("token", ["A" * 43, "short", "A" * 42 + ".", "A" * 200])
def test_a_guessed_or_malformed_token_answers_404(api, aws_env, token):
    response = api.call("GET", f"/files/{token}")
    assert (response.status_code, response.json["error"]["code"]) == (404, "file_link_not_found")


def test_a_file_purged_with_its_dossier_answers_410(api, aws_env):
    dossier, _, link = linked(api, aws_env)
    dossier["attachments_purged_at"] = "2031-01-01T00:00:00+07:00"
    store.write_as_is(dossier)
    response = fetch(api, link)
    assert (response.status_code, response.json["error"]["code"]) == (410, "file_link_revoked")


def test_the_retention_purge_revokes_the_links_of_the_files_it_erases(api, aws_env, dispatcher):
    import time_machine

    from chalicelib.trust.use_cases import privacy
    from tests.api.test_privacy import closed_dossiers
    from chalicelib.kernel.working_days import TZ
    from tests.api.test_workflow import COMMUNE

    with time_machine.travel(datetime(2020, 3, 2, 9, 0, tzinfo=TZ), tick=True):
        code = closed_dossiers(api, aws_env, dispatcher, "old", names=("refused",))["refused"]
    dossier = store.get_dossier(code)
    link = file_links.link_for(dossier, dossier["attachments"][0])
    assert fetch(api, link).status_code == 302
    assert privacy.purge(agencies=[COMMUNE])["codes"] == [code]
    response = fetch(api, link)
    assert (response.status_code, response.json["error"]["code"]) == (410, "file_link_revoked")
    assert [link.revoked_at is not None for link in link_store.of_dossier(code)] == [True]
