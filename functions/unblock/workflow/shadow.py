"""Staff judge shadow cases: agree or disagree with what unblock would have done (DESIGN.md
"Modes"), so the console shows an agreement rate before anyone turns on `live`.

Used by the staff console. A verdict can be changed (the last one counts); a disagreement needs a
note (what should have happened is what the team learns from).
"""

from __future__ import annotations

from unblock.domain.cases import Case
from unblock.domain.models import ShadowVerdict
from unblock.domain.tickets.redaction import redact
from unblock.ports import CaseStore, Clock
from unblock.workflow.staff_decisions import MAX_NOTE, NoSuchCase, StaffError
from unblock.workflow.steps import update_case

VERDICTS: tuple[ShadowVerdict, ...] = ("agree", "disagree")


class ShadowError(StaffError):
    """A verdict that cannot be recorded; the message says why."""


def mark(store: CaseStore, clock: Clock, case_id: str, verdict: str, actor: str, note: str | None) -> Case:
    if verdict not in VERDICTS:
        raise ShadowError(f"unknown verdict {verdict!r}: agree or disagree")
    if not actor:
        raise ShadowError("a verdict needs the staff member's identity")
    note = redact((note or "").strip())[0][:MAX_NOTE] or None
    if verdict == "disagree" and not note:
        raise ShadowError("a disagreement needs a note: what should unblock have done?")
    case = store.get(case_id)
    if case is None:
        raise NoSuchCase(f"no case {case_id!r}")
    if case.shadow is None:
        raise ShadowError(f"case {case_id} is not a shadow case: unblock acted on it (mode {case.mode})")
    shadow = case.shadow.model_copy(update={"verdict": verdict, "verdict_by": redact(actor)[0], "verdict_note": note,
                                            "verdict_at": clock.now()})
    return update_case(store, clock, case, shadow=shadow)
