"""The workflow's steps as plain functions: each state of the state machine calls one.

They take their platform, store, queue and clock as arguments and know nothing of Lambda
or Step Functions; the handlers in unblock.handlers parse events and call these.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from unblock.domain import checks, conversation_replies, conversations, replies
from unblock.domain.cases import Case, Message
from unblock.domain.decision import decide, verdict
from unblock.domain.fixes import FixPolicy, apply_fixes, proposed_fixes
from unblock.domain.identification import identify, requester_verified
from unblock.domain.models import (
    CHECKS,
    CaseStatus,
    Escalation,
    Finding,
    FixName,
    FixRecord,
    Mode,
    NextStep,
    Outcome,
    ProbeResult,
    Report,
    ShadowRun,
    Signal,
)
from unblock.domain.modes import run_modes
from unblock.domain.platform_model import RequestRecord
from unblock.domain.tickets.signals import from_request_log, only_asks
from unblock.ports import (
    CaseConflict,
    CaseNotFound,
    CaseStore,
    Clock,
    FixLedger,
    HumanQueue,
    Outbox,
    Platform,
    ProactiveCases,
    Workflow,
)

RECHECK_FIRST = timedelta(minutes=15)
EVIDENCE_MESSAGES = 10  # the conversation's last messages in the evidence bundle (an SQS message: < 256 KiB)


def send_reply(outbox: Outbox, case: Case) -> bool:
    """Queue the case's reply (and internal note) for its help desk; False when it has none.

    The reply is already kept on the case; the queue retries delivery and its DLQ keeps
    what never got through, so a reply is never lost.
    """
    from unblock.domain.replies import reply_for

    reply = reply_for(case, f"{case.case_id}:{case.version}")
    if reply is None:
        return False
    outbox.send(reply)
    return True


def open_case(platform: Platform, store: CaseStore, clock: Clock, report: Report,
              execution_arn: str | None = None, proactive: ProactiveCases | None = None,
              mode: Mode = "live", workflow: Workflow | None = None) -> Case:
    """Open the case for a report; a redelivered report finds the case already open. A ticket of a
    team with an open proactive case joins it (`proactive`, DESIGN.md "Proactive cases"). `mode` is
    the stack's mode as this run starts: a later run of the case takes it too, whatever mode the case
    was opened in (DESIGN.md "Modes"). An open proactive case is joined through `workflow`."""
    found = identify(platform, report)
    team, record = found.team, found.request
    now = clock.now()
    key_prefix = report.key_prefix or next(iter(report.facts.get("key_prefixes", [])), None)
    if key_prefix is None and record is not None and team is not None:
        key_prefix = record.key_prefix
    # an open case is due for a re-check too: should its execution die, the re-check runs it again
    case = Case(case_id=report.case_id, report=report, team_id=team.team_id if team else None,
                requester_verified=requester_verified(report, team), key_prefix=key_prefix,
                signals=case_signals(report, record), request=record, identified_by=found.how,
                endpoint=_called(report.facts.get("endpoints")) or (record.endpoint if record else None),
                model=_first(report.facts.get("models")) or (record.model if record else None),
                created_at=now, updated_at=now, execution_arn=execution_arn,
                next_check_at=now + RECHECK_FIRST, mode=mode, modes=[mode],
                # nobody wrote a proactive case: the team's owner is who is told
                notify_email=team.owner_email if team is not None and report.source == "gateway" else None)
    if report.source == "gateway" and case.team_id is not None:
        from unblock.workflow.proactive import open_cases_of_team

        # the team wrote first: its own case tells the story, the owner gets no second ticket
        if own := open_cases_of_team(store, case.team_id, case.case_id, now):
            case = case.model_copy(update={"notify_email": None, "joined_tickets": own})
    if proactive is not None and workflow is not None and report.source != "gateway" \
            and store.get(report.case_id) is None:
        from unblock.workflow.proactive import join_open_case

        # the team's proactive case is open: the ticket joins it (one case, one story); the ticket's
        # own record only names it, and its execution ends (TeamKnown)
        if (joined := join_open_case(proactive, store, workflow, clock, case)) is not None:
            case = case.model_copy(update={"joined_into": joined, "status": "closed", "closed_at": now,
                                           "next_check_at": None})
    if store.create(case):
        if proactive is not None and case.joined_into is None:
            from unblock.workflow.proactive import join_ticket

            case = join_ticket(proactive, store, clock, case)
        return case
    existing = _get(store, report.case_id)
    if existing.runs > 1 and execution_arn and existing.execution_arn == execution_arn:
        return _begin_run(platform, store, clock, existing, mode)
    return existing


def _begin_run(platform: Platform, store: CaseStore, clock: Clock, case: Case, mode: Mode) -> Case:
    """A later run of the case (a follow-up's, a re-check's): identification runs again over the
    whole conversation (the case's report holds every follow-up's facts), and what the last run
    concluded is cleared, so this run decides afresh, in the stack's mode now (`mode`). The fix
    audit, staff's decisions and a shadow run's verdict stay.
    A requester stays verified only for the team they were verified for."""
    report = case.report
    found = identify(platform, report)
    team, record = found.team, found.request or case.request
    team_id = team.team_id if team else None
    verified = requester_verified(report, team) or (case.requester_verified and team_id == case.team_id)
    key_prefix = report.key_prefix or next(iter(report.facts.get("key_prefixes", [])), None)
    if key_prefix is None and record is not None and team is not None and record.team_id == team_id:
        key_prefix = record.key_prefix
    if record is not None and record.team_id != team_id:
        record = None  # another team's record is never this case's evidence
    # once a follow-up showed what fails now, the request log's record (an earlier message's request)
    # is evidence, not the signal this run answers (DESIGN.md "Conversations")
    latest_says = conversations.shows_an_error([m for m in case.conversation if m.author == "customer"])
    signals = case_signals(report, None if latest_says else record)
    return _update(store, clock, case, team_id=team_id, requester_verified=verified, key_prefix=key_prefix,
                   signals=signals, request=record, identified_by=found.how,
                   endpoint=_called(report.facts.get("endpoints")) or (record.endpoint if record else case.endpoint),
                   model=_first(report.facts.get("models")) or (record.model if record else case.model),
                   seen_follow_ups=lambda c: c.follow_ups, findings=[], plan=None, verification=None, escalation=None,
                   outcome=None, resolution=None, customer_reply=None, private_reply=None, internal_note=None,
                   task_token=None, closed_at=None, status="open", mode=mode,
                   modes=lambda c: run_modes(c.modes, c.runs, mode, earlier=c.modes[-1] if c.modes else c.mode))


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


# Endpoints customers name as the ones that still work ("/v1/models answers 200, /v1/chat/completions
# 403"): the probe asks the call that fails, so these come last.
_LISTINGS = ("/v1/models", "/v1/credits")


def _called(endpoints: list[str] | None) -> str | None:
    ordered = sorted(endpoints or [], key=lambda e: e in _LISTINGS)
    return ordered[0] if ordered else None


def case_signals(report: Report, record: RequestRecord | None) -> list[Signal]:
    """The ticket's signals, then the request log's (the stronger evidence: what the gateway itself
    answered to the request the ticket names)."""
    signals = list(report.signals)
    code = from_request_log(record.status, record.error_type, record.message) if record else None
    if record is not None and code and code not in {s.code for s in signals}:
        where = " ".join(v for v in (record.endpoint, record.model) if v)
        snippet = f"request {record.request_id}: {record.status} {record.error_type or ''} {where}".strip()
        signals.append(Signal(code=code, snippet=snippet[:400], source="request_log"))
    return signals


def probe_case(platform: Platform, case: Case) -> ProbeResult:
    """The probe asks what the customer asked: the case's endpoint and model, with its key."""
    return platform.probe(str(case.team_id), case.key_prefix, endpoint=case.endpoint, model=case.model)


