"""A case is a conversation (DESIGN.md "Conversations"): the customer's follow-ups reach it.

Pure: what a follow-up does to a case, by the case's state, with no store or clock of its own.
- `add_follow_up(case, follow_up, message_id, now)`: the follow-up's (already redacted) text is
  added to the conversation (capped, counted) and what it says about the team, the key and the
  request is merged into the case's report, so identification runs again over the whole
  conversation when the case runs next.
- `next_step(case, now)`: what the case does with the follow-ups no run has taken in yet:
  `wait` (a run is in flight: the follow-ups are taken in once it ends), `evidence` (staff
  decide: the message is in their evidence, nothing runs), `run` (the workflow runs again for
  the case: every follow-up on a case waiting for the customer, and a closed case the customer
  says still fails or that it works now), `noted` (nothing to run: a closed case's plain
  "thanks"), or `new_case` (closed more than 14 days ago).
- `says_it_works_now(case)`: the latest unanswered message says it works ("fixed", "never
  mind"): the run closes the case `already_working` (docs/conversations.md).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from unblock.domain.cases import Case, Message
from unblock.domain.models import Report
from unblock.domain.tickets.signals import read_signals

# DESIGN.md "Conversations": a needs_info case waits 14 days for the customer, and a case closed
# within 14 days runs again when the customer says it still fails; later, a new case.
REOPEN_WITHIN = timedelta(days=14)
MAX_MESSAGES = 30  # kept on the case (the count goes on); each message's text is capped as a report's
MAX_MESSAGE_CHARS = 4000
MAX_MERGED_FACTS = 20
MAX_SIGNALS = 20  # a report's signals are capped so (models.Report)

NextStep = Literal["wait", "evidence", "run", "noted", "new_case"]


# A closed case runs again when the customer says it still fails (a plain "thanks" runs nothing):
# a failure word, a status code or an error type, in the languages the tickets come in.
_STILL_FAILS = re.compile(
    r"(?i)\b(still|again|403|401|402|forbidden|denied|fail(s|ed|ing)?|error|not\s+working|doesn'?t\s+work|"
    r"broken|same\s+(problem|issue|error)|"
    r"immer\s+noch|nicht|fehler|todav[íi]a|sigue|no\s+funciona|toujours|erreur|ne\s+marche\s+pas|ainda|ancora)\b")


def still_fails(text: str) -> bool:
    return bool(_STILL_FAILS.search(text)) and not says_it_works(text)


# "works now", "fixed", "resolved", "never mind": the customer closes the case themselves
# (DESIGN.md "Conversations"). Read per sentence: a question ("is it fixed?"), a negation
# ("not fixed", "still not working") or a failure after it ("fixed the card, but now 401") is not one.
_WORKS = re.compile(
    r"(?i)\b(never\s*mind|nvm|(it\s+|that\s+|all\s+)?works?(\s+(fine|again|now|perfectly|great))+|"
    r"(it'?s|it\s+is|is|are|now)\s+working(\s+(fine|again|now))?|working\s+(again|now)|"
    r"(all\s+)?(fixed|resolved|solved|sorted)(\s+(it|now|out))*|all\s+(good|set)|figured\s+it\s+out|"
    r"go(es)?\s+through\s+(again|now)|back\s+to\s+normal|up\s+and\s+running|that\s+did\s+(it|the\s+trick)|"
    r"(you\s+)?can\s+close(\s+(this|it|the\s+ticket))?|no\s+longer\s+(need|an\s+issue|a\s+problem)|"
    # the same in the languages the tickets come in (de, es, fr, pt, it)
    r"funktioniert(\s+(jetzt|wieder))+|l[äa]uft\s+wieder|(hat\s+sich\s+)?erledigt|gel[öo]st|"
    r"(ya\s+)?funciona(\s+(ahora|de\s+nuevo|otra\s+vez))+|ya\s+funciona|resuelto|solucionado|"
    r"[çc]a\s+marche|fonctionne(\s+(maintenant|[àa]\s+nouveau|de\s+nouveau))+|r[ée]solu|"
    r"funcionou|est[áa]\s+funcionando|resolvido|funziona(\s+(ora|adesso|di\s+nuovo))+|risolto)\b")
_NOT = re.compile(r"(?i)\b(not|n[o']t|never(?!\s*mind)|no(?!\s+longer)|still|yet|hasn'?t|isn'?t|doesn'?t|wasn'?t|"
                  r"if|once|when|until|hope|hopefully|nicht|noch|pas|todav[íi]a|sigue|ainda|n[ãa]o|non|ancora)\b")
_THEN_FAILS = re.compile(
    r"(?i)\b(but|however|except|though)\b.*\b(\d{3}|error|fail\w*|denied|forbidden|broken|not\s+working)\b"
    r"|\b(still|again)\b.*\b(\d{3}|error|fail\w*|denied|forbidden)\b")


def says_it_works(text: str) -> bool:
    """The customer says it works now: a closing word in a sentence that is neither a question nor
    negated, and no failure said after it ("fixed the card, but now I get 401" still fails)."""
    if _THEN_FAILS.search(text):
        return False
    for sentence in re.split(r"(?<=[.!?\n])\s*", text):
        found = _WORKS.search(sentence)
        if not found or sentence.rstrip().endswith("?"):
            continue
        before = sentence[:found.start()]
        if not _NOT.search(before[-40:]) and not _NOT.search(found.group(0)):
            return True
    return False


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


def later_case_report(case: Case, follow_up: Report, case_id: str) -> Report:
    """The report a follow-up after the 14 days opens its new case with (`case_id`): the
    follow-up's own words, and the team the same requester gave on the earlier case, so they are
    never asked for it again (DESIGN.md "Conversations"). Their email is looked up by the help
    desk's adapter as for a new ticket (workflow.intake), so a member is verified again."""
    report = follow_up.model_copy(update={"case_id": case_id})
    if not same_requester(case.report, follow_up) or report.team_id or names_a_team(report):
        return report
    earlier = case.report
    return report.model_copy(update={
        "team_id": case.team_id, "team_hint": None if case.team_id else earlier.team_hint,
        "key_prefix": report.key_prefix or case.key_prefix,
        "facts": _merged(earlier.facts, report.facts) if not case.team_id else report.facts,
    })


