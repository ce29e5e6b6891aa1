"""What the CLI reads: JSON files within their limits, the sandbox seed, times and ports.

A bad input raises UsageError naming the problem; `unblock` prints it on one line and exits 2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from unblock.domain.platform_model import Seed
from unblock_dev.local.app import DEFAULT_SEED


class UsageError(Exception):
    """Bad input or a request that cannot be done: one line on stderr, exit status 2."""


def fail(message: str) -> NoReturn:
    raise UsageError(message)


def read_json(path: str, what: str) -> Any:
    """A JSON file within its limits (unblock.domain.limits: size and depth, checked before it is
    parsed; valid Unicode); anything else exits 2 naming the problem."""
    from unblock.domain.limits import (
        MAX_EVENT_FILE_BYTES,
        MAX_SEED_FILE_BYTES,
        InputRejected,
        check_json_text,
        check_json_value,
    )

    max_bytes = MAX_SEED_FILE_BYTES if what == "seed" else MAX_EVENT_FILE_BYTES
    try:
        with Path(path).open("rb") as file:
            raw = file.read(max_bytes + 1)  # no more than one byte past the limit is ever read
    except OSError as err:
        fail(f"cannot read {what} {path}: {err.strerror}")
    if len(raw) > max_bytes:
        fail(f"{what} {path} is larger than {max_bytes} bytes, the most accepted")
    try:
        check_json_text(raw, f"{what} {path}", max_bytes)
        data = json.loads(raw.decode("utf-8"))
        check_json_value(data, f"{what} {path}")
    except InputRejected as err:
        fail(str(err))
    except UnicodeDecodeError:
        fail(f"{what} {path} is not valid UTF-8")
    except json.JSONDecodeError as err:
        fail(f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}")
    return data


def load_seed(path: str | None) -> Seed:
    return seed_file(path)[0]


def seed_file(path: str | None) -> tuple[Seed, Any]:
    """The seed (default events/platform.json), validated, and its JSON as read (test secrets in clear,
    for the gateway and demo to show); a bad seed exits 2 naming the field."""
    source = path or str(DEFAULT_SEED)
    data = read_json(source, "seed")
    try:
        return Seed.model_validate(data), data
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        fail(f"seed {source}: {loc}: {first['msg']} ({err.error_count()} error(s))")


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        fail(f"--now {value!r} is not an ISO-8601 time")


def check_port(port: int) -> int:
    if not 0 <= port <= 65535:
        fail(f"--port {port} is not a port number")
    return port
