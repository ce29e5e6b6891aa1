"""The fix catalogue and its guardrails (DESIGN.md "Guardrails on fixes").

Every attempt is audited as a FixRecord (before, after, actor, time). A fix is keyed by
case and fix name, so a retry after a half-done fix never applies it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from unblock.domain.checks import CATALOGUE, recent_risk_hold_lifts
from unblock.domain.models import Finding, FixName, FixRecord
from unblock.domain.platform_model import AutoLift, Entitlements, Hold, Key, Restriction, Team
from unblock.ports import Clock, FixConflict, FixLedger, Platform


@dataclass(frozen=True)
class FixPolicy:
    approval: bool = False  # approval mode: every fix becomes a proposal staff approve
    max_auto_lifts_per_hour: int = 20
    # every fix unblock applies by itself, across teams: a burst past it waits for staff (a brake, counted
    # as the fixes are recorded, not claimed: concurrent executions may pass it by a few)
    max_fixes_per_hour: int = 100


@dataclass(frozen=True)
class FixTarget:
    """What one fix acts on: the team, the key (resync_key), the time (lift_risk_hold records it)."""

    team_id: str
    key_id: str | None = None
    at: datetime | None = None


def _no_hold(team: Team, target: FixTarget) -> Team:
    if not team.billing.hold.active:
        raise FixConflict("no billing hold is active")
    billing = team.billing.model_copy(update={"hold": team.billing.hold.model_copy(update={"active": False})})
    return team.model_copy(update={"billing": billing})


def _key_synced(team: Team, target: FixTarget) -> Team:
    if not any(k.key_id == target.key_id and not k.edge_synced for k in team.keys):
        raise FixConflict(f"key {target.key_id} is already synced or gone")
    keys = tuple(k.model_copy(update={"edge_synced": True}) if k.key_id == target.key_id else k for k in team.keys)
    return team.model_copy(update={"keys": keys})


def _entitled(team: Team, target: FixTarget) -> Team:
    if team.entitlements.ai_gateway:
        raise FixConflict("the ai_gateway entitlement is already on")
    return team.model_copy(update={"entitlements": Entitlements(ai_gateway=True)})


def _risk_hold_lifted(team: Team, target: FixTarget) -> Team:
    kept = tuple(r for r in team.restrictions if r.flag != "risk_hold")
    if len(kept) == len(team.restrictions):
        raise FixConflict("no risk hold is active")
    return team.model_copy(update={"restrictions": kept,
                                   "auto_lifts": (*team.auto_lifts, AutoLift(flag="risk_hold", at=_when(target)))})


# --- reverts: the hold put back as the fix's audit `before` recorded it ---------------------------
def _held(before: dict[str, Any]) -> Hold:
    return Hold.model_validate(before["hold"])


def _risk_hold(before: dict[str, Any]) -> Restriction:
    if not isinstance(before.get("risk_hold"), dict):
        raise RevertUnrecorded("the fix's audit did not record the risk hold it lifted")
    return Restriction.model_validate(before["risk_hold"])


def _hold_restored(team: Team, hold: Hold) -> Team:
    if team.billing.hold.active:
        raise FixConflict("a billing hold is active")
    return team.model_copy(update={"billing": team.billing.model_copy(update={"hold": hold})})


def _risk_hold_restored(team: Team, restriction: Restriction) -> Team:
    if any(r.flag == "risk_hold" for r in team.restrictions):
        raise FixConflict("a risk hold is on the team")
    return team.model_copy(update={"restrictions": (*team.restrictions, restriction)})


def _hold_changed(platform: Platform, rec: FixRecord) -> str | None:
    hold = platform.get_billing(rec.team_id).hold
    if hold.active:
        return (f"a billing hold is on the team again ({hold.source}, since "
                f"{hold.since.isoformat() if hold.since else 'unknown'}): the team changed since the fix")
    if hold.model_dump(mode="json") != rec.after.get("hold"):
        return "the team's billing hold changed since the fix (another fix or staff changed it)"
    return None


def _risk_changed(platform: Platform, rec: FixRecord) -> str | None:
    if any(r.flag == "risk_hold" for r in platform.get_restrictions(rec.team_id)):
        return "a risk hold is on the team again: the team changed since the fix"
    if any(lift.flag == "risk_hold" and lift.at > rec.at for lift in platform.get_auto_lifts(rec.team_id)):
        return "another risk-hold lift was made on the team since this one"
    return None


class RevertUnrecorded(ValueError):
    """The fix's audit lacks what a revert puts back (a record written before reverts existed)."""


