"""The limits of every input (unblock.domain.limits): measured without recursion, named when passed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from unblock.domain import limits
from unblock.domain.limits import InputRejected, check_json_text, check_json_value, json_depth
from unblock.domain.tickets import ticket_event, webhooks


def _nested(depth: int, leaf: Any = 1) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def test_the_limits_are_the_ones_each_entry_uses() -> None:
    assert webhooks.MAX_BODY_BYTES == limits.MAX_WEBHOOK_BODY_BYTES == 1024 * 1024
    assert ticket_event.MAX_TEXT_BYTES == limits.MAX_TEXT_BYTES
    assert limits.MAX_EVENT_BYTES == limits.MAX_EXECUTION_INPUT_BYTES == 256 * 1024
    assert limits.MAX_JSON_DEPTH == 32


@pytest.mark.parametrize(("raw", "depth"), [
    (b"1", 0), (b"[]", 1), (b'{"a": {"b": [1, {}]}}', 4),
    (b'{"a": "[[[{{{"}', 1),  # brackets in a string do not nest
    (b'{"a": "\\"[[[", "b": ["\\\\", []]}', 3),  # nor after an escaped quote; an escaped backslash ends
    (b"[[[]]] [[]]", 3),
])
def test_json_depth_counts_nesting_without_parsing(raw: bytes, depth: int) -> None:
    assert json_depth(raw) == depth


def test_json_depth_stops_counting_past_the_limit() -> None:
    assert json_depth(b"[" * 5_000_000, stop_after=32) == 33


def test_raw_json_past_a_limit_is_named() -> None:
    check_json_text(b"[" * 32 + b"]" * 32, "body", 100)
    with pytest.raises(InputRejected, match="^body nests deeper than 32 levels$"):
        check_json_text(b"[" * 33 + b"]" * 33, "body", 100)
    with pytest.raises(InputRejected, match=r"^seed is 101 bytes; at most 100 \(100 bytes\) are accepted$"):
        check_json_text(b" " * 101, "seed", 100)
    with pytest.raises(InputRejected, match=r"at most 1048576 \(1 MiB\)"):
        check_json_text(b" " * (1024 * 1024 + 1), "body", 1024 * 1024)


def test_a_parsed_value_is_walked_without_recursion() -> None:
    check_json_value(_nested(32), "event")
    with pytest.raises(InputRejected, match="^event nests deeper than 32 levels$"):
        check_json_value(_nested(33), "event")
    with pytest.raises(InputRejected, match="nests deeper"):
        check_json_value(_nested(100_000), "event")  # far past Python's recursion limit


@pytest.mark.parametrize(("value", "where"), [
    ("\ud800", "the value itself holds a lone surrogate (U+D800)"),
    ({"detail": {"text": ["ok", "a\udfffb"]}}, "detail.text.1 holds a lone surrogate (U+DFFF)"),
    ({"detail": {"\udc80": 1}}, "a key in detail holds a lone surrogate (U+DC80)"),
    ({"\ud83d": 1}, "a top-level key holds a lone surrogate (U+D83D)"),
])
def test_a_lone_surrogate_is_named_with_where_it_is(value: Any, where: str) -> None:
    with pytest.raises(InputRejected) as refused:
        check_json_value(value, "event")
    assert str(refused.value) == f"event is not valid Unicode: {where}"
    json.dumps(str(refused.value)).encode("utf-8")  # the message itself is safe to log and keep


def test_valid_unicode_passes_and_the_size_is_utf8_json() -> None:
    check_json_value({"text": "Grüße \U0001f600 \u2019"}, "event", max_bytes=40)
    with pytest.raises(InputRejected, match="event is 41 bytes; at most 40"):
        check_json_value({"text": "x" * 30}, "event", max_bytes=40)
