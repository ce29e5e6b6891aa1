"""Incidents: many teams, one cause, one decision (DESIGN.md "Incidents").

Plain functions over the ports, as the other workflow steps:
- `track` (Decide calls it once a case's findings are in): the case is seen with its cause; the
  third distinct team within 24 hours opens the incident (one conditional write: of concurrent
  cases exactly one opens it, the others join it), every case seen with that cause so far joins,
  later ones join too, and staff are told once.
- `decide_incident` (the console and `unblock decide --incident`): one bulk decision, applied to
  each member waiting for staff through the per-case staff decision (its conditional claim, then
  SendTaskSuccess or SendTaskFailure), so each case still gets its own guardrails, fixes, audit,
  verification and reply. Teams held by the same rule that have not written in may be included: a
  staff case starts for each and is decided with the incident once it waits for staff. A member
  not waiting yet keeps the decision pending; `apply_pending` applies it once the case waits (the
  decision call itself waits a little; the re-check applies what is left).
- `incident_view`: what the console and the CLI show of one incident.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from unblock.domain.cases import Case
from unblock.domain.incidents import (
    MAX_INCLUDE,
    WINDOW,
    Incident,
    IncidentDecision,
    MemberCase,
    MemberOutcome,
    PendingDecision,
    Sighting,
    bulk_approvable,
    cause_of,
    incident_id_for,
    opens,
    staff_placed_holds,
    teams_in,
)
from unblock.domain.models import Finding, Mode, Report
from unblock.domain.modes import staff_may_decide
from unblock.domain.platform_model import HeldTeam
from unblock.domain.staff_alerts import incident_alert
from unblock.domain.staff_errors import NoSuchIncident, StaffError
from unblock.ports import CaseStore, Clock, HumanQueue, IncidentStore, Platform, StaffAlerts, Workflow
from unblock.workflow import staff_decisions
from unblock.workflow.staff_decisions import DECISIONS, MAX_NOTE

log = logging.getLogger(__name__)
SETTLE_POLL = 0.25  # seconds between looks at cases that do not wait for staff yet
# a case seen waiting for staff is decided this long after: the Escalate function that wrote it still
# queues its evidence and alerts staff, and a decision is best made once it has
SETTLE_GRACE = 1.0


# --- grouping ------------------------------------------------------------------------------
def track(incidents: IncidentStore, alerts: StaffAlerts | None, clock: Clock, case_id: str, team_id: str | None,
          findings: list[Finding], console_url: str | None = None, *, shadow: bool = False) -> str | None:
    """Group the case by its cause; the incident it belongs to, if any. Never fails the case: an
    error is logged and the case goes on without an incident. A `shadow` run's case groups like any
    (staff see the incident) but never tells staff: an incident of shadow cases pages nobody, and the
    first live case that joins it is the one that tells them (issue 35 item 1)."""
    try:
        return _track(incidents, None if shadow else alerts, clock, case_id, team_id, findings, console_url)
    except Exception as err:  # noqa: BLE001 - grouping is for staff; the customer's case goes on regardless
        log.warning("incident grouping failed", extra={"case_id": case_id, "error": type(err).__name__})
        return None


def _track(incidents: IncidentStore, alerts: StaffAlerts | None, clock: Clock, case_id: str, team_id: str | None,
           findings: list[Finding], console_url: str | None) -> str | None:
    cause = cause_of(findings)
    if cause is None or not team_id:
        return None
    now = clock.now()
    incidents.record_sighting(cause, Sighting(case_id=case_id, team_id=team_id, at=now))
    incident = incidents.current(cause, now)
    if incident is None:
        seen = incidents.sightings(cause, now - WINDOW)
        if not opens(seen):
            return None
        candidate = Incident(incident_id=incident_id_for(cause, now), cause=cause, opened_at=now, opened_by=case_id,
                             teams_at_open=len(teams_in(seen)))
        if incidents.open(candidate, now - WINDOW):
            # every case seen with the cause so far is a member (a case seen after this write
            # finds the incident itself)
            for s in incidents.sightings(cause, now - WINDOW):
                incidents.join(candidate, MemberCase(case_id=s.case_id, team_id=s.team_id, joined_at=s.at))
        incident = incidents.current(cause, now)  # ours, or the one a concurrent case opened first
        if incident is None:
            return None
    incidents.join(incident, MemberCase(case_id=case_id, team_id=team_id, joined_at=now))
    if alerts is not None and incidents.claim_alert(incident.incident_id, now):  # exactly one case tells staff
        members = incidents.members(incident.incident_id)
        # concurrent cases (a wave of denial signals): the opener may still be adding the first members
        teams = max(len({m.team_id for m in members}), incident.teams_at_open)
        alerts.publish(incident_alert(incident, teams, max(len(members), teams), console_url))
    return incident.incident_id


# --- the bulk decision ------------------------------------------------------------------------
def included_case_id(team_id: str, incident_id: str) -> str:
    """The staff case started for a team included in an incident's decision (one per team and incident)."""
    return f"staff:{team_id}:{incident_id}"


