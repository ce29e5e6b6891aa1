"""Helpers shared by the test suites."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


def load_event(name: str, *, unique: bool = True) -> dict[str, Any]:
    """A sample event; by default with a fresh ticket or case id, so each test opens its own case."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    if unique:
        if "detail" in data:  # help-desk ticket ids are numbers
            data["detail"]["ticket_id"] += str(uuid.uuid4().int)[:8]
        elif "report" in data:
            data["report"]["case_id"] += f"-{uuid.uuid4().hex[:8]}"
    return data