def run_check(platform: Platform, clock: Clock, check: str, team_id: str, key_prefix: str | None) -> Finding:
    now = clock.now()
    if check == "billing":
        return checks.check_billing(platform, team_id, now)
    if check == "key":
        return checks.check_key(platform, team_id, key_prefix, now)
    return checks.check_restrictions(platform, team_id, now)


def run_all_checks(platform: Platform, clock: Clock, team_id: str, key_prefix: str | None) -> list[Finding]:
    return [run_check(platform, clock, c, team_id, key_prefix) for c in CHECKS]


def decide_case(platform: Platform, store: CaseStore, clock: Clock, case_id: str,
                findings: list[Finding]) -> NextStep:
    case = _get(store, case_id)
    plan = works_now() if conversations.says_it_works_now(case) else \
        decide(case.team_id, findings, lambda: probe_case(platform, case), case.signal_codes,
               describes_failure=not only_asks(case.report.subject, case.report.text))
    _update(store, clock, case, findings=findings, plan=plan)
    return plan


def works_now() -> NextStep:
    """The customer says it works now ("fixed", "never mind"): the case closes as they say, with
    the checks' findings kept for staff and nothing applied (DESIGN.md "Conversations")."""
    return NextStep(action="already_working", recheck=False, reason="The customer says it works now.")