@dataclass(frozen=True)
class Revert:
    """How staff undo a fix (DESIGN.md "Undo"): the platform put back as the audit's `before` says."""

    # why the revert must not run: the team changed since the fix (a newer hold, another fix); None: it may
    changed_since: Callable[[Platform, FixRecord], str | None]
    # the team already shows what `before` recorded (a retried revert whose case write failed)
    in_place: Callable[[Platform, FixRecord], bool]
    # the port's call that puts it back (idempotent per key; FixConflict when the hold is back already)
    apply: Callable[[Platform, FixRecord, str], None]
    # what it does to the team's record: the sandbox platform applies exactly this
    change: Callable[[Team, dict[str, Any]], Team]


REVERT_BILLING_HOLD = Revert(
    changed_since=_hold_changed,
    in_place=lambda p, r: p.get_billing(r.team_id).hold.model_dump(mode="json") == r.before.get("hold"),
    apply=lambda p, r, idem: p.restore_billing_hold(r.team_id, _held(r.before), idempotency_key=idem),
    change=lambda team, before: _hold_restored(team, _held(before)))
REVERT_RISK_HOLD = Revert(
    changed_since=_risk_changed,
    in_place=lambda p, r: _risk_hold(r.before) in p.get_restrictions(r.team_id),
    apply=lambda p, r, idem: p.restore_risk_hold(r.team_id, _risk_hold(r.before), idempotency_key=idem),
    change=lambda team, before: _risk_hold_restored(team, _risk_hold(before)))


def _restrictions_snapshot(restrictions: tuple[Restriction, ...]) -> dict[str, Any]:
    return {"restrictions": [r.flag for r in restrictions],
            "risk_hold": next((r.model_dump(mode="json") for r in restrictions if r.flag == "risk_hold"), None)}


def _when(target: FixTarget) -> datetime:
    if target.at is None:
        raise ValueError("a risk-hold lift records when it was made")
    return target.at


def _key(platform: Platform, t: FixTarget) -> Key | None:
    return next((k for k in platform.get_keys(t.team_id) if k.key_id == t.key_id), None)


@dataclass(frozen=True)
class Fix:
    """One fix of the catalogue: everything that differs from one fix to another, in one row."""

    # it makes the platform agree with itself, so it is safe whoever asked (DESIGN.md "Who may act")
    consistency_repair: bool
    # what the audit records before and after it
    snapshot: Callable[[Platform, FixTarget], dict[str, Any]]
    # whether the platform shows its effect (after a call that failed part-way)
    in_place: Callable[[Platform, FixTarget], bool]
    # the port's call that applies it (idempotent per key; FixConflict when the precondition is gone)
    apply: Callable[[Platform, FixTarget, str], None]
    # what it does to the team's record: the sandbox platform applies exactly this
    change: Callable[[Team, FixTarget], Team]
    # how staff undo it; None: it makes the platform agree with itself and is not reverted
    revert: Revert | None = None


