"""openapi.yaml matches the routes, is a valid OpenAPI document, and describes real responses."""
from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chalicelib.edge.contract import openapi_document
from tests.api.conftest import put_upload
from tests.api.test_intake import officer_for, seed_procedure, submission, submit

METHODS = {"get", "post", "put", "patch", "delete"}


def test_openapi_document_is_valid():
    validate(openapi_document())


def test_every_route_is_documented_and_every_documented_path_exists():
    from app import app
    routes = {(path, method.lower()) for path, entries in app.routes.items() for method in entries}
    documented = {(path, method) for path, item in openapi_document()["paths"].items()
                  for method in item if method in METHODS}
    assert routes == documented


def test_openapi_json_is_served(api):
    response = api.call("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.1")
    assert response.json == openapi_document()


def _validator(path: str, method: str, status: int) -> jsonschema.Validator:
    doc = openapi_document()
    registry = Registry().with_resource("urn:motcua:openapi", Resource.from_contents(doc, default_specification=DRAFT202012))
    response = doc["paths"][path][method]["responses"][str(status)]
    pointer = f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/{status}"
    if "$ref" in response:
        pointer = response["$ref"].lstrip("#")
        response = doc
        for part in pointer.strip("/").split("/"):
            response = response[part]
    schema_pointer = pointer + "/content/application~1json/schema"
    return jsonschema.Draft202012Validator({"$ref": f"urn:motcua:openapi#{schema_pointer}"}, registry=registry)


def check(path: str, method: str, response: Any) -> None:
    documented = openapi_document()["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (path, method, response.status_code)
    _validator(path, method, response.status_code).validate(response.json)


def test_responses_of_a_full_flow_match_the_documented_schemas(api, aws_env):
    procedure = seed_procedure(api)
    citizen = api.token("citizen", sub="citizen-contract")
    officer = officer_for(api, procedure)
    check("/procedures", "get", api.call("GET", "/procedures"))
    check("/procedures/{procedure_code}", "get", api.call("GET", f"/procedures/{procedure['procedure_code']}"))
    check("/procedures/{procedure_code}", "get", api.call("GET", "/procedures/0.000000"))
    check("/uploads", "post", api.call("POST", "/uploads", token=citizen,
                                       body={"name": "a.pdf", "content_type": "application/pdf", "size": 5}))
    upload = put_upload(aws_env, "citizen-contract")
    body = submission(procedure["procedure_code"], attachments=[{"upload_id": upload, "name": "a.pdf"}])
    created = submit(api, body, citizen, key="contract-0001")
    check("/dossiers", "post", created)
    check("/dossiers", "post", submit(api, {"procedure_code": 1}, citizen, key="contract-0002"))
    check("/dossiers", "post", api.call("POST", "/dossiers", body=body))
    code = created.json["dossier_code"]
    check("/dossiers/{code}", "get", api.call("GET", f"/dossiers/{code}", token=citizen))
    check("/dossiers/{code}/deadline", "get", api.call("GET", f"/dossiers/{code}/deadline", token=citizen))
    check("/dossiers/{code}/accept", "post", api.call("POST", f"/dossiers/{code}/accept", token=officer))
    check("/dossiers/{code}/accept", "post", api.call("POST", f"/dossiers/{code}/accept", token=officer))
    check("/dossiers/{code}/deadline", "get", api.call("GET", f"/dossiers/{code}/deadline", token=citizen))
    check("/dossiers/{code}/refuse", "post", api.call("POST", f"/dossiers/{code}/refuse", token=officer, body={}))
    check("/dossiers", "get", api.call("GET", "/dossiers", token=officer))
    check("/dossiers", "get", api.call("GET", "/dossiers?cursor=zzz", token=officer))
    check("/track/{code}", "get", api.call("GET", f"/track/{code}?phone_last4=5678"))
    check("/track/{code}", "get", api.call("GET", f"/track/{code}?phone_last4=1111"))


@pytest.mark.parametrize("path", ["/dossiers/{code}", "/dossiers/{code}/accept"])
def test_unknown_dossier_answers_a_documented_404(api, path):
    method = "get" if path == "/dossiers/{code}" else "post"
    token = api.token("officer", "000.00.13.H50")
    response = api.call(method.upper(), path.replace("{code}", "000.00.13.H50-261121-9999"), token=token)
    check(path, method, response)
    assert response.status_code == 404


def test_the_contract_is_parsed_once_however_many_clients_ask_at_once(monkeypatch):
    """The local server is threaded: a hundred first requests each parsed the YAML before
    the cache held it, and most timed out (tests/stack/test_local_stack.py)."""
    import threading

    import yaml

    from chalicelib.edge import contract

    contract._parsed.cache_clear()
    parses: list[int] = []
    real = yaml.safe_load

    def counted(text: str) -> object:
        parses.append(1)
        return real(text)

    monkeypatch.setattr(yaml, "safe_load", counted)
    start = threading.Barrier(20)
    threads = [threading.Thread(target=lambda: (start.wait(), contract.openapi_document())) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert parses == [1]