def apply_case_fixes(platform: Platform, store: CaseStore, ledger: FixLedger, clock: Clock, case_id: str,
                     fixes: list[FixName], policy: FixPolicy, actor: str, approved: bool) -> list[FixRecord]:
    case = _get(store, case_id)
    # an incident's bulk approval keeps each case's auto-lift guardrails (DESIGN.md "Incidents"), and so
    # does a standing policy's (docs/causes.md): nobody looked at this one team
    last = case.decisions[-1] if approved and case.decisions else None
    bulk = last is not None and (last.incident_id is not None or last.actor.startswith("policy:"))
    records = apply_fixes(platform, ledger, clock, case_id=case.run_key, team_id=str(case.team_id),
                          findings=case.findings, fixes=fixes, policy=policy, actor=actor, approved=approved,
                          requester_verified=case.requester_verified, guardrails=not approved or bulk)
    kept = [r for r in case.fixes if (r.case_id, r.fix) not in {(x.case_id, x.fix) for x in records}]
    _update(store, clock, case, fixes=kept + records)
    return records


def verify_case(
    platform: Platform, store: CaseStore, clock: Clock, case_id: str
) -> tuple[Outcome, str, list[Finding], ProbeResult]:
    case = _get(store, case_id)
    team_id = str(case.team_id)
    after = run_all_checks(platform, clock, team_id, case.key_prefix)
    probe = probe_case(platform, case)
    outcome, reason = verdict(after, probe)
    _update(store, clock, case, verification={"outcome": outcome, "reason": reason, "probe": probe.model_dump(),
                                              "findings": [f.model_dump(mode="json") for f in after]})
    return outcome, reason, after, probe


def escalate_case(store: CaseStore, queue: HumanQueue, clock: Clock, case_id: str, reason: str,
                  task_token: str, report: dict[str, Any] | None = None,
                  partial: list[Finding] | None = None, status: CaseStatus = "awaiting_staff") -> Case:
    """Record the case as awaiting staff (with its task token) and queue the evidence bundle.

    `report` opens the case if even OpenCase failed; `partial` is evidence gathered before a failure.
    """
    case = store.get(case_id)
    if case is None and report is not None:
        now = clock.now()
        case = Case(case_id=case_id, report=Report.model_validate(report), created_at=now, updated_at=now)
        if not store.create(case):
            case = None
    case = case or _get(store, case_id)
    if _verified_fix(case):
        # a step failed after the fix was verified (queuing the reply): staff see why, but the
        # outcome and the reply stay (a verified outcome is never downgraded)
        escalation = Escalation(reason=reason, priority="high", findings=case.findings, queued_at=clock.now(),
                                must_rotate_key=case.report.must_rotate_key)
        case = _update(store, clock, case, status="awaiting_staff", escalation=escalation, task_token=task_token,
                       priority="high", next_check_at=clock.now() + RECHECK_FIRST)
        queue.send(evidence_bundle(case), priority="high")
        return case
    findings = case.findings or (partial or [])
    proposals = [f.fix for f in case.run_fixes if f.status == "proposed"] or proposed_fixes(findings)
    priority = "high" if any(f.code.endswith(".unavailable") for f in findings) else case.priority
    escalation = Escalation(reason=reason, priority=priority, findings=findings, proposed_fixes=proposals,
                            must_rotate_key=case.report.must_rotate_key, queued_at=clock.now())
    # `status` open: a standing policy has its say before anyone sees the case waiting (outcomes.escalate)
    updates: dict[str, Any] = {"status": status, "outcome": "escalated", "findings": findings,
                               "escalation": escalation, "task_token": task_token, "priority": priority,
                               "next_check_at": clock.now() + RECHECK_FIRST}
    draft = case.model_copy(update=updates)
    updates |= _replies(draft, findings)
    public, private, at = updates["customer_reply"], updates["private_reply"], clock.now()
    if status == "awaiting_staff":  # else the reply joins the conversation once it is sent (wait_for_staff)
        updates["conversation"] = lambda c: with_replies(c, public, private, at)
    updates["seen_follow_ups"] = lambda c: c.follow_ups  # staff see the whole conversation from here
    case = _update(store, clock, case, **updates)
    queue.send(evidence_bundle(case), priority=priority)
    return case


