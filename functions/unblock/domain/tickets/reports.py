"""From a ticket (the normalized event) to a redacted Report: the only form that enters the workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from unblock.domain.models import Report
from unblock.domain.tickets.extract import extract, redact
from unblock.domain.tickets.ticket_event import TicketEvent

# The normalized event has no provider field: help-desk channels map to the help desk that
# serves them, so a Zendesk ticket 4711 is case "zendesk:4711" whichever way it arrived.
CASE_PREFIX = {"email": "zendesk", "web": "zendesk", "forum": "discourse", "api": "api"}

# DESIGN.md "Limits": a report (an execution's input) stays far below Step Functions' 256 KiB.
# Worst case: 8 lists x 20 facts x 200 chars + 4,000 + 1,000 + 4,000 characters of text,
# under 50 KiB even with JSON escaping; tests/unit/test_reports.py checks it at the limit.
MAX_TEXT_CHARS = 4000
MAX_SUBJECT_CHARS = 1000
MAX_FACTS = 20  # per list; how many there were is kept in facts["truncated"]
MAX_FACT_CHARS = 200


def report_from_ticket(event: TicketEvent, received_at: datetime, source: str = "eventbridge") -> Report:
    d = event.detail
    subject, n_subject = redact(d.subject or "")
    text, n_text = redact(d.text or "")
    facts = extract(subject, text)
    ticket_id = str(d.ticket_id)
    prefix = CASE_PREFIX.get(d.channel or "", "ticket")
    case_id = ticket_id if ":" in ticket_id else f"{prefix}:{ticket_id}"
    key_prefix, n_key = _prefix_only(d.key_prefix)
    return Report(
        case_id=case_id, source=source, ticket_id=ticket_id, channel=d.channel,
        requester_email=d.requester_email, requested_by=d.requester_username, subject=subject[:MAX_SUBJECT_CHARS],
        text=text[:MAX_TEXT_CHARS],
        team_id=d.team_id, team_hint=d.team_slug, key_prefix=key_prefix,
        facts=facts_dict(facts), secrets_redacted=n_subject + n_text + n_key, received_at=received_at,
    )


def redact_report(report: Report) -> Report:
    """A report written by hand (a staff start): staff type notes too, and paste keys into them."""
    note, n_note = redact(report.note or "")
    text, n_text = redact(report.text)
    subject, n_subject = redact(report.subject)
    key_prefix, n_key = _prefix_only(report.key_prefix)
    return report.model_copy(update={
        "note": note[:MAX_TEXT_CHARS] or None, "text": text[:MAX_TEXT_CHARS], "subject": subject[:MAX_SUBJECT_CHARS],
        "key_prefix": key_prefix, "facts": cap_facts(report.facts),
        "secrets_redacted": report.secrets_redacted + n_note + n_text + n_subject + n_key})


def _prefix_only(key_prefix: str | None) -> tuple[str | None, int]:
    """The key prefix field as a prefix: a whole key pasted there is cut down (and counted)."""
    if not key_prefix:
        return None, 0
    redacted, n = redact(key_prefix)
    if not n:
        return key_prefix, 0
    prefixes = extract("", redacted).key_prefixes
    return (prefixes[0] if prefixes else None), n


def facts_dict(facts: Any) -> dict[str, list[str]]:
    data = facts.model_dump() if hasattr(facts, "model_dump") else dict(vars(facts))
    return cap_facts({k: [str(x) for x in v] for k, v in data.items() if isinstance(v, list | tuple) and v})


def cap_facts(facts: dict[str, list[str]]) -> dict[str, list[str]]:
    """At most MAX_FACTS facts per list, each at most MAX_FACT_CHARS; a capped list's count is
    kept in `truncated` ("key_prefixes: 20 of 412")."""
    out: dict[str, list[str]] = {}
    truncated = [t for t in facts.get("truncated", [])][:MAX_FACTS]
    for name, values in facts.items():
        if name == "truncated":
            continue
        out[name] = [v[:MAX_FACT_CHARS] for v in values[:MAX_FACTS]]
        if len(values) > MAX_FACTS:
            truncated.append(f"{name}: {MAX_FACTS} of {len(values)}")
    if truncated:
        out["truncated"] = truncated
    return out
