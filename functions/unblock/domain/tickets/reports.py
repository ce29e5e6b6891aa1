"""From a ticket (the normalized event) to a redacted Report: the only form that enters the workflow.

Every free field is redacted on the way in, not only the text: a customer (or a help-desk macro, or
a staff member) can paste a key into any of them, and each one reaches the case record and the
execution history. Free text keeps its redaction marker in place (`vck_3f9a12ab…[REDACTED]`); an
identifier that held a secret is no identifier: a team hint, an email or a username is dropped (it
would only be looked up, or written to), a key prefix is cut to its prefix, and a ticket or case id
keeps the marker (it must still name the case). Every secret found counts towards `secrets_redacted`,
so the reply tells the customer to rotate it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from unblock.domain.models import Report
from unblock.domain.tickets.facts import extract
from unblock.domain.tickets.redaction import redact, redact_json
from unblock.domain.tickets.signals import read_signals
from unblock.domain.tickets.ticket_event import TicketEvent

# A case's namespace is the help desk that produced the ticket (DESIGN.md "Triggers"), never its
# channel: a desk's ticket is "<desk>:4711" however it reached the desk (web form, e-mail, its
# API), and a normalized event from the stack's bus, which no help desk produced, is "ticket:4711",
# a namespace no help desk's ids can reach (its ticket id is never taken as a case id, even with a
# ":" in it).
PRODUCERLESS_NAMESPACE = "ticket"


def case_id_for(source: str, ticket_id: str) -> str:
    """The case id of ticket `ticket_id` produced by `source` (a Report's `source`): a help desk's
    own namespace (its registry name), else the producerless one."""
    from unblock.domain import helpdesks  # the registry's desks import this package: asked when first used

    desk = helpdesks.find(source)
    return f"{desk.name if desk else PRODUCERLESS_NAMESPACE}:{ticket_id}"


# DESIGN.md "Limits": a report (an execution's input) stays far below Step Functions' 256 KiB.
# Worst case: 8 lists x 20 facts x 200 chars + 4,000 + 1,000 + 4,000 characters of text,
# under 50 KiB even with JSON escaping; tests/unit/test_reports.py checks it at the limit.
MAX_TEXT_CHARS = 4000
MAX_SUBJECT_CHARS = 1000
MAX_FACTS = 20  # per list; how many there were is kept in facts["truncated"]
MAX_FACT_CHARS = 200


class _Count:
    """Redacts field by field and counts what it found."""

    def __init__(self) -> None:
        self.found = 0

    def text(self, value: str | None) -> str:
        redacted, n = redact(value or "")
        self.found += n
        return redacted

    def marked(self, value: str | None) -> str | None:
        """An id that must stay (a ticket or case id): the marker replaces what was secret."""
        return None if value is None else self.text(value)

    def identifier(self, value: str | None) -> str | None:
        """An id that is only looked up or written to (team hint, email, username): gone if it held a secret."""
        if not value:
            return value
        redacted, n = redact(value)
        self.found += n
        return None if n else value

    def key_prefix(self, value: str | None) -> str | None:
        prefix, n = _prefix_only(value)
        self.found += n
        return prefix

    def facts(self, facts: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: [self.text(v) for v in values] for name, values in facts.items()}


def report_from_ticket(event: TicketEvent, received_at: datetime, source: str = "eventbridge") -> Report:
    d = event.detail
    count = _Count()
    subject, text = count.text(d.subject), count.text(d.text)
    facts = extract(subject, text)
    ticket_id = count.text(str(d.ticket_id))
    case_id = case_id_for(source, ticket_id)
    slug = count.identifier(d.team_slug)
    return Report(
        case_id=case_id, source=source, ticket_id=ticket_id, channel=d.channel,
        requester_email=count.identifier(d.requester_email), requested_by=count.identifier(d.requester_username),
        subject=subject[:MAX_SUBJECT_CHARS], text=text[:MAX_TEXT_CHARS], team_id=d.team_id,
        team_hint=slug.lower() if slug else None, key_prefix=count.key_prefix(d.key_prefix), facts=facts_dict(facts),
        secrets_redacted=count.found, received_at=received_at, signals=read_signals(subject, text),
    )


def redact_report(report: Report) -> Report:
    """A report written by hand (a staff start, or StartExecution input): staff type notes too, and
    paste keys into them; every free field is redacted as a ticket's is."""
    count = _Count()
    update: dict[str, Any] = {
        "case_id": count.text(report.case_id), "ticket_id": count.marked(report.ticket_id),
        "channel": count.marked(report.channel), "requested_by": count.identifier(report.requested_by),
        "requester_email": count.identifier(report.requester_email),
        "subject": count.text(report.subject)[:MAX_SUBJECT_CHARS],
        "text": count.text(report.text)[:MAX_TEXT_CHARS], "team_id": count.identifier(report.team_id),
        "team_hint": count.identifier(report.team_hint), "key_prefix": count.key_prefix(report.key_prefix),
        "note": count.text(report.note)[:MAX_TEXT_CHARS] or None, "facts": cap_facts(count.facts(report.facts)),
        "signals": [s.model_copy(update={"snippet": count.text(s.snippet)}) for s in report.signals],
    }
    return report.model_copy(update={**update, "secrets_redacted": report.secrets_redacted + count.found})


def redact_decision(value: Any) -> Any:
    """A staff decision on its way to Step Functions (SendTaskSuccess output, SendTaskFailure cause):
    every string in it redacted. A note or an actor typed by staff lands in the execution history."""
    return redact_json(value)[0]


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