def wait_for_staff(store: CaseStore, clock: Clock, case: Case) -> Case:
    """The case escalate_case recorded `open` now waits for staff, its reply in the conversation."""
    public, private, at = case.customer_reply, case.private_reply, clock.now()
    return _update(store, clock, case, status="awaiting_staff",
                   conversation=lambda c: with_replies(c, public, private, at))


def _replies(draft: Case, findings: list[Finding]) -> dict[str, str | None]:
    """The outcome's replies and note; a run that answers a follow-up leads with what it added."""
    return {"customer_reply": conversation_replies.answer(draft, replies.customer_reply(draft, findings), "public"),
            "private_reply": conversation_replies.answer(draft, replies.private_reply(draft, findings), "private"),
            "internal_note": replies.internal_note(draft)}


def evidence_bundle(case: Case) -> dict[str, Any]:
    """What staff see on the human queue: everything collected, never a secret."""
    assert case.escalation is not None
    return {
        "case_id": case.case_id, "team_id": case.team_id, "key_prefix": case.key_prefix,
        "reason": case.escalation.reason, "priority": case.escalation.priority,
        "findings": [f.model_dump(mode="json") for f in case.escalation.findings],
        "proposed_fixes": case.escalation.proposed_fixes,
        "fixes": [r.model_dump(mode="json") for r in case.fixes],
        "must_rotate_key": case.escalation.must_rotate_key,
        "report": {"source": case.report.source, "ticket_id": case.report.ticket_id, "subject": case.report.subject,
                   "facts": case.report.facts},
        # what the customer saw, and the gateway's own record of the request they named
        "signals": [sig.model_dump(mode="json") for sig in case.signals],
        "request": case.request.model_dump(mode="json") if case.request else None,
        # the customer's follow-ups and unblock's replies, redacted (DESIGN.md "Conversations")
        "conversation": [m.model_dump(mode="json") for m in case.conversation[-EVIDENCE_MESSAGES:]],
        "follow_ups": case.follow_ups,
        "decide_with": f"unblock decide {case.case_id} --approve|--resolve|--reject",
    }


def close_case(store: CaseStore, clock: Clock, case_id: str, outcome: Outcome,
               resolution: str | None = None) -> Case:
    """Final (or waiting) state and the customer's reply for the outcome."""
    case = _get(store, case_id)
    now = clock.now()
    if _verified_fix(case):
        # closed as verified before (a retried CloseCase) or staff close it after a later step
        # failed: the verified outcome and its reply stay
        if case.status == "closed":
            return case  # a retry: nothing to write; the handler queues the kept reply again
        return _update(store, clock, case, status="closed", next_check_at=None, task_token=None,
                       resolution=case.resolution or "verified")
    left = [Finding.model_validate(f) for f in (case.verification or {}).get("findings", [])] or case.findings
    updates: dict[str, Any] = {}
    if outcome == "needs_info" and not case.team_id:
        # no team: the signals alone may answer (a model policy, a client-side mistake), hand the
        # ticket on to staff (a question, the gateway's own failure), or the customer says it works now
        plan = works_now() if conversations.says_it_works_now(case) else \
            decide(None, [], _no_probe, case.signal_codes,
                   describes_failure=not only_asks(case.report.subject, case.report.text))
        outcome = plan.action if plan.action in ("customer_action", "already_working", "handed_off") else "needs_info"
        updates["plan"] = plan
    # customer_action is re-checked (unless the steps are the customer's own: NextStep.recheck);
    # needs_info waits for the customer's answer (a follow-up runs it again), stale 14 days after
    # their last message (DESIGN.md "Conversations")
    waiting = outcome in ("customer_action", "needs_info") and resolution is None
    updates |= {
        "outcome": outcome, "resolution": resolution,
        "status": "awaiting_customer" if waiting else "closed", "closed_at": None if waiting else now,
        "next_check_at": now + RECHECK_FIRST if waiting else None, "task_token": None,
    }
    draft = case.model_copy(update=updates)
    updates |= _replies(draft, left)
    public, private = updates["customer_reply"], updates["private_reply"]
    updates["conversation"] = lambda c: with_replies(c, public, private, now)
    return _update(store, clock, case, **updates)


