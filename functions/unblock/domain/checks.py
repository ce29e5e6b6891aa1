"""The three checks (DESIGN.md "Findings"): each reads the platform and returns one finding.

Where a check sees several problems it reports the one that decides the outcome
(escalate before auto_fix before customer_action, then the order listed here) and lists
the others in its evidence. Evidence holds the facts looked at, never a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from unblock.domain import gateway_rules as rules
from unblock.domain.models import SEVERITY, Disposition, Finding, FixName
from unblock.domain.platform_model import AutoLift, Billing, Key
from unblock.ports import Platform

RISK_SCORE_LIFTABLE_BELOW = 0.5
AUTO_LIFT_COOLDOWN = timedelta(days=30)


def recent_risk_hold_lifts(lifts: Iterable[AutoLift], now: datetime) -> list[AutoLift]:
    """The team's automatic risk-hold lifts within the cooldown: while there is one, no other
    lift is automatic (the one place the 30-day rule is written; checks and fixes both ask)."""
    return [lift for lift in lifts if lift.flag == "risk_hold" and now - lift.at < AUTO_LIFT_COOLDOWN]

# code -> (disposition, fix, one-line summary a person can read)
CATALOGUE: dict[str, tuple[Disposition, FixName | None, str]] = {
    "billing.ok": ("ok", None, "Billing is in good standing."),
    "billing.no_payment_method": ("customer_action", None, "No verified payment method on the team."),
    "billing.payment_method_expired": ("customer_action", None, "The team's card has expired."),
    "billing.payment_failed": ("customer_action", None, "The team's last payment was declined."),
    "billing.invoice_overdue": ("customer_action", None, "An invoice is open past its due date."),
    "billing.credits_exhausted": ("customer_action", None, "The team's credit balance is used up."),
    "billing.free_credits_restricted": ("customer_action", None, "Free credits are restricted on this team."),
    "billing.stale_hold": ("auto_fix", "clear_billing_hold",
                           "An automated billing hold is still on although billing is in order."),
    "billing.hold": ("escalate", None, "Staff placed a billing hold on the team."),
    "key.ok": ("ok", None, "The API key is active and synced."),
    "key.none_active": ("customer_action", None, "The team has no active API key."),
    "key.not_found": ("customer_action", None, "No key with that prefix exists."),
    "key.wrong_team": ("customer_action", None, "The key belongs to a different team."),
    "key.revoked": ("customer_action", None, "The API key was revoked."),
    "key.expired": ("customer_action", None, "The API key has expired."),
    "key.budget_exhausted": ("customer_action", None, "The key's spending budget is used up."),
    "key.propagating": ("customer_action", None,
                        "The key was created minutes ago and is still reaching the edge; retry shortly."),
    "key.not_propagated": ("auto_fix", "resync_key", "The key never reached the edge; it needs a resync."),
    "restrictions.ok": ("ok", None, "No restriction flags; AI Gateway is enabled."),
    "restrictions.entitlement_out_of_sync": ("auto_fix", "resync_entitlements",
                                             "The AI Gateway entitlement is off although the plan includes it."),
    "restrictions.risk_hold_liftable": ("auto_fix", "lift_risk_hold",
                                        "An automated low-risk hold can be lifted safely."),
    "restrictions.risk_hold": ("escalate", None, "A risk hold needs a person to review it."),
    "restrictions.abuse": ("escalate", None, "The team is flagged for abuse."),
    "restrictions.fraud_review": ("escalate", None, "The team is under fraud review."),
    "restrictions.sanctions": ("escalate", None, "The team is flagged for sanctions screening."),
    "restrictions.staff_hold": ("escalate", None, "Staff placed a hold on the team."),
}


def finding(code: str, evidence: dict[str, Any], *, summary: str | None = None) -> Finding:
    disposition, fix, default_summary = CATALOGUE[code]
    check = code.split(".", 1)[0]
    return Finding.model_validate(
        {"check": check, "code": code, "disposition": disposition, "fix": fix,
         "summary": summary or default_summary, "evidence": evidence}
    )


def _pick(candidates: list[str], evidence: dict[str, Any]) -> Finding:
    """The problem that decides the outcome; the rest go into the evidence."""
    # stable sort keeps the listed order within one disposition
    ordered = sorted(candidates, key=lambda c: -SEVERITY[CATALOGUE[c][0]])
    if len(ordered) > 1:
        evidence["other_problems"] = ordered[1:]
    return finding(ordered[0], evidence)


# --- billing ---------------------------------------------------------------------------------
def _payment_problems(billing: Billing, now: datetime) -> list[str]:
    pm = billing.payment_method
    problems = []
    if pm.status == "none" or (pm.status == "valid" and not pm.verified):
        problems.append("billing.no_payment_method")
    if pm.status == "expired":
        problems.append("billing.payment_method_expired")
    if pm.status == "declined":
        problems.append("billing.payment_failed")
    if rules.overdue_invoices(billing, now):
        problems.append("billing.invoice_overdue")
    return problems


def check_billing(platform: Platform, team_id: str, now: datetime) -> Finding:
    billing = platform.get_billing(team_id)
    pm, hold, credits = billing.payment_method, billing.hold, billing.credits
    overdue = rules.overdue_invoices(billing, now)
    evidence: dict[str, Any] = {
        "payment_method": pm.status, "payment_verified": pm.verified,
        "hold_active": hold.active, "hold_source": hold.source if hold.active else None,
        "hold_reason": hold.reason if hold.active else None,
        "hold_since": hold.since.isoformat() if hold.active and hold.since else None,
        "tier": credits.tier, "balance_cents": credits.balance_cents, "auto_topup": credits.auto_topup,
        "free_credits_restricted": credits.free_credits_restricted, "overdue_invoices": overdue,
    }
    payment = _payment_problems(billing, now)
    candidates: list[str] = []
    if hold.active and hold.source == "staff":
        candidates = ["billing.hold", *payment]
    elif hold.active:
        # an automated hold over a real problem reports the problem; once mended, the hold is stale
        candidates = payment or ["billing.stale_hold"]
    else:
        # without a hold only what the gateway itself refuses on counts (rules.answer)
        if rules.needs_verification(billing):
            candidates.append("billing.no_payment_method")
        if overdue:
            candidates.append("billing.invoice_overdue")
        warnings = [p for p in payment if p not in candidates]
        if warnings:
            evidence["warnings"] = warnings
    if rules.credits_gone(billing):
        candidates.append("billing.credits_exhausted")
    if credits.tier == "free" and credits.free_credits_restricted:
        candidates.append("billing.free_credits_restricted")
    return _pick(candidates, evidence) if candidates else finding("billing.ok", evidence)


# --- key -------------------------------------------------------------------------------------
def _key_evidence(key: Key, now: datetime) -> dict[str, Any]:
    return {
        "key_id": key.key_id, "prefix": key.prefix, "status": key.status,
        "created_at": key.created_at.isoformat() if key.created_at else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "edge_synced": key.edge_synced,
        "age_minutes": int((now - key.created_at).total_seconds() // 60) if key.created_at else None,
        "budget_limit_cents": key.budget.limit_cents, "budget_used_cents": key.budget.used_cents,
    }


def check_key(platform: Platform, team_id: str, key_prefix: str | None, now: datetime) -> Finding:
    keys = platform.get_keys(team_id)
    if key_prefix:
        key = rules.find_key(keys, key_prefix)
        if key is None:
            owner = platform.find_key_owner(key_prefix)
            code = "key.wrong_team" if owner and owner != team_id else "key.not_found"
            # never name the other team: the reporter may not belong to it
            return finding(code, {"prefix": key_prefix, "team_keys": [k.prefix for k in keys]})
        problems = [f"key.{p}" for p in rules.key_problems(key, now)]
        evidence = _key_evidence(key, now)
        return _pick(problems, evidence) if problems else finding("key.ok", evidence)

    active = rules.active_keys(keys, now)
    evidence = {"key_named": False, "active_keys": [k.prefix for k in active], "keys_total": len(keys)}
    if not active:
        return finding("key.none_active", evidence)
    if any(rules.key_usable(k, now) for k in active):
        return finding("key.ok", evidence)
    # every active key has a problem: report the key whose problem decides the outcome,
    # weighing all of each key's problems as for a named key (not just its first one)
    per_key = [
        _pick([f"key.{p}" for p in rules.key_problems(k, now)], {**evidence, **_key_evidence(k, now)})
        for k in active
    ]
    return max(per_key, key=lambda f: SEVERITY[f.disposition])


# --- restrictions ----------------------------------------------------------------------------
def check_restrictions(platform: Platform, team_id: str, now: datetime) -> Finding:
    restrictions = platform.get_restrictions(team_id)
    entitlements = platform.get_entitlements(team_id)
    evidence: dict[str, Any] = {
        "flags": [
            {"flag": r.flag, "source": r.source, "risk_score": r.risk_score, "reason": r.reason,
             "created_at": r.created_at.isoformat() if r.created_at else None}
            for r in restrictions
        ],
        "ai_gateway_entitled": entitlements.ai_gateway,
    }
    candidates: list[str] = []
    for flag in ("sanctions", "fraud_review", "abuse", "staff_hold"):
        if any(r.flag == flag for r in restrictions):
            candidates.append(f"restrictions.{flag}")
    risk_holds = [r for r in restrictions if r.flag == "risk_hold"]
    if risk_holds:
        recent_lifts = [lift.at.isoformat() for lift in recent_risk_hold_lifts(platform.get_auto_lifts(team_id), now)]
        card_ok = rules.card_ok(platform.get_billing(team_id))
        liftable = not recent_lifts and card_ok and all(
            r.source == "automated" and r.risk_score is not None and r.risk_score < RISK_SCORE_LIFTABLE_BELOW
            for r in risk_holds
        )
        evidence.update({"card_valid_and_verified": card_ok, "risk_hold_auto_lifts_30d": recent_lifts})
        candidates.append("restrictions.risk_hold_liftable" if liftable else "restrictions.risk_hold")
    if not entitlements.ai_gateway:
        candidates.append("restrictions.entitlement_out_of_sync")
    return _pick(candidates, evidence) if candidates else finding("restrictions.ok", evidence)
