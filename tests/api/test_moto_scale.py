"""moto with motcua.moto_scale still behaves like DynamoDB: a failed transaction leaves every item
it named as it was (and no stream record behind), other tables untouched, and queries return
what a full-table walk would, in the same order and pages."""
from __future__ import annotations

import json
from typing import Any
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

STREAMED, PLAIN, OTHER = "scale-streamed", "scale-plain", "scale-other"


def s(value: str) -> dict[str, str]:
    return {"S": value}


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="ap-southeast-1")
        client.create_table(
            TableName=STREAMED, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "gs")],
            GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                   {"AttributeName": "gs", "KeyType": "RANGE"}]}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        for name in (PLAIN, OTHER):
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        yield client


def everything(client: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: sorted(client.scan(TableName=name)["Items"], key=repr) for name in (STREAMED, PLAIN, OTHER)}


def stream_records(client: Any) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name="ap-southeast-1")
    arn = client.describe_table(TableName=STREAMED)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]


def seed(client: Any) -> None:
    client.put_item(TableName=STREAMED, Item={"pk": s("D#1"), "sk": s("META"), "version": {"N": "1"}})
    client.put_item(TableName=STREAMED, Item={"pk": s("D#1"), "sk": s("EVENT#1"), "kind": s("created")})
    client.put_item(TableName=PLAIN, Item={"id": s("counter"), "n": {"N": "5"}})
    client.put_item(TableName=PLAIN, Item={"id": s("doomed"), "n": {"N": "1"}})
    client.put_item(TableName=OTHER, Item={"id": s("bystander"), "n": {"N": "9"}})


def writes_then(last: dict[str, Any]) -> list[dict[str, Any]]:
    """Four writes over two tables (new item, update, overwrite, delete), then ``last``."""
    return [
        {"Put": {"TableName": STREAMED, "Item": {"pk": s("D#1"), "sk": s("EVENT#2"), "kind": s("accepted")}}},
        {"Update": {"TableName": STREAMED, "Key": {"pk": s("D#1"), "sk": s("META")},
                    "UpdateExpression": "SET version = :two", "ConditionExpression": "version = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}}}},
        {"Put": {"TableName": PLAIN, "Item": {"id": s("counter"), "n": {"N": "6"}}}},
        {"Delete": {"TableName": PLAIN, "Key": {"id": s("doomed")}}},
        last,
    ]


FAILING_CONDITION = {"ConditionCheck": {"TableName": PLAIN, "Key": {"id": s("absent")},
                                        "ConditionExpression": "attribute_exists(id)"}}


def test_failed_condition_rolls_back_every_item_of_a_multi_table_transaction(ddb):
    seed(ddb)
    before, records_before = everything(ddb), stream_records(ddb)

    with pytest.raises(ClientError) as failure:
        ddb.transact_write_items(TransactItems=writes_then(FAILING_CONDITION))

    assert failure.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in failure.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    assert everything(ddb) == before                      # every named item back, OTHER untouched
    assert stream_records(ddb) == records_before          # the partial writes left no stream record


def test_naming_one_item_twice_rolls_back_the_writes_before_it(ddb):
    seed(ddb)
    before, records_before = everything(ddb), stream_records(ddb)
    again = {"Put": {"TableName": STREAMED, "Item": {"pk": s("D#1"), "sk": s("EVENT#2"), "kind": s("twice")}}}

    with pytest.raises(ClientError) as failure:
        ddb.transact_write_items(TransactItems=writes_then(again))

    assert failure.value.response["Error"]["Code"] == "ValidationException"
    assert everything(ddb) == before
    assert stream_records(ddb) == records_before


def test_successful_transaction_applies_every_write_and_streams_them(ddb):
    seed(ddb)
    records_before = len(stream_records(ddb))
    passing = {"ConditionCheck": {"TableName": OTHER, "Key": {"id": s("bystander")},
                                  "ConditionExpression": "attribute_exists(id)"}}

    ddb.transact_write_items(TransactItems=writes_then(passing))

    after = everything(ddb)
    assert {"pk": s("D#1"), "sk": s("EVENT#2"), "kind": s("accepted")} in after[STREAMED]
    assert {"pk": s("D#1"), "sk": s("META"), "version": {"N": "2"}} in after[STREAMED]
    assert after[PLAIN] == [{"id": s("counter"), "n": {"N": "6"}}]
    assert len(stream_records(ddb)) == records_before + 2


def test_transactions_copy_only_the_items_they_name(ddb, monkeypatch):
    seed(ddb)

    def no_table_copies(self: Table, memo: dict) -> Table:
        raise AssertionError("a transaction deep-copied a whole table")

    monkeypatch.setattr(Table, "__deepcopy__", no_table_copies, raising=False)
    ddb.transact_write_items(TransactItems=writes_then({"ConditionCheck": {
        "TableName": OTHER, "Key": {"id": s("bystander")}, "ConditionExpression": "attribute_exists(id)"}}))
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": PLAIN, "Item": {"id": s("x")}}},
                                                FAILING_CONDITION])
    assert "x" not in {item["id"]["S"] for item in ddb.scan(TableName=PLAIN)["Items"]}


