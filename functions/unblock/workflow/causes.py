"""Causes with a record, and the one notice to a misfiring rule's owner (docs/causes.md, issue 37).

- `track` (Decide, beside the incidents' grouping): a case seen with a cause joins its history.
- `cause_view` / `list_causes`: a cause's record read from its cases (what `unblock causes` and the
  console's causes page show), newest wave first.
- `after_staff_decision` (CloseCase, once a case staff decided closes): when staff approved the lift
  for N of the last M decisions of the cause and nothing was reverted, the cause is marked "rule
  likely misfiring" and its owner is told once (the owners' topic, and staff through their alerts);
  never a customer.
"""

from __future__ import annotations

import logging

from unblock.domain.cases import Case
from unblock.domain.causes import (
    CaseLine,
    CauseSeen,
    CauseView,
    Evidence,
    MisfiringRule,
    case_line,
    figures,
    is_policy,
    misfiring,
    owner_for,
)
from unblock.domain.incidents import cause_of
from unblock.domain.models import Finding
from unblock.domain.staff_alerts import RuleMisfiringAlert, cause_link
from unblock.ports import CaseStore, CauseStore, Clock, OwnerNotices, StaffAlerts

log = logging.getLogger(__name__)


def track(causes: CauseStore, clock: Clock, case_id: str, team_id: str | None, findings: list[Finding]) -> None:
    """Keep the case in its cause's history. Never fails the case (the record is for staff)."""
    try:
        cause = cause_of(findings)
        if cause is not None and team_id:
            causes.seen(cause, CauseSeen(case_id=case_id, team_id=team_id, at=clock.now()))
    except Exception as err:  # noqa: BLE001 - the customer's case goes on regardless
        log.warning("cause not recorded", extra={"case_id": case_id, "error": type(err).__name__})


def _lines(causes: CauseStore, store: CaseStore, cause_key: str) -> list[CaseLine]:
    seen = causes.cases(cause_key)
    found = store.get_many([s.case_id for s in seen]) if seen else {}
    return [case_line(s, found.get(s.case_id)) for s in seen]


def cause_view(causes: CauseStore, store: CaseStore, cause_key: str) -> CauseView | None:
    head = causes.head(cause_key)
    if head is None:
        return None
    lines = _lines(causes, store, cause_key)
    return CauseView(head, lines, figures(lines), causes.notice(cause_key) if head.owner_told_at else None)


def list_causes(causes: CauseStore, store: CaseStore, limit: int = 50) -> list[CauseView]:
    """The causes with their figures, the newest wave first."""
    out: list[CauseView] = []
    for head in causes.heads(limit):
        lines = _lines(causes, store, head.cause.key)
        notice = causes.notice(head.cause.key) if head.owner_told_at else None
        out.append(CauseView(head, lines, figures(lines), notice))
    return sorted(out, key=lambda v: v.figures.last_wave_started or v.head.last_seen, reverse=True)


def after_staff_decision(causes: CauseStore, store: CaseStore, clock: Clock, case: Case, *,
                         rule: MisfiringRule, owners: dict[str, str], notices: OwnerNotices | None,
                         alerts: StaffAlerts | None, console_url: str | None = None) -> Evidence | None:
    """Tell the rule's owner once when the case's cause now looks like a misfiring rule; the evidence
    when this call told them. Never fails the case."""
    try:
        return _after_staff_decision(causes, store, clock, case, rule, owners, notices, alerts, console_url)
    except Exception as err:  # noqa: BLE001 - the notice is for the rule's owner; the case is closed regardless
        log.warning("misfiring rule not checked", extra={"case_id": case.case_id, "error": type(err).__name__})
        return None


def _after_staff_decision(causes: CauseStore, store: CaseStore, clock: Clock, case: Case, rule: MisfiringRule,
                          owners: dict[str, str], notices: OwnerNotices | None, alerts: StaffAlerts | None,
                          console_url: str | None) -> Evidence | None:
    if not case.decisions or is_policy(case.decisions[-1]):
        return None  # only staff's own decisions are evidence
    cause = cause_of(case.findings)
    if cause is None:
        return None
    head = causes.head(cause.key)
    if head is None or head.owner_told_at is not None:
        return None
    now = clock.now()
    evidence = misfiring(cause, _lines(causes, store, cause.key), now, rule, owner_for(cause, owners))
    if evidence is None or not causes.claim_owner_notice(cause.key, now, evidence):
        return None
    if notices is not None:
        notices.publish(evidence)
    if alerts is not None:
        alerts.publish(RuleMisfiringAlert(
            cause=cause.label, owner=evidence.owner, approvals=evidence.approvals, decisions=evidence.decisions,
            window_days=evidence.window_days, teams=len(evidence.teams),
            time_to_fix_minutes=evidence.median_time_to_fix_minutes, link=cause_link(cause.key, console_url)))
    log.info("rule owner told: rule likely misfiring", extra={"cause": cause.code, "owner": evidence.owner})
    return evidence
