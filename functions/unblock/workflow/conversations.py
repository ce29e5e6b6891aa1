"""Follow-ups reach the case (DESIGN.md "Conversations"): take one in, and run the case again
when its state says so, one run at a time.

- `take_follow_up`: a follow-up (a redacted Report whose case id names the case) is added to
  the case with one conditional write; then `next_step` says what follows. A redelivered
  follow-up (same message id) adds nothing.
- `drain`: when a run ends (CloseCase, Escalate), the follow-ups that came while it ran are
  taken in: the case runs again if its new state says so. Together with `take_follow_up` this
  is what keeps a follow-up from being lost: it lands either before the run settled (the drain
  sees it) or after (it sees the settled case and acts itself).
- One run per case at a time: a run is claimed on the case (runs + 1, status `open`, the new
  execution's ARN) by a conditional write before it starts; whoever loses the write re-reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from unblock.domain import conversations
from unblock.domain.cases import Case
from unblock.domain.models import Report
from unblock.ports import CaseConflict, CaseStore, Clock, Workflow

Taken = Literal["no_case", "duplicate", "own_reply", "wait", "evidence", "run", "noted", "new_case"]
ATTEMPTS = 8


@dataclass
class FollowUpResult:
    action: Taken
    case_id: str
    execution_arn: str | None = None
    new_case: Report | None = None  # for "new_case": the report to start as a case of its own


def _chain(store: CaseStore, case_id: str) -> list[Case]:
    """The named case and the later cases it was followed by (after 14 days), oldest first."""
    chain: list[Case] = []
    case = store.get(case_id)
    while case is not None and len(chain) < 10:  # a chain of later cases is short; bounded all the same
        chain.append(case)
        case = store.get(case.next_case) if case.next_case else None
    return chain


def later_case_id(case_id: str) -> str:
    """The id of the new case a follow-up opens after the 14 days: `<desk>:4711~2`, `~3`, ..."""
    root, _, n = case_id.partition("~")
    return f"{root}~{int(n) + 1 if n.isdigit() else 2}"


def take_follow_up(store: CaseStore, workflow: Workflow, clock: Clock, follow_up: Report,
                   message_id: str, *, private: bool = False) -> FollowUpResult:
    for _ in range(ATTEMPTS):
        chain = _chain(store, follow_up.case_id)
        if not chain:
            return FollowUpResult("no_case", follow_up.case_id)
        case = chain[-1]  # the latest case of the ticket: where the follow-up goes
        if any(conversations.already_taken(c, message_id) for c in chain):
            return FollowUpResult("duplicate", case.case_id, case.execution_arn)
        if conversations.is_own_reply(case, follow_up.text):
            return FollowUpResult("own_reply", case.case_id, case.execution_arn)  # a loop: never a follow-up
        now = clock.now()
        if case.status == "closed" and case.closed_at is None:
            case = case.model_copy(update={"closed_at": case.updated_at})  # the window counts from closing
        updated = conversations.add_follow_up(case, follow_up, message_id, now, private=private)
        step = conversations.next_step(updated, now)
        try:
            if step == "new_case":
                new_id = later_case_id(case.case_id)
                report = conversations.later_case_report(case, follow_up, new_id)
                store.save(updated.model_copy(update={"next_case": new_id, "seen_follow_ups": updated.follow_ups,
                                                      "updated_at": case.updated_at}))
                return FollowUpResult("new_case", new_id, new_case=report)
            return _act(store, workflow, updated, step, now)
        except CaseConflict:
            continue  # the case moved on meanwhile (a run wrote it): read it again and decide anew
    raise CaseConflict(follow_up.case_id)


def drain(store: CaseStore, workflow: Workflow, clock: Clock, case_id: str) -> FollowUpResult | None:
    """After a run settled the case: the follow-ups that came while it ran, taken in now."""
    for _ in range(ATTEMPTS):
        case = store.get(case_id)
        if case is None or not conversations.unseen(case):
            return None
        now = clock.now()
        step = conversations.next_step(case, now)
        if step == "new_case":
            step = "noted"  # settled just now: never "later"
        try:
            return _act(store, workflow, case, step, now)
        except CaseConflict:
            continue
    raise CaseConflict(case_id)


def take_in(store: CaseStore, workflow: Workflow, case: Case, now: datetime) -> FollowUpResult:
    """A case whose follow-ups another path added (a team's ticket joining its proactive case), taken
    in as its state says; CaseConflict when the case moved on meanwhile."""
    step = conversations.next_step(case, now)
    return _act(store, workflow, case, "noted" if step == "new_case" else step, now)


def _act(store: CaseStore, workflow: Workflow, case: Case, step: conversations.NextStep, now: datetime
         ) -> FollowUpResult:
    if step == "wait":
        saved = store.save(case.model_copy(update={"updated_at": now}))
        return FollowUpResult("wait", saved.case_id, saved.execution_arn)
    if step == "run":
        return FollowUpResult("run", case.case_id, claim_run(store, workflow, case, now))
    # evidence (staff see it) and noted (nothing runs): the follow-ups are taken in as they are
    saved = store.save(case.model_copy(update={"seen_follow_ups": case.follow_ups, "updated_at": now}))
    return FollowUpResult("evidence" if step == "evidence" else "noted", saved.case_id, saved.execution_arn)


def claim_run(store: CaseStore, workflow: Workflow, case: Case, now: datetime) -> str:
    """Claim the case's next run (CaseConflict if another writer got there first), then start it."""
    arn = workflow.rerun_arn(case)
    claimed = store.save(case.model_copy(update={
        "runs": case.runs + 1, "status": "open", "execution_arn": arn, "seen_follow_ups": case.follow_ups,
        "task_token": None, "updated_at": now, "next_check_at": now + timedelta(minutes=15)}))
    workflow.rerun(claimed)
    return arn


def same_here_case_id(topic_case_id: str, username: str) -> str:
    """Another requester's case in a forum topic ("same here"): `<desk>:8812/u/<username>`,
    one per author and topic, so their next posts there find it (usernames as the forum compares them)."""
    return f"{topic_case_id}/u/{username.lower()}"


def other_requester_case_id(case_id: str, follow_up: Report) -> str:
    """Someone else's message on a ticket or topic ("same here"): their own case, by username when
    the message names one, else by a hash of their email (an address stays out of execution names)."""
    import hashlib

    if follow_up.requested_by:
        return same_here_case_id(case_id, follow_up.requested_by)
    digest = hashlib.sha256((follow_up.requester_email or "").lower().encode()).hexdigest()[:16]
    return f"{case_id}/r/{digest}"


def link_topic_case(store: CaseStore, topic_case_id: str, case_id: str, now: datetime) -> None:
    """Note another requester's case on the topic's case (the console shows a topic's cases
    together). Best effort: the link is a view, never a reason to lose the report."""
    for _ in range(ATTEMPTS):
        case = store.get(topic_case_id)
        if case is None or case_id in case.topic_cases:
            return
        try:
            store.save(case.model_copy(update={"topic_cases": [*case.topic_cases, case_id][-50:]}))
            return
        except CaseConflict:
            continue
