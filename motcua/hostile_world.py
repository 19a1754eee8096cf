"""The hostile run's world (motcua/hostile.py): its own dossiers, uploads and payments, made
over HTTP like any client's (the probe tables name them as fixtures), and how a scenario's
answers become rows of the report.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin

import requests

from motcua.hostile_kit import Client, Result, broken_rule, error_of, summary
from motcua.hostile_checks import COMMUNE, SUBMISSION

JUDICIAL = "1.001023"   # Sở Tư pháp, 200,000 đ paid before acceptance
PDF = b"%PDF-1.4\n"
EMOJI = "\U0001F600"
WITHIN = "2xx, or a 4xx naming the cause"


class SetupFailed(Exception):
    """A step a scenario needs did not work: the scenario fails with this answer."""


class World:
    """The run's own dossiers, uploads and payments, made through the API."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.fixtures: dict[str, str] = {}

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> requests.Response:
        return self.client.call(method, path, who, **kwargs)

    def need(self, response: requests.Response, status: int, what: str) -> Any:
        if response.status_code != status:
            raise SetupFailed(f"{what}: {summary(response)} {response.text[:200]}")
        return response.json()

    def submit(self, who: str = "citizen", key: str | None = None, **body: Any) -> requests.Response:
        return self.call("POST", "/dossiers", who, body={**SUBMISSION, **body},
                         headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def dossier(self, who: str = "citizen", **body: Any) -> str:
        return str(self.need(self.submit(who, **body), 201, "submit")["dossier_code"])

    def upload(self, who: str, name: str = "don.pdf") -> dict[str, str]:
        issued = self.need(self.call("POST", "/uploads", who, body={
            "name": name, "content_type": "application/pdf", "size": len(PDF)}), 201, "upload")
        stored = requests.put(issued["upload_url"], data=PDF, headers=issued["headers"], timeout=30)
        if stored.status_code != 200:
            raise SetupFailed(f"storing an upload: {stored.status_code}")
        return {"upload_id": issued["upload_id"], "name": name}

    def uploads(self, who: str, count: int) -> list[dict[str, str]]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda n: self.upload(who, f"tep-{n}.pdf"), range(count)))

    def act(self, code: str, who: str, action: str, **body: Any) -> requests.Response:
        return self.call("POST", f"/dossiers/{code}/actions", who, body={"action": action, **body})

    def accepted(self, officer: str = "officer:commune", **body: Any) -> str:
        code = self.dossier(**body)
        self.need(self.call("POST", f"/dossiers/{code}/accept", officer), 200, "accept")
        return code

    def finished(self) -> str:
        code = self.accepted()
        self.need(self.act(code, "officer:commune", "issue_result", decision="approved",
                           documents=[self.upload("officer:commune", "ket-qua.pdf")]), 200, "issue_result")
        return code

    def paid(self, procedure: str = JUDICIAL) -> str:
        """A dossier whose fees the citizen paid on the VNPay simulator's checkout page."""
        code = self.dossier(procedure_code=procedure)
        payment = self.need(self.call("POST", f"/dossiers/{code}/payments", "citizen", body={}), 201, "payment")
        page = requests.get(payment["pay_url"], timeout=30)
        form = re.search(r'<form method="post" action="([^"]+)"><input type="hidden" name="checkout" '
                         r'value="([0-9a-f]+)"><input type="hidden" name="outcome" value="success">', page.text)
        if form is None:
            raise SetupFailed("no success button on the VNPay simulator's checkout page")
        requests.post(urljoin(payment["pay_url"], form.group(1)), data={"checkout": form.group(2),
                      "outcome": "success"}, allow_redirects=False, timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:   # the simulator's IPN reaches the API on its own
            if self.call("GET", f"/dossiers/{code}", "citizen").json().get("payment_status") == "paid":
                return code
            time.sleep(0.3)
        raise SetupFailed(f"{code} not paid 30 s after the simulator's IPN")


def outcome(check: str, expected: str, got: str, passed: bool) -> Result:
    return Result(check, expected, got, passed)


def answered(check: str, response: requests.Response, statuses: Iterable[int], path: str = "") -> Result:
    """One answer: its status among ``statuses`` and within the rules every answer keeps."""
    wanted = tuple(statuses)
    broken = broken_rule(response, path)
    got = summary(response) + (f"  <- {broken}" if broken else "")
    return outcome(check, "/".join(map(str, wanted)), got, response.status_code in wanted and broken is None)


def within_bounds(check: str, response: requests.Response) -> Result:
    """Taken (2xx), or refused with a 4xx that says why (a code and, for a 422, the fields)."""
    error = error_of(response)
    fine = response.status_code in (200, 201) or (
        400 <= response.status_code < 500 and bool(error.get("code"))
        and (response.status_code != 422 or bool(error.get("fields"))))
    broken = broken_rule(response, "")
    return outcome(check, WITHIN, summary(response) + (f"  <- {broken}" if broken else ""), fine and not broken)


# --- the run's own dossiers ---------------------------------------------------------------

def make_fixtures(world: World) -> list[Result]:
    """The dossiers, uploads, payment and feedback the probe tables act on."""
    f = world.fixtures
    f["upload"] = world.upload("citizen")["upload_id"]
    f["officer_upload"] = world.upload("officer:commune")["upload_id"]
    f["own"] = world.dossier()
    f["accepted"], f["timely"] = world.accepted(), world.accepted()
    f["asked"] = world.accepted()
    world.need(world.act(f["asked"], "officer:commune", "request_supplement", reason="Thiếu bản vẽ",
                         documents=["Bản vẽ"]), 200, "request_supplement")
    f["withdrawn"] = world.dossier()
    world.need(world.act(f["withdrawn"], "citizen", "withdraw"), 200, "withdraw")
    f["finished"], f["returned"] = world.finished(), world.finished()
    world.need(world.act(f["returned"], "officer:commune", "return_result", method="desk"), 200, "return_result")
    payment = world.need(world.call("POST", f"/dossiers/{f['accepted']}/payments", "citizen", body={}), 201, "payment")
    f["payment"], f["pay_url"] = payment["payment_id"], payment["pay_url"]
    feedback = world.need(world.call("POST", "/feedback", "citizen", body={
        "kind": "procedure", "title": "Góp ý", "content": "Thủ tục rườm rà", "agency_id": COMMUNE}), 201, "feedback")
    f["feedback"] = feedback.get("feedback_id") or feedback["id"]
    return [outcome("setup: the run's own dossiers, payment, feedback and uploads", "made over HTTP",
                    ", ".join(sorted(f)), True)]
