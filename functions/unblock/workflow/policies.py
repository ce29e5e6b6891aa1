"""Standing policies from staff's own decisions (docs/causes.md; the rules: unblock.domain.policies).

- `create` / `switch` (`unblock policy ...`, the console's cause page): a policy for a cause, in shadow;
  switched live, back to shadow, or revoked by a staff member (each change audited on the policy).
- `consult` (Escalate, where a case would wait for staff on a proposal): each shadow policy of the
  case's cause records what it would have done; a live one that approves decides the case as staff
  would (the same conditional claim and SendTaskSuccess, `policy:<id>` as the actor), so the case
  applies the fix under the automatic guardrails, verifies and replies as after a staff approval.
- `stop_if_reverted`: a live policy one of whose fixes staff reverted stops by itself.
- `policy_view`: a policy with its audit and, for its shadow decisions, the agreement with staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from unblock.domain.cases import Case
from unblock.domain.causes import is_policy
from unblock.domain.fixes import REVERT_WINDOW
from unblock.domain.incidents import cause_of
from unblock.domain.models import Mode
from unblock.domain.policies import (
    MAX_NOTE,
    Policy,
    PolicyChange,
    PolicyConditions,
    PolicyDecision,
    PolicyStatus,
    evaluate,
    expires,
    policy_id_for,
    proposed_fix,
)
from unblock.domain.staff_errors import StaffError
from unblock.domain.tickets.redaction import redact
from unblock.ports import CaseStore, CauseStore, Clock, FixLedger, PolicyConflict, PolicyStore, Workflow
from unblock.workflow import staff_decisions

log = logging.getLogger(__name__)
DEFAULT_DAYS = 14


class NoSuchPolicy(StaffError):
    """No policy with that id."""


def create(policies: PolicyStore, causes: CauseStore, clock: Clock, cause_key: str, actor: str, *,
           owner: str | None = None, days: int = DEFAULT_DAYS,
           conditions: PolicyConditions | None = None) -> Policy:
    """A policy for the cause's proposed fix, in shadow (nothing is approved until staff switch it live)."""
    if not actor:
        raise StaffError("a policy needs the staff member's identity")
    head = causes.head(cause_key)
    if head is None:
        raise StaffError(f"no cause {cause_key!r} (see `unblock causes`)")
    fix = proposed_fix(head.cause)
    if fix is None:
        raise StaffError(f"the cause {head.cause.label} has no fix a policy could approve")
    now = clock.now()
    try:
        expires_at = expires(now, days)
    except ValueError as err:
        raise StaffError(str(err)) from None
    actor = redact(actor)[0]
    policy = Policy(policy_id=policy_id_for(head.cause, now), cause=head.cause, fix=fix,
                    owner=redact(owner or actor)[0][:200], created_by=actor, created_at=now, expires_at=expires_at,
                    conditions=conditions or PolicyConditions(),
                    history=[PolicyChange(status="shadow", actor=actor, at=now, note="created")])
    policies.create(policy)
    return policy


_ALLOWED: dict[PolicyStatus, set[str]] = {"live": {"shadow"}, "shadow": {"live"}, "revoked": {"shadow", "live",
                                                                                            "stopped"}}


def switch(policies: PolicyStore, clock: Clock, policy_id: str, status: PolicyStatus, actor: str,
           note: str | None = None) -> Policy:
    """Switch a policy live, back to shadow, or revoke it (one command; refused with the reason otherwise)."""
    if not actor:
        raise StaffError("switching a policy needs the staff member's identity")
    if status not in _ALLOWED:
        raise StaffError(f"a policy is switched live, shadow or revoked (not {status!r})")
    for _ in range(5):
        policy = policies.get(policy_id)
        if policy is None:
            raise NoSuchPolicy(f"no policy {policy_id!r}")
        now = clock.now()
        state = policy.state(now)
        if state == status:
            return policy
        if state not in _ALLOWED[status]:
            raise StaffError(f"policy {policy_id} is {state}: it cannot be switched {status}"
                             + (" (make a new one)" if state in ("expired", "stopped", "revoked") else ""))
        change = PolicyChange(status=status, actor=redact(actor)[0], at=now,
                              note=redact((note or "").strip())[0][:MAX_NOTE] or None)
        try:
            return policies.save(policy.model_copy(update={"status": status, "history": [*policy.history, change]}))
        except PolicyConflict:
            continue
    raise StaffError(f"policy {policy_id} kept changing; try again")


def stop_if_reverted(policies: PolicyStore, store: CaseStore, clock: Clock, policy: Policy) -> Policy:
    """A live policy stops by itself once staff reverted a fix it approved (within the revert window)."""
    if policy.status != "live":
        return policy
    now = clock.now()
    acted = [d for d in policies.decisions(policy.policy_id)
             if d.acted and now - d.at <= REVERT_WINDOW + timedelta(days=1)]
    if not acted:
        return policy
    found = store.get_many([d.case_id for d in acted])
    reverted = next((c for c in found.values() if c.reverts), None)
    if reverted is None:
        return policy
    who = reverted.reverts[-1]
    reason = f"a fix it approved was reverted: case {reverted.case_id}, {who.fix} by {who.actor}"
    try:
        stopped = policies.save(policy.model_copy(update={
            "status": "stopped", "stopped_reason": reason,
            "history": [*policy.history, PolicyChange(status="stopped", actor="unblock", at=now, note=reason)]}))
    except PolicyConflict:
        return policies.get(policy.policy_id) or policy
    log.warning("policy stopped: a fix it approved was reverted",
                extra={"policy_id": policy.policy_id, "case_id": reverted.case_id})
    return stopped


