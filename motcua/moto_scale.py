"""Make moto's DynamoDB cost grow with what a request touches, not with the table size.

moto 5.2.5 has two whole-table costs that turn a workload of N dossiers quadratic, which real
DynamoDB does not have:

- ``transact_write_items`` deep-copies every table the transaction names before it starts, so
  that it can restore them if a condition fails. With thousands of dossiers (each with its
  outbox events) every transaction copies tens of thousands of items.
- ``Table.query`` starts from ``all_items()``, which sorts the whole table with Python-level
  comparisons, even for a query on one partition; a GSI query then sorts its matches again.
- SQS ``send_message`` (and the retention check of every received message) read one static
  queue attribute through ``Queue.attributes``, which also counts the queue's messages three
  times (approximate visible / delayed / in flight), so each send costs the queue's length.
- EventBridge builds a new jsonpath parser (a yacc table) for each of eight input paths of
  every event it delivers to every target.
- The response serializer finds each member of each DynamoDB ``AttributeValue`` (ten per
  attribute: S, N, B, ... BOOL) through a chain of alias providers, so a Query returning
  items of forty attributes costs hundreds of milliseconds, more than running the Query.
- Per request, moto lists the response class's methods with ``inspect.getmembers`` and
  converts names from CamelCase character by character (SQS: about ten times per message
  sent); per update, it parses the same few update expressions again (twice), and each
  validation pass rebuilds its table of node types for every node it visits.

This module keeps moto's own code for both and only narrows what it works on:

- A transaction snapshots just the items it names (a deep copy of each, or "absent") and the
  length of each touched table's stream. On any failure it puts those items back and drops
  the stream records the partial writes emitted, then re-raises moto's own error. That is
  the same all-or-nothing result as restoring the whole tables, because a transaction can
  only write the items it names. moto's method runs unchanged on a view of the backend whose
  ``tables`` hides the names from its snapshot step (``name in tables`` is false; lookups
  still work), so its validation and error reporting stay moto's. A transaction whose keys
  cannot be read before it runs (malformed input) takes moto's original path.
- A query on the table reads only its partition; a query on an index reads the table's items
  unsorted, since moto sorts the index matches by (index keys, table keys), a total order.
- While moto sends a message or checks a received message's retention, the three approximate
  counts are not computed (they read as None; neither path reads them). GetQueueAttributes
  still counts.
- jsonpath expressions parsed for EventBridge are cached by text (a parsed path is immutable).
- An ``AttributeValue`` (DynamoDB and its streams) that moto already holds in its wire form,
  ``{type: value}`` with string, number, boolean, null, string-set, number-set, map or list
  values, is written as it is: that is what moto's member-by-member walk produces for it.
  Binary values, and anything else, still take moto's path (base64 and all).
- Pure functions of their text or class are cached: the method list of a response class,
  CamelCase-to-snake_case names, a parsed update expression (moto's validator deep-copies
  the tree before it changes anything; the cached tree is only read), each validation
  pass's node types, and whether an expression passed its structural checks (action
  counts, overlapping paths, key attributes), which moto otherwise repeats at every nested
  node of every update.

Like ``motcua.moto_atomic``, this fixes the emulator (tests, the local stack, the bench); it
mocks nothing. It is written against moto 5.2.5 and leaves another version alone (with a
warning), because it relies on those methods' bodies; tests/api/test_moto_scale.py proves the
rollback semantics on whatever version runs.
"""
from __future__ import annotations

import copy
import functools
import inspect
import threading
import warnings
from typing import Any
from collections.abc import Callable

MOTO_VERSION = "5.2.5"
_installed = False


def _named_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]] | None:
    """The items a transaction may write, or None when its input is too malformed to tell."""
    keys = []
    for entry in transact_items:
        if len(entry) != 1:
            return None
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None or op_type not in ("ConditionCheck", "Put", "Delete", "Update"):
            return None
        try:
            if op_type == "Put":
                attrs = op["Item"]
                key = {name: attrs[name] for name in table.table_key_attrs}
            else:
                key = op["Key"]
            hash_key, range_key = backend.get_keys_value(table, key)
        except Exception:  # moto's own path reports it the way DynamoDB does
            return None
        keys.append((table, hash_key, range_key))
    return keys


