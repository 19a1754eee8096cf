"""Throttling: DynamoDB and EventBridge refuse ~20% of attempts (seeded). Every request either
succeeds through botocore's retries or answers 503 ``service_busy`` with Retry-After, never
a 500, and the tables hold no half-written change afterwards."""
from __future__ import annotations

import random

from chalicelib.runtime import resources
from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from chalicelib.kernel.errors import ServiceBusy
from chalicelib.edge.web import aws_throttled
from handlers import publisher
from motcua import faults
from motcua.dispatcher import StreamPump
from tests.api.reliability_kit import audit, scale, seed
from tests.api.test_contract import check
from tests.api.test_events import tap_events
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import HOUSE, officer

OPERATIONS = scale("MOTCUA_THROTTLE_OPS", 100)
RETRYABLE = {"service_busy", "temporarily_unavailable"}


def outcome(response) -> str:
    """The response's outcome; fails the test on a 5xx other than a retryable 503."""
    if response.status_code < 500:
        return str(response.status_code)
    assert response.status_code == 503, (response.status_code, response.body)
    assert response.json["error"]["code"] in RETRYABLE and response.json["error"]["retryable"] is True
    assert int(response.headers["Retry-After"]) > 0
    return "503"


class Workload:
    """Citizens submit, officers accept, forward or refuse, everyone reads, at random."""

    def __init__(self, api, rng: random.Random) -> None:
        self.api, self.rng = api, rng
        self.citizen = api.token("citizen", sub="citizen-throttled")
        self.officer = officer(api)
        self.keys: dict[str, str | None] = {}      # Idempotency-Key -> dossier code (None until a 201)
        self.outcomes: dict[str, int] = {}

    def codes(self) -> list[str]:
        return [code for code in self.keys.values() if code]

    def step(self, i: int) -> None:
        op = self.rng.choice(["submit", "submit", "retry", "read", "list", "accept", "forward", "refuse", "track"])
        codes = self.codes()
        if op in ("read", "accept", "forward", "refuse", "track") and not codes:
            op = "submit"
        code = self.rng.choice(codes) if codes else None
        if op in ("submit", "retry"):
            pending = [k for k, v in self.keys.items() if v is None]
            key = self.rng.choice(pending) if op == "retry" and pending else f"thr-{i:06d}"
            self.keys.setdefault(key, None)
            response = submit(self.api, submission(HOUSE), self.citizen, key=key)
            if response.status_code == 201:
                assert self.keys[key] in (None, response.json["dossier_code"])
                self.keys[key] = response.json["dossier_code"]
        elif op == "read":
            response = self.api.call("GET", f"/dossiers/{code}", token=self.citizen)
        elif op == "list":
            response = self.api.call("GET", "/dossiers", token=self.citizen)
        elif op == "track":
            response = self.api.call("GET", f"/track/{code}?phone_last4=5678")
        elif op == "accept":
            response = self.api.call("POST", f"/dossiers/{code}/accept", token=self.officer)
        elif op == "forward":
            response = self.api.call("POST", f"/dossiers/{code}/forward", token=self.officer, body={"to_step": 2})
        else:
            response = self.api.call("POST", f"/dossiers/{code}/refuse", token=self.officer,
                                     body={"reason": "Hồ sơ không thuộc thẩm quyền"})
        result = f"{op}:{outcome(response)}"
        self.outcomes[result] = self.outcomes.get(result, 0) + 1


def test_under_throttling_requests_succeed_or_answer_a_retryable_503_and_nothing_is_half_written(api, aws_env):
    value = seed("throttling")
    work = Workload(api, random.Random(value))
    with faults.throttle(0.2, value) as plan:
        for i in range(OPERATIONS):
            work.step(i)
    print(work.outcomes, f"throttled {plan.throttled} of {plan.attempts} attempts")
    assert plan.throttled > 0.1 * plan.attempts
    # Unthrottled: every submission the client gave up on succeeds when retried with its key.
    for key, code in list(work.keys.items()):
        response = submit(api, submission(HOUSE), work.citizen, key=key)
        assert response.status_code == 201 and code in (None, response.json["dossier_code"])
        work.keys[key] = response.json["dossier_code"]
    held = audit(aws_env)
    assert set(held["dossiers"]) == set(work.codes())              # one dossier per key, none extra
    assert len(set(work.codes())) == len(work.keys)


def test_a_throttled_publisher_still_puts_every_outbox_event_on_the_bus(api, aws_env, monkeypatch):
    """The consumers behind the bus are left out: throttled, they fail a record and SQS
    redelivers it, which the duplicate suite covers."""
    value = seed("throttled publisher")
    while random.Random(value).random() >= 0.2:   # only two PutEvents calls: make sure the
        value += 1                                # first is throttled, whatever the seed
    citizen = api.token("citizen", sub="citizen-throttled")
    for i in range(12):
        submit(api, submission(HOUSE), citizen, key=f"thr-pub-{i:04d}")
    monkeypatch.setattr(publisher.time, "sleep", lambda _s: None)
    outbox = StreamPump(resources.PUBLISHER, settings(), aws_env)
    with faults.throttle(0.2, value, services=("events",)) as plan:
        for _ in range(20):                       # the stream redelivers what failed
            if not outbox.step():
                break
    assert plan.throttled > 0
    published = {e["detail"]["id"] for e in tap_events(aws_env)}
    assert published == {e["id"] for d in audit(aws_env)["dossiers"] for e in store.dossier_events(d)}


def test_a_throttled_read_after_botocores_retries_is_a_503_with_retry_after(api, aws_env):
    citizen = api.token("citizen", sub="citizen-busy")
    code = submit(api, submission(HOUSE), citizen, key="busy-0001").json["dossier_code"]
    with faults.throttle(1.0, 1, services=("dynamodb",)) as plan:
        response = api.call("GET", f"/dossiers/{code}", token=citizen)
    assert response.status_code == 503 and response.headers["Retry-After"] == str(ServiceBusy.retry_after)
    assert response.json["error"]["code"] == "service_busy" and "quá tải" in response.json["error"]["message"]
    assert plan.attempts > 1                                       # botocore retried before giving up
    check("/dossiers/{code}", "get", response)                      # the documented 503


def test_only_throttling_is_treated_as_busy():
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import GetError

    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")
    assert aws_throttled(throttled) and aws_throttled(GetError("failed", cause=throttled))
    assert not aws_throttled(ClientError({"Error": {"Code": "ValidationException"}}, "GetItem"))
    assert not aws_throttled(RuntimeError("bug"))
