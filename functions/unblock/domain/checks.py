"""The three checks (DESIGN.md "Findings"): each reads the platform and returns one finding.

Where a check sees several problems it reports the one that decides the outcome
(escalate before auto_fix before customer_action, then the order listed here) and lists
the others in its evidence. Evidence holds the facts looked at, never a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

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


class FindingSpec(NamedTuple):
    """One finding code's row (DESIGN.md "Findings"): what it means for the decision, the fix that
    mends it, the summary staff read, and for a customer_action code the customer's step (the words
    the reply gives a verified requester; a test fails for a customer_action code without one)."""

    disposition: Disposition
    fix: FixName | None
    summary: str
    step: str = ""


# code -> its row; `key.wrong_team` and `key.not_found` read alike on purpose: a reply must not
# tell which key prefixes exist on other teams
CATALOGUE: dict[str, FindingSpec] = {
    "billing.ok": FindingSpec("ok", None, "Billing is in good standing."),
    "billing.no_payment_method": FindingSpec(
        "customer_action", None, "No verified payment method on the team.",
        "Add a payment method (a credit card) in Team Settings → Billing and complete its verification: the "
        "gateway serves a team only with a verified card on file, even on free credits."),
    "billing.payment_method_expired": FindingSpec(
        "customer_action", None, "The team's card has expired.",
        "Your card on file has expired: update it in Team Settings → Billing."),
    "billing.payment_failed": FindingSpec(
        "customer_action", None, "The team's last payment was declined.",
        "Your last payment was declined: update your card in Team Settings → Billing (or ask your bank to "
        "allow the charge), then retry the payment there."),
    "billing.invoice_overdue": FindingSpec(
        "customer_action", None, "An invoice is open past its due date.",
        "An invoice is past due: pay it in Team Settings → Billing → Invoices."),
    "billing.credits_exhausted": FindingSpec(
        "customer_action", None, "The team's credit balance is used up.",
        "Your AI Gateway credit balance is used up: buy credits in the AI Gateway tab → Credits, and turn on "
        "auto top-up there so it refills before it reaches zero."),
    "billing.free_credits_restricted": FindingSpec(
        "customer_action", None, "Free credits are restricted on this team.",
        "Free credits no longer cover these requests on your team: buy AI Gateway credits in the AI Gateway "
        "tab → Credits (paid credits are not restricted), then retry."),
    "billing.stale_hold": FindingSpec("auto_fix", "clear_billing_hold",
                                      "An automated billing hold is still on although billing is in order."),
    "billing.hold": FindingSpec("escalate", None, "Staff placed a billing hold on the team."),
    "key.ok": FindingSpec("ok", None, "The API key is active and synced."),
    "key.none_active": FindingSpec(
        "customer_action", None, "The team has no active API key.",
        "Your team has no active API key: create one in the AI Gateway tab → API Keys and set it as "
        "AI_GATEWAY_API_KEY."),
    "key.not_found": FindingSpec(
        "customer_action", None, "No key with that prefix exists.",
        "We could not find the key you used on your team: check that you copied it from this team."),
    "key.wrong_team": FindingSpec(
        "customer_action", None, "The key belongs to a different team.",
        "We could not find the key you used on your team: check that you copied it from this team."),
    "key.revoked": FindingSpec(
        "customer_action", None, "The API key was revoked.",
        "The key you used was revoked: create a new key and update your client."),
    "key.expired": FindingSpec(
        "customer_action", None, "The API key has expired.",
        "The key you used has expired: create a new key and update your client."),
    "key.budget_exhausted": FindingSpec(
        "customer_action", None, "The key's spending budget is used up.",
        "The key's spending budget is used up: raise its budget or use another key."),
    "key.propagating": FindingSpec(
        "customer_action", None, "The key was created minutes ago and is still reaching the edge; retry shortly.",
        "Your key was created a few minutes ago and is still reaching every region: retry in a few minutes."),
    "key.not_propagated": FindingSpec("auto_fix", "resync_key", "The key never reached the edge; it needs a resync."),
    "restrictions.ok": FindingSpec("ok", None, "No restriction flags; AI Gateway is enabled."),
    "restrictions.entitlement_out_of_sync": FindingSpec(
        "auto_fix", "resync_entitlements", "The AI Gateway entitlement is off although the plan includes it."),
    "restrictions.risk_hold_liftable": FindingSpec(
        "auto_fix", "lift_risk_hold", "An automated low-risk hold can be lifted safely."),
    "restrictions.risk_hold": FindingSpec("escalate", None, "A risk hold needs a person to review it."),
    "restrictions.abuse": FindingSpec("escalate", None, "The team is flagged for abuse."),
    "restrictions.fraud_review": FindingSpec("escalate", None, "The team is under fraud review."),
    "restrictions.sanctions": FindingSpec("escalate", None, "The team is flagged for sanctions screening."),
    "restrictions.staff_hold": FindingSpec("escalate", None, "Staff placed a hold on the team."),
}


def finding(code: str, evidence: dict[str, Any], *, summary: str | None = None) -> Finding:
    disposition, fix, default_summary, _ = CATALOGUE[code]
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