def same_requester(earlier: Report, follow_up: Report) -> bool:
    """The follow-up's author is the case's requester, as far as the follow-up says who wrote: a
    help desk passes on only the requester's own messages (a comment by the ticket's
    requester, a forum post by the topic's author), so what it names must agree."""
    pairs = ((earlier.requester_email, follow_up.requester_email), (earlier.requested_by, follow_up.requested_by))
    return all(a.lower() == b.lower() for a, b in pairs if a and b)


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
    answering "which team?"); a secret pasted in it counts towards the rotation notice. A follow-up
    that shows an error says what fails now: its signals become the report's (what the next run
    decides and answers on) and the earlier ones are kept as `earlier_signals`."""
    report = case.report
    signals, earlier = list(report.signals), case.earlier_signals
    # the message's own words, not the ticket's subject ("Re: 403 Forbidden" repeats the first message)
    shown = read_signals("", follow_up.text)
    if shown:
        now_codes = {s.code for s in shown}
        before = [s for s in [*case.signals, *report.signals, *case.earlier_signals] if s.code not in now_codes]
        earlier = list({s.code: s for s in reversed(before)}.values())[::-1][:MAX_SIGNALS]
        signals = shown[:MAX_SIGNALS]
    merged = report.model_copy(update={
        "team_id": follow_up.team_id or report.team_id,
        "team_hint": follow_up.team_hint or report.team_hint,
        "key_prefix": follow_up.key_prefix or report.key_prefix,
        "requester_email": report.requester_email or follow_up.requester_email,
        "facts": _merged(report.facts, follow_up.facts),
        "secrets_redacted": report.secrets_redacted + follow_up.secrets_redacted,
        "signals": signals,
    })
    message = Message(id=message_id, author="customer", text=follow_up.text[:MAX_MESSAGE_CHARS],
                      at=follow_up.received_at or now,
                      channel="private" if private else "public")
    return case.model_copy(update={
        "report": merged, "follow_ups": case.follow_ups + 1, "earlier_signals": earlier,
        "conversation": [*case.conversation, message][-MAX_MESSAGES:],
        "last_customer_at": message.at,
    })


def unanswered(case: Case) -> list[Message]:
    """The customer's messages since unblock last replied (what the next reply answers), oldest first."""
    out: list[Message] = []
    for m in case.conversation:
        if m.author == "unblock":
            out = []
        elif m.author == "customer":
            out.append(m)
    return out


def says_it_works_now(case: Case) -> bool:
    """The customer's latest message, not yet answered, says it works now: the case closes
    `already_working` with a short thanks (DESIGN.md "Conversations")."""
    news = unanswered(case)
    return bool(news) and says_it_works(news[-1].text)


def unseen(case: Case) -> list[Message]:
    """The customer's follow-ups no run (nor staff's evidence) has taken in yet, oldest first."""
    count = case.follow_ups - case.seen_follow_ups
    if count <= 0:
        return []
    customer = [m for m in case.conversation if m.author == "customer" and m.id != "report"]
    return customer[-count:]


def next_step(case: Case, now: datetime) -> NextStep:
    """What the case does with its unseen follow-ups, by its state (DESIGN.md "Conversations").

    A case waiting for the customer runs again for every follow-up: a follow-up is read like a
    first message (a team named, a new error, "it works now", "any news?") and the run answers
    it. A closed case runs again when the customer says it still fails or shows an error."""
    if case.status in ("open", "deciding"):
        return "wait"  # a run is in flight (or staff's decision is resuming it): taken in once it ends
    if case.status == "awaiting_staff":
        return "evidence"
    if case.status == "awaiting_customer":
        return "run"
    # closed
    if now - (case.closed_at or case.updated_at) > REOPEN_WITHIN:
        return "new_case"
    if case.resolution == "shadow":
        return "run"  # a shadow run told the customer nothing: whatever they write runs it, in the stack's mode now
    news = unseen(case)
    if says_it_works_now(case):
        return "run"  # "works now": the run closes it already_working, with a short thanks
    if case.outcome == "needs_info" or case.team_id is None:
        return "run" if names_a_team(case.report) or shows_an_error(news) else "noted"
    return "run" if any(still_fails(m.text) for m in news) or shows_an_error(news) else "noted"


def new_signal_codes(case: Case) -> set[str]:
    """What the unanswered messages show that nothing earlier in the conversation showed."""
    news = unanswered(case)
    ids = {m.id for m in news}
    before = [read_signals(case.report.subject, case.report.text) if case.report.text else []]
    before += [read_signals("", m.text) for m in case.conversation if m.author == "customer" and m.id not in ids]
    seen = {s.code for signals in before for s in signals}
    return {s.code for m in news for s in read_signals("", m.text)} - seen


def shows_an_error(messages: list[Message]) -> bool:
    """A follow-up quotes something that fails (an error body, a status code): read it anew."""
    return any(read_signals("", m.text) for m in messages)


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
    """The ticket's or topic's own case for another requester's case in it ("same here":
    `/u/<username>`, or `/r/<hash of the email>` for a normalized follow-up), else None."""
    for mark in ("/u/", "/r/"):
        topic, sep, _ = case_id.partition(mark)
        if sep:
            return topic
    return None
