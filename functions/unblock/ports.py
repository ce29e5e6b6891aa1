"""The ports: what the domain and the workflow states need of the world, as Protocols.

Adapters (unblock.adapters) implement them over AWS and HTTP; tests use fakes or moto.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports loads no domain model at a cold start
    from unblock.domain.cases import Case
    from unblock.domain.causes import CauseHead, CauseSeen, Evidence
    from unblock.domain.denials import ProactiveRecord
    from unblock.domain.incidents import Cause, Incident, IncidentDecision, MemberCase, PendingDecision, Sighting
    from unblock.domain.models import CaseStatus, FixName, FixRecord, Mode, ProbeResult, Report
    from unblock.domain.modes import ModeChange
    from unblock.domain.platform_model import (
        AutoLift,
        Billing,
        Entitlements,
        HeldTeam,
        Hold,
        HoldKind,
        Key,
        RequestRecord,
        Restriction,
        Source,
        Team,
    )
    from unblock.domain.policies import Policy, PolicyDecision
    from unblock.domain.replies import OutgoingReply
    from unblock.domain.staff_alerts import IncidentAlert, ModeAlert, RevertAlert, RuleMisfiringAlert, StaffAlert


class PlatformUnavailable(Exception):
    """The platform did not answer (timeout, 5xx). Step Functions retries on this class name."""


class TeamNotFound(LookupError):
    pass


class FixConflict(Exception):
    """A fix's precondition no longer holds (someone else already mended the team)."""