def query_pages(client: Any, **query: Any) -> list[list[dict[str, Any]]]:
    pages, start = [], None
    while True:
        page = client.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        pages.append(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def test_queries_return_the_partition_or_index_matches_in_key_order_and_pages(ddb):
    for n in range(40):   # written out of order, over several partitions and index values
        k = (n * 17) % 40
        ddb.put_item(TableName=STREAMED, Item={"pk": s(f"D#{k % 4}"), "sk": s(f"E#{k:03d}"),
                                               "g": s(f"agency-{k % 3}"), "gs": s(f"2026-01-{1 + k % 5:02d}")})
    everything_ = ddb.scan(TableName=STREAMED)["Items"]

    pages = query_pages(ddb, TableName=STREAMED, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": s("D#2")}, Limit=3, ScanIndexForward=False)
    expected = sorted((i for i in everything_ if i["pk"] == s("D#2")), key=lambda i: i["sk"]["S"], reverse=True)
    assert [i for page in pages for i in page] == expected
    assert all(len(page) <= 3 for page in pages) and len(pages) == 4

    pages = query_pages(ddb, TableName=STREAMED, IndexName="by_g", KeyConditionExpression="g = :g AND gs <= :d",
                        ExpressionAttributeValues={":g": s("agency-1"), ":d": s("2026-01-03")}, Limit=4)
    expected = sorted((i for i in everything_ if i["g"] == s("agency-1") and i["gs"]["S"] <= "2026-01-03"),
                      key=lambda i: (i["gs"]["S"], i["pk"]["S"], i["sk"]["S"]))
    assert [i for page in pages for i in page] == expected and len(expected) > 4


RICH = {"pk": s("D#9"), "sk": s("RICH"), "text": s("Hồ sơ"), "blank": s(""), "n": {"N": "-12.5"},
        "no": {"BOOL": False}, "nothing": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]},
        "bin": {"B": b"\x00\x01"}, "bs": {"BS": [b"x", b"y"]},
        "map": {"M": {"inner": {"L": [s("x"), {"N": "1"}, {"M": {}}, {"L": []}, {"B": b"z"}]},
                      "flag": {"BOOL": True}}},
        "list": {"L": [{"SS": ["q"]}, {"NULL": True}, {"M": {"deep": {"NS": ["7"]}}}]}}


