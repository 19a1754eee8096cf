"""Draw a paper in the papers function (handlers/papers.py) and wait for its PDF.

In AWS the API package has no PDF library (its 10 MB budget; docs/forms.md), so the API sends
the paper's values to the function that has it, named by the setting MOTCUA_PAPERS_FUNCTION,
which infra/ sets. A paper is small, well under Lambda's 6 MB synchronous payload.
"""
from __future__ import annotations

import base64
import json

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.dossiers.rules.papers import Paper
from chalicelib.kernel.errors import ServiceUnavailable
from chalicelib.kernel.working_days import iso
from chalicelib.runtime import aws

UNAVAILABLE = "Chưa in được giấy tờ lúc này, vui lòng thử lại."


def render(function: str, paper: Paper) -> bytes:
    """The paper's PDF as the function drew it; 503 (retryable) if it could not."""
    payload = json.dumps({"layout": paper.layout, "values": paper.values, "dated": iso(paper.dated)}, ensure_ascii=False)
    try:
        answer = aws.client("lambda").invoke(FunctionName=function, Payload=payload.encode("utf-8"))
        body = json.loads(answer["Payload"].read())
    except (BotoCoreError, ClientError) as exc:
        raise ServiceUnavailable(UNAVAILABLE, code="papers_unavailable", extra={"retryable": True}) from exc
    if answer.get("FunctionError") or "pdf" not in body:
        raise ServiceUnavailable(UNAVAILABLE, code="papers_unavailable", extra={"retryable": True})
    return base64.b64decode(body["pdf"])
