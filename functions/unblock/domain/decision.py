"""The decision (DESIGN.md "Decision", steps 1-5) and the verdict after a fix."""

from __future__ import annotations

from collections.abc import Callable

from unblock.domain.fixes import fixes_for
from unblock.domain.models import Finding, NextStep, Outcome, ProbeResult


def decide(team_id: str | None, findings: list[Finding], probe: Callable[[], ProbeResult]) -> NextStep:
    """The next step for a case. `probe` is only called when every check is ok (step 5)."""
    if not team_id:
        return NextStep(action="needs_info", reason="The team could not be identified from the report.")
    escalating = [f.code for f in findings if f.disposition == "escalate"]
    if escalating:
        # safety rule: no automatic fix while any finding needs a human
        return NextStep(action="escalate", reason="Needs a person: " + ", ".join(escalating) + ".")
    fixes = [fix for f in findings if f.disposition == "auto_fix" for fix in fixes_for(f)]
    if fixes:
        return NextStep(action="auto_fix", reason="Safe automatic fixes apply.", fixes=fixes)
    actions = [f.code for f in findings if f.disposition == "customer_action"]
    if actions:
        return NextStep(action="customer_action", reason="The customer can mend this: " + ", ".join(actions) + ".")
    answer = probe()
    if answer.ok:
        return NextStep(action="already_working", reason="Every check passes and the gateway answers 200.")
    return NextStep(
        action="escalate",
        reason=f"Every check passes but the gateway still answers {answer.status} {answer.error_type}: cause unknown.",
    )


def verdict(findings: list[Finding], probe: ProbeResult) -> tuple[Outcome, str]:
    """After fixes: the checks again plus a probe decide how the case closes."""
    left = [f for f in findings if f.disposition != "ok"]
    if not left and probe.ok:
        return "auto_fixed", "Fix verified: every check passes and the gateway answers 200."
    if left and all(f.disposition == "customer_action" for f in left):
        return "customer_action", "Fixed what was safe; the customer must mend the rest."
    if not left:
        return "escalated", f"Checks pass after the fix but the gateway answers {probe.status} {probe.error_type}."
    return "escalated", "Still blocked after the fix: " + ", ".join(f.code for f in left) + "."
