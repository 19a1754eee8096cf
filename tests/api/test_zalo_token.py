"""The zalo-token schedule against moto's Secrets Manager and the Zalo simulator's OAuth
server over HTTP: it renews when due, writes the secret back, and senders then use it."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.kernel.working_days import TZ
from chalicelib.sync.adapters import zalo_token
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


def test_a_token_renewed_while_the_sender_held_the_old_one_is_read_again_at_once(prod_secrets, zalo):
    """Zalo's -124 (access token invalid) right after the schedule renewed the token: the
    sender's cached secret (up to 15 min) still held the old one, and every Zalo message in
    that window waited for a retry. The sender reads the secret again and sends once more,
    without renewing anything itself."""
    prod_secrets("zalo", ACCOUNT)
    run()
    assert send("zalo", "0912345678", MESSAGE, tracking_id="t-4", dossier_code="X")   # caches the token
    # the schedule, in another container, renews: Zalo drops the old token at once, and this
    # container's cache of the secret still holds it
    value = zalo_token.renewed(stored(), zalo_token.exchange(stored()), datetime.now(TZ))
    aws.client("secretsmanager").put_secret_value(SecretId=resources.secret_name("prod", "zalo"),
                                                  SecretString=json.dumps(value))
    assert send("zalo", "0912345678", MESSAGE, tracking_id="t-5", dossier_code="X")
    assert [m["tracking_id"] for m in zalo.state()["messages"]] == ["t-4", "t-5"] and zalo.refreshes == 2