class _Snapshot:
    """The named items before the transaction, and where each touched stream ended."""

    def __init__(self, keys: list[tuple[Any, Any, Any]]) -> None:
        self.items: dict[tuple[int, Any, Any], tuple[Any, Any, Any, Any]] = {}
        self.streams: dict[int, tuple[Any, int]] = {}
        for table, hash_key, range_key in keys:
            slot = (id(table), hash_key, range_key)
            if slot not in self.items:
                self.items[slot] = (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
            if table.stream_shard is not None and id(table) not in self.streams:
                self.streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, item in self.items.values():
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
                continue
            partition = table.items.get(hash_key)
            if item is not None:
                table.items[hash_key][range_key] = item
            elif partition is not None:
                partition.pop(range_key, None)
                if not partition:
                    del table.items[hash_key]
        for shard, length in self.streams.values():
            del shard.items[length:]


class _NoTableSnapshots(dict):
    """``backend.tables`` as moto's transaction sees it: lookups work, ``in`` says no, so moto
    takes no whole-table copy (and has none to restore)."""

    def __contains__(self, name: object) -> bool:
        return False


class _BackendView:
    """The backend with ``tables`` replaced by a ``_NoTableSnapshots`` over the same tables."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.tables = _NoTableSnapshots(backend.tables)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def _item_level_rollback(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        keys = _named_items(self, transact_items) if len(transact_items) <= 100 else None
        if keys is None:
            return original(self, transact_items)
        snapshot = _Snapshot(keys)
        try:
            return original(_BackendView(self), transact_items)
        except BaseException:
            snapshot.restore()
            raise
    return transact_write_items


class _Partition:
    """A table as ``Table.query`` sees it: ``all_items()`` is one partition (a table query) or
    every item unsorted (an index query, which moto sorts by a total order afterwards)."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table, self._hash_key = table, hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        table = self._table
        if self._hash_key is None:
            if not table.range_key_attr:
                return list(table.items.values())
            return [item for partition in table.items.values() for item in partition.values()]
        if not table.range_key_attr:
            item = table.items.get(self._hash_key)
            return [item] if item is not None else []
        return list(table.items.get(self._hash_key, {}).values())


def _partition_query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        partition = None if bound.get("index_name") else bound["hash_key"]
        return original(_Partition(self, partition), *args, **kwargs)
    return query


_COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
           "approximate_number_of_messages_not_visible")
_uncounted = threading.local()


def _unless_uncounted(count: Callable[[Any], int]) -> property:
    @functools.wraps(count)
    def approximate(queue: Any) -> int | None:
        return None if getattr(_uncounted, "active", False) else count(queue)
    return property(approximate)