def consult(policies: PolicyStore, store: CaseStore, workflow: Workflow, ledger: FixLedger, clock: Clock, case: Case,
            *, lift_cap: int, stack_mode: Mode, failed: bool = False) -> Policy | None:
    """The live policy that approved the waiting case (decided now, as staff would), or None: staff decide.
    Shadow policies of the case's cause record what they would have done. `stack_mode` is the stack's
    mode now: an admin's switch to approval or shadow stops every policy at once. Never fails the case."""
    try:
        return _consult(policies, store, workflow, ledger, clock, case, lift_cap, stack_mode, failed)
    except Exception as err:  # noqa: BLE001 - staff decide what no policy could
        log.warning("policies not consulted", extra={"case_id": case.case_id, "error": type(err).__name__})
        return None


def _consult(policies: PolicyStore, store: CaseStore, workflow: Workflow, ledger: FixLedger, clock: Clock,
             case: Case, lift_cap: int, stack_mode: Mode, failed: bool) -> Policy | None:
    cause = cause_of(case.findings)
    if cause is None or case.status != "open" or not case.task_token:  # recorded by Escalate, not yet waiting
        return None
    now = clock.now()
    mine = [p for p in policies.list() if p.cause_key == cause.key and p.state(now) in ("shadow", "live")]
    if not mine:
        return None
    lifts = ledger.lifts_since(now - timedelta(hours=1))
    for listed in sorted(mine, key=lambda p: p.status != "live"):  # a live policy first
        policy = stop_if_reverted(policies, store, clock, policies.get(listed.policy_id) or listed)
        state = policy.state(now)
        if state not in ("shadow", "live"):
            continue
        verdict = evaluate(policy, case, now, lifts_last_hour=lifts, lift_cap=lift_cap, failed=failed,
                           stack_mode=stack_mode)
        decision = PolicyDecision(policy_id=policy.policy_id, case_id=case.case_id, team_id=case.team_id, at=now,
                                  mode=state, approve=verdict.approve, reason=verdict.reason)
        if state == "shadow" or not verdict.approve:
            policies.record(decision)
            continue
        if not policies.record(decision):
            continue  # it decided this case before (a repeated Escalate): staff decide now
        if not policies.claim_day(policy.policy_id, now, policy.conditions.max_per_day):
            policies.update_decision(decision.model_copy(update={
                "approve": False, "reason": f"the policy's {policy.conditions.max_per_day} teams a day are taken"}))
            continue
        # the lift's slot in the hourly cap, claimed now as the fix step claims it (the same key: that
        # claim then finds this one), so concurrent cases never take the cap past its bound
        lift = policy.fix == "lift_risk_hold"
        if lift and not ledger.claim_lift(case.run_key, now, lift_cap):
            policies.release_day(policy.policy_id, now)
            policies.update_decision(decision.model_copy(update={
                "approve": False, "reason": f"the hourly lift cap ({lift_cap}) is reached"}))
            continue
        try:
            staff_decisions.decide(store, workflow, None, clock, case.case_id, "approve", policy.actor,
                                   f"Approved by standing policy {policy.policy_id} (owner {policy.owner}).",
                                   stack_mode=stack_mode, expected_version=case.version, waiting="open")
        except Exception as err:  # noqa: BLE001 - the case waits for staff as before
            policies.release_day(policy.policy_id, now)
            if lift:
                ledger.release_lift(case.run_key, now)
            policies.update_decision(decision.model_copy(update={
                "approve": False, "reason": f"not applied: {type(err).__name__}: {str(err)[:200]}"}))
            continue
        policies.update_decision(decision.model_copy(update={"acted": True}))
        log.info("approved by a standing policy", extra={"case_id": case.case_id, "policy_id": policy.policy_id})
        return policy
    return None


# --- what staff see ---------------------------------------------------------------------------
@dataclass
class PolicyView:
    policy: Policy
    state: str
    decisions: list[PolicyDecision]
    agreed: int  # shadow decisions staff's own decision agreed with
    compared: int  # shadow decisions staff have decided since

    @property
    def approved(self) -> int:
        return sum(1 for d in self.decisions if d.acted)

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def policy_view(policies: PolicyStore, store: CaseStore, clock: Clock, policy_id: str) -> PolicyView | None:
    policy = policies.get(policy_id)
    if policy is None:
        return None
    policy = stop_if_reverted(policies, store, clock, policy)
    decisions = policies.decisions(policy_id)
    shadow = [d for d in decisions if d.mode == "shadow"]
    found = store.get_many([d.case_id for d in shadow]) if shadow else {}
    agreed = compared = 0
    for d in shadow:
        case = found.get(d.case_id)
        staff = [x for x in (case.decisions if case else []) if not is_policy(x)]
        if not staff:
            continue
        compared += 1
        agreed += int(d.approve == (staff[-1].decision == "approve"))
    return PolicyView(policy, policy.state(clock.now()), decisions, agreed, compared)


def list_policies(policies: PolicyStore, store: CaseStore, clock: Clock, cause_key: str | None = None
                  ) -> list[PolicyView]:
    views = (policy_view(policies, store, clock, p.policy_id) for p in policies.list()
             if cause_key is None or p.cause_key == cause_key)
    return [v for v in views if v is not None]