def test_every_attribute_type_reads_back_as_written_on_every_read_path(ddb):
    ddb.put_item(TableName=STREAMED, Item=RICH)
    key = {"pk": RICH["pk"], "sk": RICH["sk"]}
    assert ddb.get_item(TableName=STREAMED, Key=key)["Item"] == RICH
    assert ddb.query(TableName=STREAMED, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": RICH["pk"]})["Items"] == [RICH]
    assert ddb.batch_get_item(RequestItems={STREAMED: {"Keys": [key]}})["Responses"][STREAMED] == [RICH]
    assert ddb.scan(TableName=STREAMED)["Items"] == [RICH]
    assert stream_records(ddb)[-1]["dynamodb"]["NewImage"] == RICH


def test_attribute_values_serialize_exactly_as_moto_walks_them(monkeypatch):
    """The wire-form shortcut writes what moto's member-by-member walk writes, binary included
    (which the shortcut leaves to moto)."""
    from motcua import moto_scale
    from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model
    from moto.dynamodb.models.utilities import dynamo_to_dict

    class MotosOwnWalk(JSONSerializer):
        _serialize_type_structure = getattr(BaseJSONSerializer._serialize_type_structure, "__wrapped__",
                                            BaseJSONSerializer._serialize_type_structure)

    shortcuts = []
    wire = moto_scale._wire_attribute_value
    monkeypatch.setattr(moto_scale, "_wire_attribute_value", lambda value: shortcuts.append(value) or wire(value))
    held = dynamo_to_dict({"Item": RICH, "ConsumedCapacity": {"TableName": STREAMED, "CapacityUnits": 1.0}})
    for service, operation, result in (("dynamodb", "GetItem", held),
                                       ("dynamodbstreams", "GetRecords",
                                        {"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": held["Item"]}}]})):
        model = get_service_model(service).operation_model(operation)
        shortcut = JSONSerializer(model, value_picker=XFormedAttributePicker()).serialize(result)
        walked = MotosOwnWalk(model, value_picker=XFormedAttributePicker()).serialize(result)
        assert json.loads(shortcut["body"]) == json.loads(walked["body"])
    assert {"S": "Hồ sơ"} in shortcuts   # the shortcut did run


def test_a_repeated_update_expression_applies_afresh_to_each_item(ddb):
    """Parsed update expressions are cached by text: the tree must come out of every use as it went in."""
    expression = "SET #n = if_not_exists(#n, :zero) + :step, tags = list_append(if_not_exists(tags, :empty), :tag) " \
                 "ADD hits :step REMOVE doomed"
    ddb.put_item(TableName=PLAIN, Item={"id": s("old"), "n": {"N": "10"}, "hits": {"N": "1"}, "doomed": s("x")})
    for key, step, tag in (("old", "2", "a"), ("new", "5", "b"), ("old", "3", "c"), ("new", "1", "d")):
        ddb.update_item(TableName=PLAIN, Key={"id": s(key)}, UpdateExpression=expression,
                        ExpressionAttributeNames={"#n": "n"},
                        ExpressionAttributeValues={":zero": {"N": "0"}, ":step": {"N": step}, ":empty": {"L": []},
                                                   ":tag": {"L": [s(tag)]}})
    ddb.transact_write_items(TransactItems=[{"Update": {
        "TableName": PLAIN, "Key": {"id": s("new")}, "UpdateExpression": expression, "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":step": {"N": "4"}, ":empty": {"L": []}, ":tag": {"L": [s("e")]}}}}])
    old = ddb.get_item(TableName=PLAIN, Key={"id": s("old")})["Item"]
    new = ddb.get_item(TableName=PLAIN, Key={"id": s("new")})["Item"]
    assert old == {"id": s("old"), "n": {"N": "15"}, "hits": {"N": "6"}, "tags": {"L": [s("a"), s("c")]}}
    assert new == {"id": s("new"), "n": {"N": "10"}, "hits": {"N": "10"}, "tags": {"L": [s("b"), s("d"), s("e")]}}


def test_an_expression_that_passed_its_checks_is_still_refused_with_names_that_break_them(ddb):
    """Structural checks are remembered per (expression, names, keys): other names are checked anew."""
    values = {":x": s("1"), ":y": s("2")}
    for _ in range(2):
        ddb.update_item(TableName=PLAIN, Key={"id": s("a")}, UpdateExpression="SET #a = :x, #b = :y",
                        ExpressionAttributeNames={"#a": "p", "#b": "q"}, ExpressionAttributeValues=values)
    for names, message in (({"#a": "p", "#b": "p"}, "Two document paths"), ({"#a": "id", "#b": "q"}, "key")):
        for _ in range(2):
            with pytest.raises(ClientError) as refused:
                ddb.update_item(TableName=PLAIN, Key={"id": s("a")}, UpdateExpression="SET #a = :x, #b = :y",
                                ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            assert refused.value.response["Error"]["Code"] == "ValidationException"
            assert message in refused.value.response["Error"]["Message"]
    assert ddb.get_item(TableName=PLAIN, Key={"id": s("a")})["Item"] == {"id": s("a"), "p": s("1"), "q": s("2")}