FIXES: dict[FixName, Fix] = {
    "clear_billing_hold": Fix(
        consistency_repair=True,
        snapshot=lambda p, t: {"hold": p.get_billing(t.team_id).hold.model_dump(mode="json")},
        in_place=lambda p, t: not p.get_billing(t.team_id).hold.active,
        apply=lambda p, t, idem: p.clear_billing_hold(t.team_id, idempotency_key=idem),
        change=_no_hold,
        revert=REVERT_BILLING_HOLD),
    "resync_key": Fix(
        consistency_repair=True,
        snapshot=lambda p, t: {"key_id": t.key_id, "edge_synced": (k.edge_synced if (k := _key(p, t)) else None)},
        in_place=lambda p, t: all(k.edge_synced for k in p.get_keys(t.team_id) if k.key_id == t.key_id),
        apply=lambda p, t, idem: p.resync_key(t.team_id, str(t.key_id), idempotency_key=idem),
        change=_key_synced),
    "resync_entitlements": Fix(
        consistency_repair=True,
        snapshot=lambda p, t: {"entitlements": p.get_entitlements(t.team_id).model_dump(mode="json")},
        in_place=lambda p, t: p.get_entitlements(t.team_id).ai_gateway,
        apply=lambda p, t, idem: p.resync_entitlements(t.team_id, idempotency_key=idem),
        change=_entitled),
    "lift_risk_hold": Fix(
        consistency_repair=False,
        # the whole risk hold, so that a revert can put it back as it was
        snapshot=lambda p, t: _restrictions_snapshot(p.get_restrictions(t.team_id)),
        in_place=lambda p, t: not any(r.flag == "risk_hold" for r in p.get_restrictions(t.team_id)),
        apply=lambda p, t, idem: p.lift_risk_hold(t.team_id, at=_when(t), idempotency_key=idem),
        change=_risk_hold_lifted,
        revert=REVERT_RISK_HOLD),
}
assert set(FIXES) == set(get_args(FixName)), "every fix has its row"

CONSISTENCY_REPAIRS: frozenset[FixName] = frozenset(name for name, fix in FIXES.items() if fix.consistency_repair)
REVERTIBLE: tuple[FixName, ...] = tuple(name for name, fix in FIXES.items() if fix.revert is not None)
REVERT_WINDOW = timedelta(days=7)  # staff may revert a fix this long after it was applied


def revertible(case_fixes: list[FixRecord], reverted: list[FixName], now: datetime) -> list[FixRecord]:
    """The applied fixes staff may still revert: revertible, not reverted yet, within the window."""
    return [r for r in case_fixes if r.status == "applied" and r.fix in REVERTIBLE and r.fix not in reverted
            and now - r.at <= REVERT_WINDOW]


def _refusal(platform: Platform, team_id: str, fix: FixName, now: datetime) -> str | None:
    if fix != "lift_risk_hold":
        return None
    if not any(r.flag == "risk_hold" for r in platform.get_restrictions(team_id)):
        # nothing left to lift (a retry of this very lift, or mended by hand): the guardrails
        # would only refuse on our own lift; the platform call reports it done instead
        return None
    if recent_risk_hold_lifts(platform.get_auto_lifts(team_id), now):
        return "A risk hold was already lifted automatically for this team in the last 30 days."
    # MAX_AUTO_LIFTS_PER_HOUR is not checked here: apply_fixes claims a slot with one conditional
    # write just before the lift (a check here and a lift later would let concurrent cases through)
    return None


def _cap_refusal(policy: FixPolicy) -> str:
    return f"MAX_AUTO_LIFTS_PER_HOUR ({policy.max_auto_lifts_per_hour}) reached across teams."


def _in_place(platform: Platform, fix: FixName, target: FixTarget) -> bool:
    """Whether the platform shows the fix's effect (after a call that failed part-way)."""
    try:
        return FIXES[fix].in_place(platform, target)
    except Exception:  # noqa: BLE001 - cannot tell: assume it is in place (keeps a cap claim: the safe side)
        return True


# Escalations whose remedy is known: what staff approve when they approve the proposal.
STAFF_FIXES: dict[str, FixName] = {"restrictions.risk_hold": "lift_risk_hold", "billing.hold": "clear_billing_hold"}


def fixes_for(f: Finding) -> list[FixName]:
    """The fixes a finding calls for: a safe finding's own fix and those of the other safe problems
    it lists (a liftable risk hold and an entitlement out of sync on one team are both mended);
    for an escalation, the remedy staff can approve, if one is known."""
    if f.disposition != "auto_fix":
        staff_fix = STAFF_FIXES.get(f.code)
        return [staff_fix] if staff_fix else []
    out: list[FixName] = [f.fix] if f.fix else []
    for code in f.evidence.get("other_problems", []):
        row = CATALOGUE.get(code)
        fix = row.fix if row is not None and row.disposition == "auto_fix" else None
        if fix and fix not in out:
            out.append(fix)
    return out


