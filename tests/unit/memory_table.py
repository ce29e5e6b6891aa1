"""An in-memory stand-in for the one DynamoDB table the sandbox platform keeps its teams in.

Domain and property tests run the real SandboxPlatform (its own team transforms, pointers, version
check and fix markers) over this, not over moto: a generated example costs microseconds instead of
a mock's HTTP round trips. It answers exactly the calls SandboxPlatform makes, with DynamoDB's
shapes (numbers come back as Decimal, a failed condition is ConditionalCheckFailedException), and
refuses any other expression by name: an adapter change that needs more is tested on moto
(the `dynamodb_table` fixture), where DynamoDB's own semantics are the subject.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

_BEGINS_WITH = re.compile(r"begins_with\(pk, (:\w+)\)")
_VERSION_IS = re.compile(r"version = (:\w+)")


def _stored(value: Any) -> Any:
    """As DynamoDB keeps it: numbers are Decimal."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


class MemoryTable:
    """Partition key `pk` only, as the sandbox platform's table."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get_item(self, *, Key: dict[str, Any], ConsistentRead: bool = False) -> dict[str, Any]:  # noqa: N803
        item = self.items.get(Key["pk"])
        return {"Item": copy.deepcopy(item)} if item is not None else {}

    def put_item(self, *, Item: dict[str, Any], ConditionExpression: str | None = None,  # noqa: N803
                 ExpressionAttributeValues: dict[str, Any] | None = None) -> dict[str, Any]:
        if ConditionExpression is not None:
            match = _VERSION_IS.fullmatch(ConditionExpression)
            if match is None:
                raise NotImplementedError(f"MemoryTable: condition {ConditionExpression!r} (test it on moto)")
            current = self.items.get(Item["pk"])
            wanted = _stored((ExpressionAttributeValues or {})[match.group(1)])
            if current is None or current.get("version") != wanted:
                raise ClientError({"Error": {"Code": "ConditionalCheckFailedException",
                                             "Message": "The conditional request failed"}}, "PutItem")
        self.items[Item["pk"]] = _stored(copy.deepcopy(Item))
        return {}

    def scan(self, *, FilterExpression: str, ExpressionAttributeValues: dict[str, Any],  # noqa: N803
             ExclusiveStartKey: dict[str, Any] | None = None) -> dict[str, Any]:
        match = _BEGINS_WITH.fullmatch(FilterExpression)
        if match is None:
            raise NotImplementedError(f"MemoryTable: filter {FilterExpression!r} (test it on moto)")
        prefix = ExpressionAttributeValues[match.group(1)]
        return {"Items": [copy.deepcopy(i) for pk, i in sorted(self.items.items()) if pk.startswith(prefix)]}

    @contextmanager
    def batch_writer(self, overwrite_by_pkeys: list[str] | None = None) -> Iterator[MemoryTable]:
        yield self

    def delete(self) -> None:
        self.items.clear()
