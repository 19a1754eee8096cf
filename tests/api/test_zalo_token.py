"""The zalo-token schedule against moto's Secrets Manager and the Zalo simulator's OAuth
server over HTTP: it renews when due, writes the secret back, and senders then use it."""
from __future__ import annotations

import json

import pytest

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.sync.rules.notifications import Message
from chalicelib.sync.adapters.channels import ChannelError, send
from chalicelib.sync.adapters.zalo_token import EXPIRES_AT, RefreshFailed
from handlers.zalo_token import handler
from motcua.dispatcher import LambdaContext
from motcua.simulators.zalo import ZaloSimulator

ACCOUNT = {"app_id": "prod-app", "secret_key": "prod-secret-key", "refresh_token": "prod-refresh-1"}
MESSAGE = Message("DossierAccepted", "Hồ sơ đã được tiếp nhận", "Hồ sơ đã được tiếp nhận", "410002", {"code": "X"})


@pytest.fixture
def zalo(monkeypatch):
    with ZaloSimulator(0, access_token="none-yet", **ACCOUNT) as sim:
        monkeypatch.setenv("MOTCUA_ZALO_OAUTH_URL", sim.url)
        monkeypatch.setenv("MOTCUA_ZALO_URL", sim.url)
        monkeypatch.setenv("MOTCUA_ZALO_TOKEN", "an-environment-value-is-ignored")
        yield sim


def run() -> dict:
    return handler({"detail-type": "Scheduled Event"}, LambdaContext("zalo-token"))


def stored() -> dict:
    name = resources.secret_name("prod", "zalo")
    return json.loads(aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def test_a_due_token_is_renewed_written_back_and_used_by_the_zalo_sender(prod_secrets, zalo):
    prod_secrets("zalo", ACCOUNT)
    with pytest.raises(ChannelError):   # before the first renewal there is no token to send with
        send("zalo", "0912345678", MESSAGE, tracking_id="t-1", dossier_code="X")
    answer = run()
    value = stored()
    assert answer["renewed"] is True and zalo.refreshes == 1
    assert (value["access_token"], value["refresh_token"]) == (zalo.access_token, zalo.refresh_token)
    assert value["app_id"] == "prod-app" and value[EXPIRES_AT] == answer["expires_at"]
    assert send("zalo", "0912345678", MESSAGE, tracking_id="t-2", dossier_code="X")
    assert [m["tracking_id"] for m in zalo.state()["messages"]] == ["t-2"]


def test_a_token_far_from_expiry_is_left_alone(prod_secrets, zalo):
    prod_secrets("zalo", ACCOUNT)
    run()
    again = run()
    assert again["renewed"] is False and zalo.refreshes == 1


def test_a_spent_refresh_token_fails_the_run_and_leaves_the_secret_as_it_was(prod_secrets, zalo):
    prod_secrets("zalo", {**ACCOUNT, "refresh_token": "already-spent"})
    with pytest.raises(RefreshFailed):
        run()
    assert stored()["refresh_token"] == "already-spent" and zalo.refreshes == 0


def test_the_local_stage_sends_with_its_setting_and_renews_nothing(zalo, monkeypatch):
    monkeypatch.setenv("MOTCUA_ZALO_TOKEN", "none-yet")
    assert run()["renewed"] is False
    assert send("zalo", "0912345678", MESSAGE, tracking_id="t-3", dossier_code="X") and zalo.refreshes == 0
