"""A case is a conversation (DESIGN.md "Conversations"): the customer's follow-ups reach it.

Pure: what a follow-up does to a case, by the case's state, with no store or clock of its own.
- `add_follow_up(case, follow_up, message_id, now)`: the follow-up's (already redacted) text is
  added to the conversation (capped, counted) and what it says about the team, the key and the
  request is merged into the case's report, so identification runs again over the whole
  conversation when the case runs next.
- `next_step(case, now)`: what the case does with the follow-ups no run has taken in yet:
  `wait` (a run is in flight: the follow-ups are taken in once it ends), `evidence` (staff
  decide: the message is in their evidence, nothing runs), `run` (the workflow runs again for
  the case), `noted` (nothing to run: the customer's answer does not name a team yet, or a
  closed case's "thanks"), or `new_case` (closed more than 14 days ago).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from unblock.domain.cases import Case, Message
from unblock.domain.models import Report

# DESIGN.md "Conversations": a needs_info case waits 14 days for the customer, and a case closed
# within 14 days runs again when the customer says it still fails; later, a new case.
REOPEN_WITHIN = timedelta(days=14)
MAX_MESSAGES = 30  # kept on the case (the count goes on); each message's text is capped as a report's
MAX_MESSAGE_CHARS = 4000
MAX_MERGED_FACTS = 20

NextStep = Literal["wait", "evidence", "run", "noted", "new_case"]


# A closed case runs again only when the customer says it still fails (a "thanks, works now"
# reruns nothing): a failure word, a status code or an error type.
_STILL_FAILS = re.compile(
    r"(?i)\b(still|again|403|401|402|forbidden|denied|fail(s|ed|ing)?|error|not\s+working|doesn'?t\s+work|"
    r"broken|same\s+(problem|issue|error))\b")


def still_fails(text: str) -> bool:
    return bool(_STILL_FAILS.search(text))


def names_a_team(report: Report) -> bool:
    """The conversation gives something identification can find a team by (other than the
    requester's email, which it already tried): a team id, a slug, a request or generation id."""
    facts = report.facts
    return bool(report.team_id or report.team_hint or facts.get("team_ids") or facts.get("team_slugs")
                or facts.get("request_ids") or facts.get("generation_ids"))


def _merged(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    """The later message's facts first (a customer's correction wins identification), capped."""
    out: dict[str, list[str]] = {}
    for name in [*new, *(n for n in old if n not in new)]:
        if name == "truncated":
            continue
        values = list(dict.fromkeys([*new.get(name, []), *old.get(name, [])]))
        out[name] = values[:MAX_MERGED_FACTS]
    return out


def already_taken(case: Case, message_id: str) -> bool:
    return any(m.id == message_id for m in case.conversation)


def _plain(text: str) -> str:
    return " ".join(text.split())


def is_own_reply(case: Case, text: str) -> bool:
    """The text is one of unblock's own replies or notes coming back (a help desk echoing what
    unblock posted, a forwarded reply): never a follow-up."""
    said = _plain(text)
    if not said:
        return False
    own = [m.text for m in case.conversation if m.author == "unblock"]
    own += [t for t in (case.customer_reply, case.private_reply, case.internal_note) if t]
    return any(_plain(t) == said for t in own)


def add_follow_up(case: Case, follow_up: Report, message_id: str, now: datetime, *, private: bool = False) -> Case:
    """The case with the customer's follow-up in its conversation and its facts in the report.

    An explicit team id, slug or key prefix in the follow-up replaces the report's (the customer
    answering "which team?"); a secret pasted in it counts towards the rotation notice."""
    report = case.report
    merged = report.model_copy(update={
        "team_id": follow_up.team_id or report.team_id,
        "team_hint": follow_up.team_hint or report.team_hint,
        "key_prefix": follow_up.key_prefix or report.key_prefix,
        "requester_email": report.requester_email or follow_up.requester_email,
        "facts": _merged(report.facts, follow_up.facts),
        "secrets_redacted": report.secrets_redacted + follow_up.secrets_redacted,
    })
    message = Message(id=message_id, author="customer", text=follow_up.text[:MAX_MESSAGE_CHARS],
                      at=follow_up.received_at or now,
                      channel="private" if private else "public")
    return case.model_copy(update={
        "report": merged, "follow_ups": case.follow_ups + 1,
        "conversation": [*case.conversation, message][-MAX_MESSAGES:],
        "last_customer_at": message.at,
    })


def unseen(case: Case) -> list[Message]:
    """The customer's follow-ups no run (nor staff's evidence) has taken in yet, oldest first."""
    count = case.follow_ups - case.seen_follow_ups
    if count <= 0:
        return []
    customer = [m for m in case.conversation if m.author == "customer" and m.id != "report"]
    return customer[-count:]


def next_step(case: Case, now: datetime) -> NextStep:
    """What the case does with its unseen follow-ups, by its state (DESIGN.md "Conversations")."""
    if case.status in ("open", "deciding"):
        return "wait"  # a run is in flight (or staff's decision is resuming it): taken in once it ends
    if case.status == "awaiting_staff":
        return "evidence"
    if case.status == "awaiting_customer":
        if case.outcome == "needs_info" or case.team_id is None:
            return "run" if names_a_team(case.report) else "noted"
        return "run"  # customer_action: the customer says they did the step
    # closed
    if now - (case.closed_at or case.updated_at) > REOPEN_WITHIN:
        return "new_case"
    if case.resolution == "shadow":
        return "run"  # a shadow run told the customer nothing: whatever they write runs it, in the stack's mode now
    if case.outcome == "needs_info" or case.team_id is None:
        return "run" if names_a_team(case.report) else "noted"
    return "run" if any(still_fails(m.text) for m in unseen(case)) else "noted"


def waiting_since(case: Case) -> datetime:
    """When the case began waiting for the customer: its creation, or their last message."""
    return max(case.created_at, case.last_customer_at or case.created_at)


def conversation_view(case: Case) -> list[Message]:
    """The whole conversation in order, as staff read it: the report, the customer's follow-ups,
    unblock's replies (public and private), staff's decisions with their notes. Redacted: the
    report and follow-ups were on the way in; staff's notes are here too."""
    from unblock.domain.tickets.redaction import redact

    report = case.report
    opened = Message(id="report", author="customer", text=report.text or report.note or "",
                     at=report.received_at or case.created_at)
    staff = [Message(id=f"staff:{n}", author="staff", at=d.decided_at,
                     text=redact(f"{d.decision} by {d.actor}" + (f": {d.note}" if d.note else ""))[0])
             for n, d in enumerate(case.decisions)]
    # at equal times unblock's reply comes after what it answers (a staff decision, a message)
    rank = {"customer": 0, "staff": 1, "unblock": 2}
    return sorted([opened, *case.conversation, *staff], key=lambda m: (m.at, rank[m.author]))


def topic_case_of(case_id: str) -> str | None:
    """The forum topic's own case for another requester's case in it ("same here"), else None."""
    topic, sep, _ = case_id.partition("/u/")
    return topic if sep else None