def _without_counts(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def uncounted(*args: Any, **kwargs: Any) -> Any:
        outer = getattr(_uncounted, "active", False)
        _uncounted.active = True
        try:
            return method(*args, **kwargs)
        finally:
            _uncounted.active = outer
    return uncounted


def _install_sqs_and_events() -> None:
    import jsonpath_ng.ext
    from moto.sqs.models import Queue, SQSBackend

    for name in _COUNTS:
        setattr(Queue, name, _unless_uncounted(getattr(Queue, name).fget))
    for name in ("send_message", "is_message_valid_based_on_retention_period"):
        setattr(SQSBackend, name, _without_counts(getattr(SQSBackend, name)))
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


_WIRE_AS_IS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_WIRE_STRING_SETS = ("SS", "NS")
_ATTRIBUTE_VALUE_SERVICES = ("dynamodb", "dynamodbstreams")


def _wire_attribute_value(value: Any) -> dict[str, Any] | None:
    """``value`` as moto's serializer would write an AttributeValue, or None when it holds
    something only moto's own path writes right (binary, unexpected types)."""
    if type(value) is not dict or len(value) != 1:
        return None
    (kind, inner), = value.items()
    if kind in _WIRE_AS_IS:
        return value if type(inner) is _WIRE_AS_IS[kind] else None
    if kind in _WIRE_STRING_SETS:
        return value if type(inner) is list and all(type(v) is str for v in inner) else None
    if kind == "M" and type(inner) is dict:
        members = {}
        for name, member in inner.items():
            wire = _wire_attribute_value(member)
            if wire is None:
                return None
            members[name] = wire
        return {"M": members}
    if kind == "L" and type(inner) is list:
        elements = [_wire_attribute_value(element) for element in inner]
        return None if any(e is None for e in elements) else {"L": elements}
    return None


def _attribute_values_as_sent(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and not getattr(self._value_picker, "response_transformers", None) \
                and self.operation_model.service_model.service_name in _ATTRIBUTE_VALUE_SERVICES:
            wire = _wire_attribute_value(value)
            if wire is not None:
                self._default_serialize(serialized, wire, shape, key)
                return
        original(self, serialized, value, shape, key)
    return serialize_structure


def _install_serializer() -> None:
    from moto.core.serialize import BaseJSONSerializer

    BaseJSONSerializer._serialize_type_structure = _attribute_values_as_sent(
        BaseJSONSerializer._serialize_type_structure)


def _install_caches() -> None:
    from moto.core import responses
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.sqs import models as sqs_models

    method_names = responses.method_names_from_class
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(lambda clazz: tuple(method_names(clazz)))
    for module in (responses, sqs_models):
        module.camelcase_to_underscores = functools.lru_cache(maxsize=4096)(module.camelcase_to_underscores)
    UpdateExpressionParser.make = classmethod(functools.lru_cache(maxsize=1024)(UpdateExpressionParser.make.__func__))
    node_types: dict[type, tuple[type, ...]] = {}
    processed = DepthFirstTraverser.nodes_to_be_processed

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        kinds = node_types.get(type(self))
        if kinds is None:
            kinds = node_types[type(self)] = processed(self)
        return kinds
    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed
    _install_structural_check_cache()


def _install_structural_check_cache() -> None:
    """An update expression's structural checks run once per expression, not per update.

    ActionCountValidator, OverlappingPathsValidator and UpdateHashRangeKeyValidator read only
    the parsed tree, the attribute names and the table's key attributes, and they run at every
    nested ``UpdateExpression`` node, so their cost grows with the square of the actions (an
    update of 17 actions spent most of its 140 ms there). The parsed tree is cached by its
    text (above), so once they have passed for (tree, names, keys), later validations of the
    same tree skip them; a failing check is never remembered, so it fails again as moto's."""
    from moto.dynamodb.parsing import validators

    structural = (validators.ActionCountValidator, validators.OverlappingPathsValidator,
                  validators.UpdateHashRangeKeyValidator)
    passed: dict[int, tuple[Any, set[Any]]] = {}
    init = validators.Validator.__init__

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        init(self, expression, *args, **kwargs)
        self.parsed_source = expression

    def validate(self: Any) -> Any:
        source = self.parsed_source
        key = (tuple(sorted((self.expression_attribute_names or {}).items())),
               tuple(map(str, self.table.table_key_attrs)))
        entry = passed.get(id(source))
        known = entry is not None and entry[0] is source and key in entry[1]
        node = self.node_to_validate
        for processor in self.processors:
            if not (known and isinstance(processor, structural)):
                node = processor.traverse(node)
        if not known:
            if len(passed) > 4096:
                passed.clear()
            if entry is None or entry[0] is not source:
                entry = passed[id(source)] = (source, set())
            entry[1].add(key)
        return node

    validators.Validator.__init__ = __init__
    validators.UpdateExpressionValidator.validate = validate
    validators.deepcopy = _copy_parsed


def _copy_parsed(value: Any, memo: Any = None) -> Any:
    """``copy.deepcopy`` for the validators module, with a direct path for a parsed tree.

    A parse tree is nodes holding ``type``, ``parent`` and a list of ``children`` (nodes or
    plain leaves); the generic deepcopy reconstructs each node through ``__reduce_ex__``,
    which cost a third of an update on moto. This copies the same graph node by node: the
    same classes and attributes, each child copied, each parent pointing into the copy."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if memo is not None or not isinstance(value, Node):
        return copy.deepcopy(value, memo)

    def clone(node: Any, parent: Any) -> Any:
        twin = object.__new__(type(node))
        for name, attribute in node.__dict__.items():
            if name not in ("children", "parent"):
                attribute = attribute if isinstance(attribute, (str, int, float, bool, type(None))) \
                    else copy.deepcopy(attribute)
            twin.__dict__[name] = attribute
        twin.parent = parent
        if node.children is not None:
            twin.children = [clone(child, twin) if isinstance(child, Node) else copy.deepcopy(child)
                             for child in node.children]
        return twin

    return clone(value, None if value.parent is None else copy.deepcopy(value.parent))


def install() -> None:
    """Idempotent: narrow moto's transaction snapshots and queries (once per process). Call it
    before ``moto_atomic`` wraps the backend in its lock."""
    global _installed
    if _installed:
        return
    import moto
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    _installed = True
    if moto.__version__ != MOTO_VERSION:
        warnings.warn(f"motcua.moto_scale is written for moto {MOTO_VERSION}, not {moto.__version__}: "
                      "moto's whole-table transactions and queries are left as they are", stacklevel=2)
        return
    DynamoDBBackend.transact_write_items = _item_level_rollback(DynamoDBBackend.transact_write_items)
    Table.query = _partition_query(Table.query)
    _install_sqs_and_events()
    _install_serializer()
    _install_caches()
