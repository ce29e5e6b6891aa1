"""What the customer reads: one reply per outcome, with the steps for each finding."""

from __future__ import annotations

from unblock.cases import Case
from unblock.models import Finding

STEPS: dict[str, str] = {
    "billing.no_payment_method": "Add and verify a payment method in Team Settings → Billing.",
    "billing.payment_method_expired": "Your card on file has expired: update it in Team Settings → Billing.",
    "billing.payment_failed": "Your last payment was declined: update your card or contact your bank, then retry the payment.",
    "billing.invoice_overdue": "An invoice is past due: pay it in Team Settings → Billing → Invoices.",
    "billing.credits_exhausted": "Your credit balance is used up: buy credits or turn on auto top-up.",
    "billing.free_credits_restricted": "Free credits are restricted on this team: add a payment method and buy credits to continue.",
    "key.none_active": "Your team has no active API key: create one in the dashboard (AI Gateway → API Keys).",
    "key.not_found": "We could not find the key you used on your team: check that you copied it from this team.",
    "key.wrong_team": "The key you used belongs to a different team: create a key on this team or use that team.",
    "key.revoked": "The key you used was revoked: create a new key and update your client.",
    "key.expired": "The key you used has expired: create a new key and update your client.",
    "key.budget_exhausted": "The key's spending budget is used up: raise its budget or use another key.",
    "key.propagating": "Your key was created a few minutes ago and is still reaching every region: retry in a few minutes.",
}

FIXED: dict[str, str] = {
    "clear_billing_hold": "removed a billing hold that should have been lifted automatically",
    "resync_key": "re-synced your API key to our edge network",
    "resync_entitlements": "re-enabled AI Gateway on your plan",
    "lift_risk_hold": "lifted an automated risk hold on your team",
}

ROTATE = ("You pasted a full API key or token in your message. We removed it from our records, "
          "but please treat it as exposed: revoke it and create a new one.")


def _steps(findings: list[Finding]) -> list[str]:
    return [STEPS[f.code] for f in findings if f.disposition == "customer_action" and f.code in STEPS]


def customer_reply(case: Case, findings_now: list[Finding]) -> str | None:
    """The reply for the case's outcome; None while staff hold the case (the note says why)."""
    parts: list[str] = []
    fixed = [FIXED[f] for f in case.fixes_applied]
    if case.outcome == "needs_info":
        parts.append("Thanks for reaching out. We could not tell which team you are on: please reply with your "
                     "team ID (it starts with team_, in Team Settings) or your team's slug.")
    elif case.outcome == "already_working":
        parts.append("We checked your team's billing, API keys and restrictions and found nothing blocking, "
                     "and a test request through the gateway succeeds now. Please retry; if you still see "
                     "403 Forbidden, reply with the X-Vercel-Id of a failing request.")
    elif case.outcome == "auto_fixed":
        parts.append(f"We found the cause and fixed it: we {' and '.join(fixed)}. "
                     "A test request through the gateway now succeeds; please retry your requests.")
    elif case.outcome == "customer_action":
        lead = f"We {' and '.join(fixed)}, but one thing is still needed on your side:" if fixed else \
            "We found what blocks your requests; it needs a step on your side:"
        parts.append("\n".join([lead, *[f"- {s}" for s in _steps(findings_now)],
                                "We re-check automatically and will let you know once access works again."]))
    elif case.outcome == "escalated":
        if case.status != "closed":
            parts.append("Thanks for the report. Your case needs a review by our team; we have passed it on "
                         "with everything we found and will get back to you here.")
        elif case.resolution == "checks_pass":
            parts.append(access_restored_reply())
        elif case.resolution == "stale":
            parts.append(stale_reply())
        elif case.resolution == "resolved":
            parts.append("Our team has resolved the issue on your account. Please retry your requests.")
        elif case.resolution in ("rejected", "timed_out"):
            parts.append("Our team reviewed your case; access stays restricted for now. "
                         "We will follow up with details by email.")
    if case.report.must_rotate_key:
        parts.append(ROTATE)
    return "\n\n".join(parts) if parts else None


def access_restored_reply() -> str:
    return "Good news: we re-checked your team and requests through the gateway succeed again. You're all set."


def stale_reply() -> str:
    return ("We are closing this case after 14 days without a change. If requests still fail with "
            "403 Forbidden, reply here and we will look again.")


def internal_note(case: Case) -> str:
    lines = [f"unblock case {case.case_id} · team {case.team_id or 'unknown'} · outcome {case.outcome}"]
    lines += [f"- {f.code} ({f.disposition}): {f.summary}" for f in case.findings]
    lines += [f"- fix {r.fix}: {r.status} by {r.actor} at {r.at.isoformat()}" for r in case.fixes]
    if case.escalation:
        lines.append(f"Escalated: {case.escalation.reason}")
    if case.report.must_rotate_key:
        lines.append("A secret was pasted in the ticket and redacted: the key must be rotated.")
    return "\n".join(lines)