@dataclass
class _Bulk:
    incidents: IncidentStore
    store: CaseStore
    workflow: Workflow
    clock: Clock
    incident: Incident
    pending: PendingDecision
    versions: Mapping[str, int]
    stack_mode: Mode
    decided: list[str] = field(default_factory=list)

    def decide(self, case: Case, team_id: str | None) -> MemberOutcome:
        p = self.pending

        def outcome(result: str, detail: str = "") -> MemberOutcome:
            return MemberOutcome(case_id=case.case_id, team_id=team_id, result=result, detail=detail)

        if p.decision == "approve":  # DESIGN.md "Incidents": what one bulk approval may cover
            if held := staff_placed_holds(case.findings):
                return outcome("refused", f"staff placed {', '.join(sorted(set(held)))} on this team: no bulk "
                                          "decision lifts or clears it; decide the case on its own")
            if not bulk_approvable(case.case_id, case.requester_verified, case.report.source,
                                   p.include_unverified):
                return outcome("unverified", "the requester is not verified: approve it by ticking the case "
                                             "(--include-unverified), or decide it on its own")

        try:
            staff_decisions.decide(self.store, self.workflow, None, self.clock, case.case_id, p.decision, p.actor,
                                   p.note, stack_mode=self.stack_mode,
                                   expected_version=self.versions.get(case.case_id), incident_id=p.incident_id)
        except staff_decisions.AlreadyDecided as err:
            return outcome("already_decided", str(err))
        except staff_decisions.StaleDecision as err:
            return outcome("refused_stale", str(err))
        except StaffError as err:
            return outcome("refused", str(err))
        except Exception as err:  # noqa: BLE001 - one member's failure must not stop the others
            log.warning("bulk decision failed for a member", extra={"case_id": case.case_id,
                                                                   "error": type(err).__name__})
            return outcome("failed", f"{type(err).__name__}: {str(err)[:200]}")
        self.decided.append(case.case_id)
        return outcome("decided", f"{p.decision} sent; the workflow resumes")


def _settled(case: Case | None) -> bool:
    return case is not None and case.status != "open"


def _not_waiting(case: Case, team_id: str | None) -> MemberOutcome:
    if case.decisions:
        last = case.decisions[-1]
        return MemberOutcome(case_id=case.case_id, team_id=team_id, result="already_decided",
                             detail=f"{last.decision} by {last.actor} ({case.status})")
    return MemberOutcome(case_id=case.case_id, team_id=team_id, result="not_waiting",
                         detail=f"{case.status}: {case.outcome or 'no outcome yet'}")


def apply_pending(incidents: IncidentStore, store: CaseStore, workflow: Workflow, queue: HumanQueue | None,
                  clock: Clock, case: Case, *, stack_mode: Mode) -> MemberOutcome | None:
    """Apply the case's pending bulk decision now that it waits for staff (or drop it when the case
    closed by itself); None when the case has none or does not wait yet. Exactly one caller applies it."""
    if not _settled(case):
        return None
    pending = incidents.take_pending(case.case_id)
    if pending is None:
        return None
    if case.status != "awaiting_staff":
        return _not_waiting(case, case.team_id)
    incident = incidents.get(pending.incident_id)
    if incident is None:
        return None
    bulk = _Bulk(incidents, store, workflow, clock, incident, pending, {}, stack_mode)
    result = bulk.decide(case, case.team_id)
    if queue is not None and bulk.decided:
        queue.remove_cases(bulk.decided)
    return result


