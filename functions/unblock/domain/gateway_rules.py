"""What the gateway answers for a team and key right now (DESIGN.md "Probe").

Pure functions over the read model, shared by the sandbox platform's probe and the
sandbox gateway's HTTP face, so both answer exactly alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from unblock.domain.models import ProbeResult
from unblock.domain.platform_model import Billing, Key, ModelPolicy, Team

PROPAGATION_WINDOW = timedelta(minutes=10)


def card_ok(billing: Billing) -> bool:
    pm = billing.payment_method
    return pm.status == "valid" and pm.verified


def credits_gone(billing: Billing) -> bool:
    c = billing.credits
    return c.balance_cents is not None and c.balance_cents <= 0 and not (c.auto_topup and card_ok(billing))


def needs_verification(billing: Billing) -> bool:
    return billing.credits.tier == "free" and not card_ok(billing)


def key_usable(key: Key, now: datetime) -> bool:
    return not key_problems(key, now)


def key_problems(key: Key, now: datetime) -> list[str]:
    """Problems of one key, as key.* code suffixes, in the order the key check weighs them."""
    problems: list[str] = []
    if key.status == "revoked":
        problems.append("revoked")
    expired = key.expires_at is not None and key.expires_at <= now
    if expired:
        problems.append("expired")
    budget = key.budget
    if budget.limit_cents is not None and budget.used_cents >= budget.limit_cents:
        problems.append("budget_exhausted")
    # only a live key (active, not expired) is worth propagating: never resync a dead key
    if key.status == "active" and not expired and not key.edge_synced:
        young = key.created_at is not None and now - key.created_at < PROPAGATION_WINDOW
        problems.append("propagating" if young else "not_propagated")
    return problems


def find_key(keys: tuple[Key, ...], named: str) -> Key | None:
    """The key a customer named by prefix. Tickets quote prefixes of any length (`vck_3f9a`, or
    the first characters of a pasted, since redacted, key), so the stored prefix and the named
    one match when either starts with the other; the longest stored prefix wins."""
    matches = [k for k in keys if named.startswith(k.prefix) or k.prefix.startswith(named)]
    return max(matches, key=lambda k: len(k.prefix), default=None)


def active_keys(keys: tuple[Key, ...], now: datetime) -> list[Key]:
    return [k for k in keys if k.status == "active" and not (k.expires_at and k.expires_at <= now)]


def overdue_invoices(billing: Billing, now: datetime) -> list[str]:
    return [i.id for i in billing.invoices if i.status == "open" and i.due_at < now]


# The gateway's refusal of a model that free credits do not cover: a 403 whose type is
# `no_providers_available` (the AI SDK shows `RestrictedModelsError` inside), as customers quote it.
MODEL_RESTRICTED = ProbeResult(
    status=403, error_type="no_providers_available",
    message="Free tier users do not have access to this model. Upgrade to paid credits to use it.",
)


def answer(team: Team, key: Key | None, now: datetime, *, key_named: bool, model: str | None = None,
           policy: ModelPolicy | None = None) -> ProbeResult:
    """The gateway's answer to a request from `team` with `key` (or its best key if none is named)
    for `model` (any model the team may use if none is named)."""
    if key_named and key is None:
        return ProbeResult(status=401, error_type="authentication_error", message="Invalid API key.")
    billing = team.billing
    if needs_verification(billing):
        return ProbeResult(
            status=403,
            error_type="customer_verification_required",
            message="Add a verified payment method to use the free tier.",
        )
    if credits_gone(billing):
        return ProbeResult(status=402, error_type="insufficient_funds", message="Insufficient funds.")
    denied = (
        billing.hold.active
        or bool(overdue_invoices(billing, now))
        or (billing.credits.tier == "free" and billing.credits.free_credits_restricted)
        or bool(team.restrictions)
        or not team.entitlements.ai_gateway
    )
    if key is None:
        denied = denied or not any(key_usable(k, now) for k in team.keys)
    else:
        denied = denied or not key_usable(key, now)
    if denied:
        return ProbeResult(status=403, error_type="access_denied", message="Forbidden.")
    if billing.credits.tier == "free" and policy is not None and policy.restricts(model):
        return MODEL_RESTRICTED
    return ProbeResult(status=200)
