"""Issue 18's black-box run, repeatable: `motcua hostile` (motcua/hostile.py) against a fresh
`motcua local` on loopback, over HTTP only, must find nothing; and the answers the rerun found
wrong, each as its own test (the local server in front of the API answers like the API)."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from motcua import hostile
from motcua.hostile_scenarios import raw_answer
from motcua.local_process import LocalStack

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(verbose=True, output_lines=hostile.OUTPUT_LINES)
    yield running
    assert running.stop() == 0, running.tail()


def test_the_hostile_run_against_make_run_finds_nothing(stack):
    results = hostile.check_all(stack.api, hostile.local_cli(stack.env),
                                lambda: "".join(stack.banner + list(stack.output)))
    failed = [r for r in results if not r.passed]
    assert len(results) >= 600 and not any(r.skipped for r in results)
    assert failed == [], hostile.table(failed)


def test_a_path_no_route_serves_is_a_404_in_the_apis_shape_that_does_not_repeat_the_token(stack):
    """Chalice's local server answered API Gateway's 403 {"message": "Missing Authentication
    Token"}, with a token repeating it back, and dropped the connection for a token not in ASCII."""
    for token in (b"", b"Authorization: Bearer secret-abc\r\n", b"Authorization: Bearer \xff\xfe\r\n"):
        status, body = raw_answer(stack.api, b"GET /no/such/route HTTP/1.1\r\n" + token)
        assert status == 404 and json.loads(body)["error"]["code"] == "route_not_found", body
        assert "secret-abc" not in body and "Không" in json.loads(body)["error"]["message"]


def test_a_content_length_that_is_no_number_is_a_400_in_the_apis_shape(stack):
    """Chalice's local server dropped the connection with a traceback."""
    status, body = raw_answer(stack.api, b"POST /dossiers HTTP/1.1\r\nContent-Length: abc\r\n")
    assert status == 400 and json.loads(body)["error"]["code"] == "bad_request", body


def test_a_refused_request_closes_its_connection_and_says_so_so_the_next_one_is_not_lost(stack):
    """The refusal leaves the request's body unread, so the server closes the connection; a
    keep-alive client that was not told so lost its next request on it (seen as a
    ConnectionError in the hostile run)."""
    import requests
    with requests.Session() as session:
        for _ in range(20):
            refused = session.post(stack.api + "/no/such/route", data=b"x" * 10_000, timeout=10)
            assert refused.status_code == 404 and refused.headers["Connection"] == "close"
            assert session.get(stack.api + "/procedures", timeout=10).status_code == 200