def decide_incident(incidents: IncidentStore, store: CaseStore, workflow: Workflow, queue: HumanQueue | None,
                    clock: Clock, incident_id: str, decision: str, actor: str, note: str | None = None, *,
                    stack_mode: Mode, include: Sequence[str] = (), include_unverified: Sequence[str] = (),
                    versions: Mapping[str, int] | None = None,
                    platform: Platform | None = None, settle: float = 0.0,
                    sleep: Callable[[float], None] = time.sleep) -> IncidentDecision:
    """One bulk decision on an incident; what it did to each member (and each team included).

    Members waiting for staff are decided now; members whose execution still runs, and the staff cases
    started for `include`d teams, get the decision once they wait: within `settle` seconds here, else
    by the re-check. Members decided already (by staff, or closed) are left as they are and reported.
    A shadow stack (`stack_mode`) refuses the whole decision, as it refuses each case's.
    """
    staff_may_decide(stack_mode)
    if decision not in DECISIONS:
        raise StaffError(f"unknown decision {decision!r}: approve, resolve or reject")
    if not actor:
        raise StaffError("a decision needs the staff member's identity")
    incident = incidents.get(incident_id)
    if incident is None:
        raise NoSuchIncident(f"no incident {incident_id!r}")
    note = (note or "").strip()[:MAX_NOTE] or None
    now = clock.now()
    ticked = list(dict.fromkeys(c.strip() for c in include_unverified if c and c.strip()))
    pending = PendingDecision(incident_id=incident_id, decision=decision, actor=actor, note=note,
                              decided_at=now, include_unverified=ticked)
    bulk = _Bulk(incidents, store, workflow, clock, incident, pending, versions or {}, stack_mode)
    members = incidents.members(incident_id)
    outcomes: dict[str, MemberOutcome] = {}
    waiting_for: dict[str, str] = {}  # case id -> team id, cases not waiting for staff yet

    for m in members:
        case = store.get(m.case_id)
        if case is None or case.status == "open":
            incidents.set_pending(m.case_id, pending)
            waiting_for[m.case_id] = m.team_id
        elif case.status == "awaiting_staff":
            outcomes[m.case_id] = bulk.decide(case, m.team_id)
        else:
            outcomes[m.case_id] = _not_waiting(case, m.team_id)

    included = _include(incidents, workflow, platform, incident, members, include, pending, outcomes)
    waiting_for |= {included_case_id(t, incident_id): t for t in included}

    deadline = time.monotonic() + settle
    seen_waiting: dict[str, float] = {}
    while waiting_for:
        for case_id, team_id in list(waiting_for.items()):
            case = store.get(case_id)
            if not _settled(case):
                continue
            first = seen_waiting.setdefault(case_id, time.monotonic())
            if case is not None and case.status == "awaiting_staff" and time.monotonic() - first < SETTLE_GRACE \
                    and time.monotonic() + SETTLE_POLL < deadline:
                continue
            del waiting_for[case_id]
            assert case is not None
            pending_now = incidents.take_pending(case_id)
            if pending_now is None:  # the re-check applied it meanwhile
                outcomes[case_id] = MemberOutcome(case_id=case_id, team_id=team_id, result="decided",
                                                  detail="applied by the re-check")
            elif case.status == "awaiting_staff":
                outcomes[case_id] = bulk.decide(case, team_id)
            else:
                outcomes[case_id] = _not_waiting(case, team_id)
        if not waiting_for or time.monotonic() >= deadline:
            break
        sleep(SETTLE_POLL)
    for case_id, team_id in waiting_for.items():
        started = case_id in {included_case_id(t, incident_id) for t in included}
        outcomes[case_id] = MemberOutcome(
            case_id=case_id, team_id=team_id, result="started" if started else "pending",
            detail="applied once the case waits for staff (the re-check sees to it)")

    if queue is not None and bulk.decided:
        queue.remove_cases(bulk.decided)
    order = [m.case_id for m in members] + [c for c in outcomes if c not in {m.case_id for m in members}]
    record = IncidentDecision(decision=decision, actor=actor, note=note, decided_at=now,
                              included=list(included), include_unverified=ticked,
                              outcomes=[outcomes[c] for c in order if c in outcomes])
    incidents.record_decision(incident_id, record)
    return record