class Platform(Protocol):
    # reads
    def find_team(
        self, *, team_id: str | None = None, slug: str | None = None, owner_email: str | None = None,
        member_email: str | None = None,
    ) -> Team | None:
        """By id, slug, the owner's email, or a member's email (the one team that lists it: None when
        several do, since the address then does not say which)."""
        ...
    def get_billing(self, team_id: str) -> Billing: ...
    def get_keys(self, team_id: str) -> tuple[Key, ...]: ...
    def get_restrictions(self, team_id: str) -> tuple[Restriction, ...]: ...
    def get_entitlements(self, team_id: str) -> Entitlements: ...
    def get_auto_lifts(self, team_id: str) -> tuple[AutoLift, ...]: ...
    def get_team(self, team_id: str) -> Team: ...
    def find_key_owner(self, prefix: str) -> str | None: ...
    def probe(self, team_id: str, key_prefix: str | None = None, *, endpoint: str | None = None,
              model: str | None = None) -> ProbeResult:
        """What the gateway answers now for the team's request with that key to `endpoint` (default
        `/v1/chat/completions`) for `model` (default: any model the team may use)."""
        ...
    def find_request(self, request_id: str) -> RequestRecord | None:
        """The gateway's record of one request, by its request id (`X-Vercel-Id`) or generation id."""
        ...
    def list_held_teams(self, hold: HoldKind, reason: str, *, source: Source = "automated",
                        limit: int = 100) -> tuple[HeldTeam, ...] | None:
        """The teams whose active `hold` (the billing hold, or that restriction flag) from `source`
        has this reason (compared as `domain.incidents.normalize_reason` folds it), oldest first;
        None when the platform cannot list them (DESIGN.md "Incidents")."""
        ...

    # fixes: idempotent per idempotency_key; FixConflict when the precondition is gone
    def clear_billing_hold(self, team_id: str, *, idempotency_key: str) -> None: ...
    def resync_key(self, team_id: str, key_id: str, *, idempotency_key: str) -> None: ...
    def resync_entitlements(self, team_id: str, *, idempotency_key: str) -> None: ...
    def lift_risk_hold(self, team_id: str, *, at: datetime, idempotency_key: str) -> None: ...

    # reverts (staff undo a fix): the hold put back as recorded; idempotent per idempotency_key;
    # FixConflict when such a hold is on the team already
    def restore_billing_hold(self, team_id: str, hold: Hold, *, idempotency_key: str) -> None: ...
    def restore_risk_hold(self, team_id: str, restriction: Restriction, *, idempotency_key: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class CaseConflict(Exception):
    """The case changed under us (a conditional write lost): re-read and try again."""


class CaseNotFound(LookupError):
    pass


class CaseStore(Protocol):
    def get(self, case_id: str) -> Case | None: ...
    def create(self, case: Case) -> bool:
        """Store a new case; False if it already exists (idempotent intake)."""
        ...
    def save(self, case: Case) -> Case:
        """Conditional write on `version`; raises CaseConflict if someone else wrote first."""
        ...
    def due(self, now: datetime, limit: int = 100) -> list[Case]: ...
    # the staff console's reads, each answered from an index (it reads what it shows)
    def waiting_for_staff(self) -> list[Case]:
        """Cases awaiting staff or being decided (in no particular order)."""
        ...
    def recently_closed(self, outcome: str | None = None, limit: int = 50) -> list[Case]:
        """Closed cases (of one outcome), most recently closed first."""
        ...
    def search(self, query: str) -> list[Case]:
        """Cases whose id, ticket, team id or team slug is the query (case-insensitive), newest first."""
        ...
    def get_many(self, case_ids: list[str]) -> dict[str, Case]: ...
    # staff tooling and metrics: every case (a scan)
    def list(self, status: CaseStatus | None = None, limit: int = 100) -> list[Case]: ...


class FixLedger(Protocol):
    """Where fix records are kept (the cases table on AWS)."""

    def find(self, case_id: str, fix: FixName) -> FixRecord | None: ...
    def record(self, rec: FixRecord) -> None: ...
    def lifts_since(self, since: datetime) -> int: ...
    def claim_lift(self, case_id: str, at: datetime, cap: int) -> bool:
        """Count one automatic lift for the case in `at`'s hour, unless `cap` lifts are counted
        there already: one conditional write, so concurrent executions never pass the cap.
        A case that holds a claim in that hour claims again without counting twice."""
        ...
    def release_lift(self, case_id: str, at: datetime) -> None:
        """Give back the case's claim (the lift did not happen)."""
        ...
    def begin_fix(self, case_id: str, fix: FixName) -> bool:
        """Note that the case is about to apply the fix; True if it had begun it before (a retry)."""
        ...
    def fixes_since(self, since: datetime) -> int:
        """The fixes unblock applied by itself since `since` (within the last two hours)."""
        ...
    def record_revert(self, case_id: str, fix: FixName, at: datetime) -> None: ...
    def reverts_since(self, since: datetime) -> int:
        """The fixes staff reverted since `since` (within the last two hours)."""
        ...


class HumanQueue(Protocol):
    def send(self, message: dict[str, Any], *, priority: str) -> None: ...
    def remove(self, case_id: str) -> int:
        """Delete the case's messages (found by their case_id attribute); how many were deleted."""
        ...
    def remove_cases(self, case_ids: Collection[str]) -> int:
        """Delete the messages of all these cases in one pass over the queue; how many were deleted."""
        ...


class ProactiveCases(Protocol):
    """Each team's proactive case (the cases table on AWS): one record per team, written with
    conditions, so of concurrent signals for a team exactly one opens its case and the rest join it."""

    def get(self, team_id: str) -> ProactiveRecord | None: ...
    def claim(self, record: ProactiveRecord, replacing: str | None) -> bool:
        """Make `record` the team's: when it has none (`replacing` None) or its case is still
        `replacing` (that case closed). False when another signal got there first."""
        ...
    def join(self, team_id: str, case_id: str, denied: int, window_end: datetime) -> bool:
        """Count a later signal towards the team's case; False when the record names another case."""
        ...
    def release(self, team_id: str, case_id: str) -> None:
        """Give the record back (its case never started)."""
        ...


class IncidentStore(Protocol):
    """Where incidents are kept (the cases table on AWS): sightings of causes, the open incident of
    each cause, members, pending bulk decisions. Opening is one conditional write: of concurrent
    cases for one cause exactly one opens the incident, the others join it."""

    def record_sighting(self, cause: Cause, sighting: Sighting) -> None: ...
    def sightings(self, cause: Cause, since: datetime) -> list[Sighting]: ...
    def current(self, cause: Cause, now: datetime) -> Incident | None:
        """The cause's incident that new cases still join (a member within the window), if any."""
        ...
    def open(self, incident: Incident, since: datetime) -> bool:
        """Store a new incident as its cause's current one, unless the cause has a current incident
        with a member at or after `since`: False then (another case opened it first)."""
        ...
    def join(self, incident: Incident, member: MemberCase) -> bool:
        """Add the member (idempotent per case); True when it is new."""
        ...
    def get(self, incident_id: str) -> Incident | None: ...
    def members(self, incident_id: str) -> list[MemberCase]: ...
    def list(self, limit: int = 100) -> list[Incident]: ...
    def incident_of(self, case_id: str) -> str | None: ...
    def claim_alert(self, incident_id: str, at: datetime) -> bool:
        """True for exactly one caller per incident: that one tells staff."""
        ...
    def set_pending(self, case_id: str, pending: PendingDecision) -> None: ...
    def take_pending(self, case_id: str) -> PendingDecision | None:
        """Remove and return the case's pending bulk decision: exactly one caller gets it."""
        ...
    def record_decision(self, incident_id: str, decision: IncidentDecision) -> None: ...


class OutboxUnavailable(Exception):
    """The reply could not be queued for now (SQS throttled or unreachable). Step Functions
    retries the task on this class name; the reply stays on the case meanwhile."""


class StaffAlerts(Protocol):
    """Tells staff a case waits for them (SNS topic, Slack). Never raises: an alert that cannot be
    sent is logged; the case is on the human queue and in the console regardless."""

    def publish(self, alert: StaffAlert | IncidentAlert | RevertAlert | ModeAlert | RuleMisfiringAlert) -> None: ...


class ModeSwitch(Protocol):
    """The stack's run-time mode (DESIGN.md "Modes"): every run reads it when it starts (cached
    briefly: a switch reaches every function within a minute); an admin switches it, audited."""

    def current(self, *, fresh: bool = False) -> Mode:
        """The stack's mode (`fresh`: not from the cache); raises when it cannot be read (a run never
        guesses its mode)."""
        ...

    def switch(self, change: ModeChange) -> None:
        """Set the mode to `change.now` and keep `change` in the audit."""
        ...

    def changes(self, limit: int = 20) -> list[ModeChange]:
        """The latest switches, newest first."""
        ...


class CauseStore(Protocol):
    """Where each cause's record is kept (the cases table on AWS; docs/causes.md): the cases seen with
    it, for good, and the one notice to its rule's owner."""

    def seen(self, cause: Cause, seen: CauseSeen) -> bool:
        """Keep the case in the cause's history; False when it was kept before."""
        ...
    def heads(self, limit: int = 200) -> list[CauseHead]:
        """The causes, newest wave (last seen) first."""
        ...
    def head(self, cause_key: str) -> CauseHead | None: ...
    def cases(self, cause_key: str) -> list[CauseSeen]: ...
    def claim_owner_notice(self, cause_key: str, at: datetime, evidence: Evidence) -> bool:
        """True for exactly one caller per cause: that one tells the rule's owner."""
        ...
    def notice(self, cause_key: str) -> Evidence | None: ...


class PolicyConflict(Exception):
    """The policy changed since it was read (another staff member switched or revoked it)."""


class PolicyStore(Protocol):
    """Standing policies and the audit of their decisions (the cases table on AWS; docs/causes.md)."""

    def create(self, policy: Policy) -> None: ...
    def get(self, policy_id: str) -> Policy | None: ...
    def save(self, policy: Policy) -> Policy:
        """One conditional write over the version read; PolicyConflict if anyone wrote since."""
        ...
    def record(self, decision: PolicyDecision) -> bool:
        """The policy's decision on a case, once: False when it decided the case before."""
        ...
    def update_decision(self, decision: PolicyDecision) -> None: ...
    def decisions(self, policy_id: str) -> list[PolicyDecision]: ...
    def claim_day(self, policy_id: str, at: datetime, cap: int) -> bool:
        """One of the day's `cap` approvals, atomically; False when they are taken."""
        ...
    def release_day(self, policy_id: str, at: datetime) -> None: ...
    def list(self, limit: int = 200) -> list[Policy]: ...  # last: the name hides the builtin below it


class OwnerNotices(Protocol):
    """The rule owners' channel (an SNS topic; the rule and its owner in the message): never customers."""

    def publish(self, evidence: Evidence) -> None: ...


class Outbox(Protocol):
    def send(self, reply: OutgoingReply) -> None:
        """Queue the reply for delivery; raises OutboxUnavailable when it cannot for now."""
        ...


class TaskGone(Exception):
    """The waiting task's token is dead (its execution ended, or the wait timed out)."""


class Workflow(Protocol):
    """Step Functions as the intake, the re-check and staff decisions use it. `complete_staff_task`
    and `heartbeat` raise TaskGone when the token no longer names a waiting task."""

    def complete_staff_task(self, token: str, output: dict[str, Any]) -> None: ...
    def send_task_success(self, token: str, output: dict[str, Any]) -> None:
        """Resume the waiting task; TaskGone when it is no longer there."""
        ...
    def send_task_failure(self, token: str, error: str, cause: str) -> None:
        """Fail the waiting task with `error` (Catch matches on it); TaskGone when it is no longer there."""
        ...
    def heartbeat(self, token: str) -> None: ...
    def path(self, case: Case) -> list[str] | None:
        """The states the case's execution went through (None when unknown)."""
        ...
    def rerun(self, case: Case) -> None:
        """Start the case's run number `case.runs` (claimed on the case first, see `rerun_arn`)."""
        ...
    def rerun_arn(self, case: Case) -> str:
        """The execution of the case's next run, `case.runs + 1` (known before it starts: whoever
        runs the case again claims it on the case with one conditional write)."""
        ...
    def is_running(self, case: Case) -> bool: ...
    def start_case(self, report: Report) -> tuple[str, bool]:
        """Start the workflow for a new (redacted) report; the execution name derives from its case
        id, so a second start for the same case starts nothing. Returns the execution ARN and
        whether this call started it."""
        ...


class DeliveryError(Exception):
    """Not delivered. The message is safe to log: no reply text, no credentials."""

    def __init__(self, message: str, *, destination: str, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.destination = destination
        self.status = status
        self.code = code


class DeliveryFailed(DeliveryError):
    """Retry later as is: timeout, connection error, 429, 5xx, secret unreadable."""

    def __init__(self, message: str, *, destination: str, status: int | None = None,
                 code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, destination=destination, status=status, code=code)
        self.retry_after = retry_after


class DeliveryRejected(DeliveryError):
    """The help desk refused it (4xx other than 429) or the adapter is misconfigured: a retry
    would fail the same way. Ends in the dead-letter queue."""


class Notifier(Protocol):
    def deliver(self, reply: OutgoingReply) -> None:
        """Deliver the reply; raises DeliveryFailed or DeliveryRejected."""
        ...


class HelpDeskReader(Protocol):
    """What unblock reads from one help desk's API (its user API and its tickets), with the account
    its replies use. Never raises: None when unknown, unreadable or not configured."""

    def email_for(self, handle: str | None) -> str | None:
        """The requester's email for their handle on the desk (a user id, a username)."""
        ...

    def ticket(self, ticket_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The ticket and its comments (for a delivery that carried no text), or None."""
        ...

    def message_recipients(self, topic_id: str) -> tuple[list[str], list[str]] | None:
        """A private message's recipients (usernames, group names); None when unknown, or on a desk
        without private messages."""
        ...

    def account_user(self) -> str | None:
        """The account unblock's replies and tickets are posted as (its email or username), or None."""
        ...


# What an event kept on the intake dead-letter queue was: how a replay maps it again ("ticket",
# "report", "denial": a gateway denial signal, which the SignalsFunction takes, "unknown", or the
# name of the help desk whose verified delivery it was; the others reach the IntakeFunction)
IntakeKind = str
INTAKE_KINDS: tuple[str, ...] = ("ticket", "report", "denial", "unknown")


class DeadLetters(Protocol):
    """The intake's dead-letter queue: an event that cannot be processed is kept, redacted, with
    its reason, never dropped (`unblock replay` re-drives it)."""

    def keep(self, kind: IntakeKind, payload: Any, reason: str, received_at: datetime) -> None: ...
