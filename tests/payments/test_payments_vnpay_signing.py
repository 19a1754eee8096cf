"""VNPay checksums: the pure functions, checked against hand-derived vectors (computed with
``hmac`` directly, see vectors/hand_vectors.json) and by properties."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.vnpay import (
    QUERYDR_REQUEST_FIELDS,
    QUERYDR_RESPONSE_FIELDS,
    REFUND_REQUEST_FIELDS,
    REFUND_RESPONSE_FIELDS,
    canonical_query,
    fields_checksum,
    pipe_checksum,
    secure_hash,
    sign_params,
    verify_params,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "hand_vectors.json").read_text("utf-8"))
HAND_SECRET = VECTORS["secret"]
PAY_VECTORS = VECTORS["pay_url_vectors"]
PIPE_VECTORS = {v["name"]: v for v in VECTORS["pipe_vectors"]}
SECRET = "UNITTESTSECRET"


@pytest.mark.parametrize("vector", PAY_VECTORS, ids=[v["name"] for v in PAY_VECTORS])
def test_canonical_query_matches_hand_derived_string(vector):
    assert canonical_query(vector["params"]) == vector["canonical"]


@pytest.mark.parametrize("vector", PAY_VECTORS, ids=[v["name"] for v in PAY_VECTORS])
def test_secure_hash_matches_hand_vector_and_signed_params_verify(vector):
    assert secure_hash(HAND_SECRET, vector["canonical"]) == vector["expected_hash"]
    signed = sign_params(vector["params"], HAND_SECRET)
    assert signed["vnp_SecureHash"] == vector["expected_hash"]
    assert verify_params(signed, HAND_SECRET)


def test_verify_accepts_hash_computed_without_empty_values():
    # VNPay's Java sample and the npm package drop empty values before hashing.
    vector = next(v for v in PAY_VECTORS if "canonical_without_empty" in v)
    assert canonical_query(vector["params"], include_empty=False) == vector["canonical_without_empty"]
    params = dict(vector["params"], vnp_SecureHash=vector["expected_hash_without_empty"])
    assert verify_params(params, HAND_SECRET)
    params["vnp_ResponseCode"] = "00"
    assert not verify_params(params, HAND_SECRET)


def test_secure_hash_is_lowercase_hex_hmac_sha512():
    digest = secure_hash("k", "data")
    assert len(digest) == 128 and digest == digest.lower()
    int(digest, 16)


def test_sign_params_drops_secure_hash_type_and_keeps_other_params():
    signed = sign_params({"vnp_TxnRef": "A", "vnp_SecureHashType": "HmacSHA512", "lang": "vi"}, SECRET)
    assert "vnp_SecureHashType" not in signed
    assert signed["lang"] == "vi"
    assert signed["vnp_SecureHash"] == secure_hash(SECRET, "vnp_TxnRef=A")


def test_canonical_query_ignores_non_vnp_keys_and_hash_fields():
    params = {"b": "2", "vnp_B": "x y", "vnp_A": "1", "vnp_SecureHash": "zz", "vnp_SecureHashType": "t"}
    assert canonical_query(params) == "vnp_A=1&vnp_B=x+y"


def test_tampered_amount_fails_verification():
    signed = sign_params({"vnp_Amount": "15000000", "vnp_TxnRef": "A"}, SECRET)
    assert verify_params(signed, SECRET)
    assert not verify_params(dict(signed, vnp_Amount="1500000"), SECRET)


def test_amount_is_hashed_exactly_as_received():
    signed = sign_params({"vnp_Amount": "0001500000", "vnp_TxnRef": "A"}, SECRET)
    assert verify_params(signed, SECRET)
    assert not verify_params(dict(signed, vnp_Amount="1500000"), SECRET)


def test_added_vnp_parameter_fails_verification():
    signed = sign_params({"vnp_Amount": "100", "vnp_TxnRef": "A"}, SECRET)
    assert not verify_params(dict(signed, vnp_BankCode="NCB"), SECRET)


def test_wrong_secret_fails_verification():
    assert not verify_params(sign_params({"vnp_TxnRef": "A"}, SECRET), SECRET + "x")


def test_hash_compare_is_case_insensitive():
    signed = sign_params({"vnp_TxnRef": "A"}, SECRET)
    assert verify_params(dict(signed, vnp_SecureHash=signed["vnp_SecureHash"].upper()), SECRET)


@pytest.mark.parametrize("bad_hash", ["", "é" * 128, "00", None, 12345])
def test_missing_or_garbage_hash_is_false_not_an_exception(bad_hash):
    params = {"vnp_TxnRef": "A"}
    if bad_hash is not None:
        params["vnp_SecureHash"] = bad_hash
    assert verify_params(params, SECRET) is False


def test_non_string_values_are_false_not_an_exception():
    signed = sign_params({"vnp_TxnRef": "A"}, SECRET)
    assert verify_params(dict(signed, vnp_Amount=["1", "2"]), SECRET) is False


def test_pipe_checksum_field_orders_are_the_primers():
    assert [f.removeprefix("vnp_") for f in QUERYDR_REQUEST_FIELDS] == PIPE_VECTORS["querydr request"]["order"].split("|")
    assert [f.removeprefix("vnp_") for f in REFUND_REQUEST_FIELDS] == PIPE_VECTORS["refund request (partial, 03)"]["order"].split("|")
    assert [f.removeprefix("vnp_") for f in QUERYDR_RESPONSE_FIELDS] == PIPE_VECTORS["querydr response"]["order"].split("|")
    assert [f.removeprefix("vnp_") for f in REFUND_RESPONSE_FIELDS] == PIPE_VECTORS["refund response (no promotion fields)"]["order"].split("|")


@pytest.mark.parametrize("name", list(PIPE_VECTORS))
def test_pipe_checksum_matches_hand_vector(name):
    vector = PIPE_VECTORS[name]
    assert "|".join(vector["fields"]) == vector["joined"]
    assert pipe_checksum(HAND_SECRET, vector["fields"]) == vector["expected_hash"]


@pytest.mark.parametrize(
    "name,order",
    [
        ("querydr request", QUERYDR_REQUEST_FIELDS),
        ("refund request (partial, 03)", REFUND_REQUEST_FIELDS),
        ("querydr response", QUERYDR_RESPONSE_FIELDS),
        ("refund response (no promotion fields)", REFUND_RESPONSE_FIELDS),
    ],
)
def test_fields_checksum_picks_fields_by_name_in_the_documented_order(name, order):
    vector = PIPE_VECTORS[name]
    body = dict(zip(order, vector["fields"], strict=True))
    body = dict(reversed(list(body.items())), vnp_Unrelated="ignored")  # dict order must not matter
    assert fields_checksum(HAND_SECRET, body, order) == vector["expected_hash"]


def test_fields_checksum_treats_missing_and_none_as_empty():
    order = ("vnp_A", "vnp_B", "vnp_C")
    expected = pipe_checksum(SECRET, ["1", "", ""])
    assert fields_checksum(SECRET, {"vnp_A": "1"}, order) == expected
    assert fields_checksum(SECRET, {"vnp_A": 1, "vnp_B": None}, order) == expected


_keys = st.from_regex(r"vnp_[A-Za-z]{1,12}", fullmatch=True).filter(
    lambda k: k not in ("vnp_SecureHash", "vnp_SecureHashType")
)
_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, min_size=1, max_size=8), st.data())
def test_any_signed_params_verify_and_any_changed_value_does_not(params, data):
    signed = sign_params(params, SECRET)
    assert verify_params(signed, SECRET)
    key = data.draw(st.sampled_from(sorted(params)))
    new_value = data.draw(_values.filter(lambda v: v != params[key]))
    tampered = dict(signed, **{key: new_value})
    # Changing a value to or from "" can coincide with the empty-dropping convention only if
    # the key is dropped entirely, which changes the string; so every change must fail.
    assert not verify_params(tampered, SECRET)
