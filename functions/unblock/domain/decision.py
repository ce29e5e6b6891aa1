"""The decision (DESIGN.md "Decision", steps 0-5) and the verdict after a fix."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from unblock.domain.fixes import fixes_for
from unblock.domain.models import Finding, NextStep, Outcome, ProbeResult
from unblock.domain.tickets.signal_catalogue import BY_CODE
from unblock.domain.tickets.signals import from_request_log


def answered_by_signals(signals: Sequence[str]) -> list[str]:
    """The signals whose steps answer the case on their own: they explain the refusal and need no
    team state (a model policy, a client-side mistake, a provider's refusal). Empty when any
    signal needs the team's state (DESIGN.md "Signals")."""
    specs = [BY_CODE[c] for c in signals if c in BY_CODE]
    if any(s.needs_team for s in specs):
        return []
    return [s.code for s in specs if s.explains]


def handed_on(signals: Sequence[str]) -> list[str]:
    """Step 0 (DESIGN.md "Scope"): the signals staff take (a question, a dispute, the gateway's own
    failure) when the ticket shows nothing else that explains a refusal. Empty when any signal
    explains one (an access denial, a client mistake beside a 5xx is the customer's to fix)."""
    specs = [BY_CODE[c] for c in signals if c in BY_CODE]
    handing = [s.code for s in specs if s.hands_off]
    if handing and all(s.hands_off or not s.explains for s in specs):
        return handing
    return []


def probe_signal(answer: ProbeResult) -> str | None:
    """A refusal the probe shows that needs no team fix (a model free credits do not cover)."""
    code = from_request_log(answer.status, answer.error_type, answer.message)
    return code if code and not answer.ok and not BY_CODE[code].needs_team else None


def decide(team_id: str | None, findings: list[Finding], probe: Callable[[], ProbeResult],
           signals: Sequence[str] = ()) -> NextStep:
    """The next step for a case. `probe` is only called when every check is ok (step 5).
    `signals` (codes, DESIGN.md "Signals") change the answer, never the safety rules: only
    findings lead to fixes and escalations."""
    handing = handed_on(signals)
    if handing and not any(f.disposition != "ok" for f in findings):
        # step 0: nothing for a check to change (no team, or every check passes): staff take it
        return NextStep(action="handed_off", recheck=False,
                        reason="Not a refusal the team's state explains; staff take it: " + ", ".join(handing) + ".")
    if not team_id:
        answered = answered_by_signals(signals)
        if answered:
            return NextStep(action="customer_action", recheck=False,
                        reason="What the customer saw needs no team to answer: " + ", ".join(answered) + ".")
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
    answered = answered_by_signals(signals)
    if answer.ok and answered:
        return NextStep(action="customer_action", recheck=False,
                    reason="Every check passes and the gateway answers 200; what the "
                    "customer saw is on their side: " + ", ".join(answered) + ".")
    if answer.ok:
        return NextStep(action="already_working", reason="Every check passes and the gateway answers 200.")
    refused = probe_signal(answer)
    if refused:
        return NextStep(action="customer_action", reason=f"Every check passes; the gateway refuses the call itself "
                    f"({answer.status} {answer.error_type}): {refused}.")
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
    if not left and probe_signal(probe):
        return "customer_action", (f"Fixed what was safe; the gateway refuses the call itself "
                                   f"({probe.status} {probe.error_type}): {probe_signal(probe)}.")
    if not left:
        return "escalated", f"Checks pass after the fix but the gateway answers {probe.status} {probe.error_type}."
    return "escalated", "Still blocked after the fix: " + ", ".join(f.code for f in left) + "."