def _include(incidents: IncidentStore, workflow: Workflow, platform: Platform | None, incident: Incident,
             members: list[MemberCase], include: Sequence[str], pending: PendingDecision,
             outcomes: dict[str, MemberOutcome]) -> list[str]:
    """Start a staff case for each included team held by the incident's cause; the teams started."""
    wanted = list(dict.fromkeys(t.strip() for t in include if t and t.strip()))
    if not wanted:
        return []
    if len(wanted) > MAX_INCLUDE:
        raise StaffError(f"at most {MAX_INCLUDE} teams can be included in one decision")
    listed = held_elsewhere(platform, incident, members)
    written_in = {m.team_id for m in members}
    started: list[str] = []
    for team_id in wanted:
        case_id = included_case_id(team_id, incident.incident_id)
        if team_id in written_in:
            outcomes[case_id] = MemberOutcome(case_id=case_id, team_id=team_id, result="refused",
                                              detail="the team has a case in the incident already")
            continue
        if listed is None or team_id not in {t.team_id for t in listed}:
            outcomes[case_id] = MemberOutcome(case_id=case_id, team_id=team_id, result="refused",
                                              detail="the platform does not list the team as held by this cause")
            continue
        report = _included_report(case_id, team_id, incident, pending)
        incidents.join(incident, MemberCase(case_id=case_id, team_id=team_id, joined_at=pending.decided_at,
                                        via="included"))
        incidents.set_pending(case_id, pending)  # before the start: the case can never wait without it
        workflow.start_case(report)
        started.append(team_id)
    return started


def _included_report(case_id: str, team_id: str, incident: Incident, pending: PendingDecision) -> Report:
    from unblock.domain.tickets.reports import redact_report

    note = f"Included in incident {incident.incident_id} ({incident.cause.code})" + (
        f": {pending.note}" if pending.note else "")
    return redact_report(Report(case_id=case_id, source="staff", team_id=team_id, requested_by=pending.actor,
                                note=note, received_at=pending.decided_at))


# --- what staff see ---------------------------------------------------------------------------
def held_elsewhere(platform: Platform | None, incident: Incident, members: list[MemberCase],
                   limit: int = 200) -> list[HeldTeam] | None:
    """The teams held by the incident's cause that have not written in (no member case); None when the
    cause is not an automated hold or the platform cannot list them."""
    if platform is None or not incident.cause.listable:
        return None
    try:
        listed = platform.list_held_teams(incident.cause.hold, incident.cause.reason, source=incident.cause.source,
                                          limit=limit)
    except Exception as err:  # noqa: BLE001 - the incident is still shown without the listing
        log.warning("held teams not listed", extra={"incident_id": incident.incident_id, "error": type(err).__name__})
        return None
    if listed is None:
        return None
    written_in = {m.team_id for m in members}
    return [t for t in listed if t.team_id not in written_in]


@dataclass
class IncidentView:
    incident: Incident
    members: list[tuple[MemberCase, Case | None]]
    held_elsewhere: list[HeldTeam] | None  # None: cannot be listed

    @property
    def teams(self) -> int:
        return len({m.team_id for m, _ in self.members})

    @property
    def waiting(self) -> list[Case]:
        return [c for _, c in self.members if c is not None and c.status == "awaiting_staff"]


def incident_view(incidents: IncidentStore, store: CaseStore, platform: Platform | None,
                  incident_id: str) -> IncidentView | None:
    incident = incidents.get(incident_id)
    if incident is None:
        return None
    members = incidents.members(incident_id)
    return IncidentView(incident, [(m, store.get(m.case_id)) for m in members],
                        held_elsewhere(platform, incident, members))