def close_shadow(store: CaseStore, clock: Clock, case_id: str, would: Outcome, reason: str,
                 fixes: list[FixName]) -> Case:
    """Shadow mode: the case closes with what unblock would have done. Nothing reached the platform
    or the customer; the reply it would have sent is kept on the case and the internal note says it
    all (no customer reply, no private message, no ticket status: the outgoing message has only the
    note and no outcome)."""
    case = _get(store, case_id)
    if case.status == "closed" and case.shadow is not None:
        return case  # a retried CloseCase
    draft = case.model_copy(update={"outcome": would})
    would_reply = replies.customer_reply(draft, case.findings)
    shadow = ShadowRun(outcome=would, reason=reason, fixes=fixes, reply=would_reply)
    note = replies.shadow_note(draft, shadow)
    return _update(store, clock, case, status="closed", outcome=None, resolution="shadow", shadow=shadow,
                   customer_reply=None, private_reply=None, internal_note=note, next_check_at=None,
                   task_token=None, closed_at=clock.now())


def decide_without_team(store: CaseStore, case_id: str) -> NextStep:
    """What a case with no team comes to: its signals alone decide (DESIGN.md "Decision" 0-1)."""
    case = _get(store, case_id)
    return decide(None, [], _no_probe, case.signal_codes,
                  describes_failure=not only_asks(case.report.subject, case.report.text))


def _no_probe() -> ProbeResult:
    raise AssertionError("no team: nothing to probe")


def with_replies(case: Case, public: str | None, private: str | None, at: datetime) -> list[Message]:
    """The conversation with unblock's replies of this run in it (once per run: a retried step
    adds nothing). The private one is a forum's private message."""
    import hashlib

    from unblock.domain.conversations import MAX_MESSAGES

    messages = list(case.conversation)
    for channel, text in (("private", private), ("public", public)):
        mid = f"unblock:{case.runs}:{channel}:{hashlib.sha256((text or '').encode()).hexdigest()[:12]}"
        if text and not any(m.id == mid for m in messages):
            messages.append(Message(id=mid, author="unblock", text=text, at=at, channel=channel))
    return messages[-MAX_MESSAGES:]


def _verified_fix(case: Case) -> bool:
    """The case was closed as auto_fixed after verification: nothing later downgrades it."""
    return case.outcome == "auto_fixed" and case.verified and case.resolution in ("verified", "approved")


def _get(store: CaseStore, case_id: str) -> Case:
    case = store.get(case_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} not found")
    return case


def save_if_unchanged(store: CaseStore, case: Case, **changes: Any) -> Case:
    """One conditional write over the version read: CaseConflict if anyone wrote since."""
    return store.save(case.model_copy(update=changes))


def update_case(store: CaseStore, clock: Clock, read: Case, **changes: Any) -> Case:
    """Write changes over the case as read; a lost race re-reads and re-applies them."""
    return _update(store, clock, read, **changes)


def _update(store: CaseStore, clock: Clock, read: Case, **changes: Any) -> Case:
    """Write changes over the case as read; a lost race re-reads and re-applies them."""
    case = read
    for _ in range(5):
        # a change given as a function is computed over the case as it is now (the conversation:
        # a follow-up that landed since the read must not be written over)
        fresh = {k: (v(case) if callable(v) else v) for k, v in changes.items()}
        try:
            return store.save(case.model_copy(update={**fresh, "updated_at": clock.now()}))
        except CaseConflict:
            case = _get(store, read.case_id)
    raise RuntimeError(f"case {read.case_id}: too many concurrent updates")
