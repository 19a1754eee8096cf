"""Public tracking is rate-limited per client IP and per code, in our error shape, with
Retry-After; counters are conditional atomic writes that never count past the limit."""
from __future__ import annotations

import json
import threading
import time

from chalicelib.dossiers.use_cases import intake
from chalicelib.trust.store import rate_limits as rate_store
from chalicelib.kernel.errors import NotFound, RateLimited
from chalicelib.trust.rules.rate_limits import Limit
from motcua import metering
from tests.api.test_contract import check
from tests.api.test_intake import seed_procedure, submission, submit

SECRETS = ("Nguyễn Văn An", "051095001234", "0912345678", "an@example.com", "Lê Lợi")


def a_dossier(api, key="track-0001"):
    return submit(api, submission(seed_procedure(api)["procedure_code"]), api.token("citizen"), key=key).json["dossier_code"]


def track(api, code, digits="5678"):
    return api.call("GET", f"/track/{code}?phone_last4={digits}")


def assert_limited(response, window):
    assert response.status_code == 429
    check("/track/{code}", "get", response)
    error = response.json["error"]
    assert error["code"] == "too_many_requests" and error["fields"] == {}
    assert "thử lại" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) == error["retry_after"] <= window
    assert not any(secret in json.dumps(response.json, ensure_ascii=False) for secret in SECRETS)


def within_one_window(seconds=60, needed=10):
    """Wait for a fresh fixed window if the current one ends too soon for the test's calls."""
    left = seconds - time.time() % seconds
    if left < needed:
        time.sleep(left + 0.1)


def test_the_eleventh_lookup_in_a_minute_from_one_ip_is_429(api):
    code = a_dossier(api)
    within_one_window()
    for _ in range(10):
        assert track(api, code).status_code == 200
    assert_limited(track(api, code), 60)


def test_five_failed_lookups_lock_the_code_even_for_the_right_digits(api):
    code, other = a_dossier(api), a_dossier(api, key="track-0002")
    within_one_window(900)
    for digits in ("0000", "1111", "2222", "3333", "4444"):
        assert track(api, code, digits).status_code == 404
    assert_limited(track(api, code, "5678"), 900)
    assert track(api, other).status_code == 200          # per code: another dossier still answers


def test_unknown_codes_count_as_failures_too(api):
    within_one_window(900)
    for _ in range(5):
        assert track(api, "000.00.13.H50-261121-9999").status_code == 404
    assert track(api, "000.00.13.H50-261121-9999").status_code == 429


def test_a_code_unlocks_when_its_window_ends(api):
    code = a_dossier(api)
    start = 1_800_000_000 // 900 * 900
    for i in range(5):
        try:
            intake.track(code, "0000", f"10.0.0.{i}", now=lambda: start + 10)
        except NotFound:
            pass
    try:
        intake.track(code, "5678", "10.0.1.1", now=lambda: start + 899)
        raise AssertionError("expected 429")
    except RateLimited as limited:
        assert limited.retry_after == 1
    assert intake.track(code, "5678", "10.0.1.1", now=lambda: start + 900)["dossier_code"] == code


def test_concurrent_hits_never_count_past_the_limit(api):
    limit, results = Limit("test", 7, 60), []
    threads = [threading.Thread(target=lambda: results.append(rate_store.hit(limit, "203.0.113.9", 1_800_000_000)))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 7 and results.count(False) == 13


def test_a_lookup_costs_two_dynamodb_calls_and_a_miss_three(api):
    code = a_dossier(api)
    with metering.aws_calls() as found:
        assert track(api, code).status_code == 200
    assert dict(found) == {"dynamodb.UpdateItem": 1, "dynamodb.BatchGetItem": 1}
    with metering.aws_calls() as missed:
        assert track(api, code, "0000").status_code == 404
    assert dict(missed) == {"dynamodb.UpdateItem": 2, "dynamodb.BatchGetItem": 1}


def test_the_local_servers_access_log_never_holds_the_tracking_digits(api, capfd):
    """`make run --verbose` printed `GET /track/<code>?phone_last4=5770` for every lookup:
    the code with the digits that unlock it (issue 18). Its request line is now redacted."""
    import urllib.request

    from app import app
    from motcua.local import api_server

    code = a_dossier(api)
    server = api_server(app, 0, verbose=True)
    serving = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    try:
        port = server.server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/track/{code}?phone_last4=5678", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
    logged = capfd.readouterr().err
    assert f"/track/{code}?phone_last4=[REDACTED]" in logged
    assert "5678" not in logged