def proposed_fixes(findings: list[Finding]) -> list[FixName]:
    return [fix for f in findings for fix in fixes_for(f)]


def apply_fixes(
    platform: Platform,
    ledger: FixLedger,
    clock: Clock,
    *,
    case_id: str,
    team_id: str,
    findings: list[Finding],
    fixes: list[FixName],
    policy: FixPolicy,
    actor: str,
    approved: bool = False,
    requester_verified: bool,
    guardrails: bool | None = None,
) -> list[FixRecord]:
    """Apply (or, in approval mode, propose) the named fixes, in check order.

    `approved` means staff approved these fixes from the queue: the automatic guardrails
    (approval mode, auto-lift limits) are for fixes nobody looked at, so they do not apply.
    `guardrails` (default: not `approved`) keeps the auto-lift limits (one lift per team in 30 days,
    MAX_AUTO_LIFTS_PER_HOUR) for an approval too: a bulk decision on an incident approves many
    teams' fixes at once without anyone looking at each (DESIGN.md "Incidents").
    For a requester not verified as a member of the team, only the consistency repairs apply
    by themselves; any other fix becomes a proposal for staff (DESIGN.md "Who may act").
    """
    guard = not approved if guardrails is None else guardrails
    records: list[FixRecord] = []
    todo = [(f, fix) for f in findings for fix in fixes_for(f) if fix in fixes]
    for f, fix in todo:
        done = ledger.find(case_id, fix)
        if done is not None and done.status in ("applied", "already_done"):
            records.append(done)  # a retry: the fix was applied before, never apply it twice
            continue
        now = clock.now()
        target = FixTarget(team_id, f.evidence.get("key_id"), now)
        before = FIXES[fix].snapshot(platform, target)
        base = {"case_id": case_id, "team_id": team_id, "fix": fix, "actor": actor, "at": now, "before": before}
        refusal = _refusal(platform, team_id, fix, now) if guard else None
        if refusal:
            rec = FixRecord(**base, status="refused", after=before, reason=refusal)
        elif policy.approval and not approved:
            rec = FixRecord(**base, status="proposed", after=before, reason="Approval mode: waiting for staff.")
        elif not (approved or requester_verified or fix in CONSISTENCY_REPAIRS):
            rec = FixRecord(**base, status="proposed", after=before,
                            reason="The requester is not verified as a member of the team: waiting for staff.")
        elif guard and ledger.fixes_since(now - timedelta(hours=1)) >= policy.max_fixes_per_hour:
            rec = FixRecord(**base, status="refused", after=before,
                            reason=f"MAX_FIXES_PER_HOUR ({policy.max_fixes_per_hour}) reached across teams.")
        elif (capped := fix == "lift_risk_hold" and guard) and not ledger.claim_lift(
                case_id, now, policy.max_auto_lifts_per_hour):
            rec = FixRecord(**base, status="refused", after=before, reason=_cap_refusal(policy))
        else:
            idem = f"{case_id}:{team_id}:{fix}"
            status: Any = "applied"
            reason = f.summary
            retry = ledger.begin_fix(case_id, fix)
            try:
                FIXES[fix].apply(platform, target, idem)
            except FixConflict as conflict:
                if not retry:
                    status, reason = "already_done", f"Nothing to do: {conflict}."
                    if capped:
                        ledger.release_lift(case_id, now)  # someone else lifted it: no lift of ours
                # else: an earlier attempt of this case wrote the fix and failed before the platform
                # marked it done: the fix in place is this case's, applied (and counted in the cap)
            except Exception:
                if capped and not _in_place(platform, fix, target):
                    ledger.release_lift(case_id, now)
                raise
            rec = FixRecord(**base, status=status, after=FIXES[fix].snapshot(platform, target), reason=reason)
        ledger.record(rec)
        records.append(rec)
    return records
