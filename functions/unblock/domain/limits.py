"""The limits of every input the stack accepts (DESIGN.md "Limits"): a size, a nesting depth,
and a clear error past either. The numbers live here and nowhere else; docs/reliability.md
lists them with the entry each one guards.

| entry                                              | size                      | depth          |
|----------------------------------------------------|---------------------------|----------------|
| help-desk webhook body (WebhookFunction)           | MAX_WEBHOOK_BODY_BYTES    | MAX_JSON_DEPTH |
| ticket event, staff start, replay (IntakeFunction) | MAX_EVENT_BYTES           | MAX_JSON_DEPTH |
| denial signal, its replay (SignalsFunction)        | MAX_EVENT_BYTES           | MAX_JSON_DEPTH |
| execution input (the redacted Report)              | MAX_EXECUTION_INPUT_BYTES | -              |
| `unblock run EVENT` file                           | MAX_EVENT_FILE_BYTES      | MAX_JSON_DEPTH |
| `unblock run --platform SEED` file                 | MAX_SEED_FILE_BYTES       | MAX_JSON_DEPTH |

Inside a ticket, its text is at most MAX_TEXT_BYTES and its subject MAX_SUBJECT_CHARS.
A string must also be valid Unicode: a lone surrogate (`"\\ud800"` in JSON) is refused by
name, since nothing downstream (UTF-8, SQS, Step Functions) can carry it.

Pure, and safe on any input: `check_json_text` measures raw JSON before it is parsed (so no
parser ever meets a nesting deeper than MAX_JSON_DEPTH), and `check_json_value` walks a value
already parsed without recursion.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_EVENT_FILE_BYTES",
    "MAX_EXECUTION_INPUT_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_SEED_FILE_BYTES",
    "MAX_SUBJECT_CHARS",
    "MAX_TEXT_BYTES",
    "MAX_WEBHOOK_BODY_BYTES",
    "InputRejected",
    "check_json_text",
    "check_json_value",
    "check_size",
    "json_depth",
]

KIB: Final = 1024
MIB: Final = 1024 * KIB

MAX_JSON_DEPTH: Final = 32  # objects and arrays inside each other; the samples nest 6 at most
MAX_WEBHOOK_BODY_BYTES: Final = 1 * MIB  # 413 before the signature is checked, and not kept
MAX_EVENT_BYTES: Final = 256 * KIB  # EventBridge's own limit for an event
MAX_EXECUTION_INPUT_BYTES: Final = 256 * KIB  # Step Functions' limit for StartExecution's input
MAX_TEXT_BYTES: Final = 256 * KIB  # a ticket's text (a webhook's is clipped to it, with a mark)
MAX_SUBJECT_CHARS: Final = 1000
MAX_EVENT_FILE_BYTES: Final = 2 * MIB  # a webhook sample holds a body of up to 1 MiB, and its headers
MAX_SEED_FILE_BYTES: Final = 8 * MIB  # events/platform.json is 14 KB


class InputRejected(ValueError):
    """An input past a limit, or not valid Unicode; the message says which, and where."""


def _size(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n // KIB} KiB" if n % KIB == 0 else f"{n} bytes"


def check_size(n_bytes: int, what: str, max_bytes: int) -> None:
    if n_bytes > max_bytes:
        raise InputRejected(f"{what} is {n_bytes} bytes; at most {max_bytes} ({_size(max_bytes)}) are accepted")


# A complete JSON string (skipped whole: brackets inside strings do not nest), or one bracket.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def json_depth(raw: bytes, stop_after: int = MAX_JSON_DEPTH) -> int:
    """How deep the arrays and objects of raw JSON nest, counted without parsing it; the count
    stops once it passes `stop_after`. Malformed JSON gets a count too (the parser names its fault)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        first = raw[match.start()]
        if first in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_after:
                    break
        elif first in _CLOSE:
            depth = max(depth - 1, 0)
    return deepest


def check_json_text(raw: bytes, what: str, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise InputRejected when raw JSON is larger than `max_bytes` or nests deeper than `max_depth`."""
    check_size(len(raw), what, max_bytes)
    if json_depth(raw, max_depth) > max_depth:
        raise InputRejected(f"{what} nests deeper than {max_depth} levels")


def _where(path: tuple[str, ...]) -> str:
    return ".".join(path) if path else "the value itself"


def _lone_surrogate(text: str) -> int | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return ord(text[err.start])
    return None


def _name(key: object) -> str:
    """A key as a path part: printable ASCII, at most 40 characters (a path goes into messages)."""
    text = str(key)
    return text[:40] if text.isascii() and text.isprintable() else ascii(text)[1:41]


def check_json_value(value: Any, what: str, max_bytes: int | None = None, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise InputRejected when a parsed JSON value nests deeper than `max_depth`, holds a string
    (or key) that is not valid Unicode, or (with `max_bytes`) is larger as compact UTF-8 JSON."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if (point := _lone_surrogate(item)) is not None:
                raise InputRejected(f"{what} is not valid Unicode: {_where(path)} holds a lone surrogate "
                                    f"(U+{point:04X})")
        elif isinstance(item, dict | list):
            if depth + 1 > max_depth:
                raise InputRejected(f"{what} nests deeper than {max_depth} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and (point := _lone_surrogate(key)) is not None:
                    where = f"a key in {_where(path)}" if path else "a top-level key"
                    raise InputRejected(f"{what} is not valid Unicode: {where} holds a lone surrogate "
                                        f"(U+{point:04X})")
                stack.append((child, depth + 1, (*path, _name(key))))
    if max_bytes is not None:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
        check_size(len(encoded), what, max_bytes)
