"""Staff undo a fix unblock applied (DESIGN.md "Modes, undo and staff in Slack").

`clear_billing_hold` and `lift_risk_hold` can be reverted within 7 days of the fix: the hold is put
back as the fix's audit `before` recorded it, through the platform port (domain/fixes.py FIXES,
each row's `revert`), idempotent per case and fix, and audited on the case (`reverts`). A team that
changed since the fix (a newer hold, another fix or lift) refuses the revert with the reason: what
is on the team now is someone's later decision. `resync_key` and `resync_entitlements` make the
platform agree with itself and are not reverted. Staff are told who reverted what; the customer is
not told specifics (the help desk's internal note records it).

Used by the staff console and `unblock revert`.
"""

from __future__ import annotations

from unblock.domain.cases import Case
from unblock.domain.fixes import FIXES, REVERT_WINDOW, REVERTIBLE, FixTarget, RevertUnrecorded
from unblock.domain.models import FixName, FixRecord, FixRevert
from unblock.domain.staff_alerts import RevertAlert, case_link
from unblock.domain.tickets.redaction import redact
from unblock.ports import CaseConflict, CaseStore, Clock, FixConflict, Outbox, Platform, StaffAlerts
from unblock.workflow.guardrails import RevertGuard
from unblock.workflow.staff_decisions import MAX_NOTE, NoSuchCase, StaffError
from unblock.workflow.steps import send_reply


class RevertRefused(StaffError):
    """The revert cannot be done; the message says why and is safe to show."""


def revertible(case: Case) -> list[FixRecord]:
    """The fixes on the case unblock applied that staff may still try to revert (not reverted yet)."""
    done = set(case.reverted)
    return [r for r in case.fixes if r.status == "applied" and r.fix in REVERTIBLE and r.fix not in done]


def revert(platform: Platform, store: CaseStore, clock: Clock, case_id: str, actor: str, note: str, *,
           fix: FixName | None = None, alerts: StaffAlerts | None = None, outbox: Outbox | None = None,
           console_url: str | None = None, guard: RevertGuard | None = None) -> Case:
    """Revert the case's applied fix (or every revertible one); returns the case as written.

    Repeating a revert that was done returns the case unchanged (idempotent). RevertRefused says why
    a revert cannot be done: no such fix applied, past 7 days, or the team changed since. `guard` counts
    the reverts (workflow.guardrails: a burst of them moves the stack to approval)."""
    if not actor:
        raise StaffError("a revert needs the staff member's identity")
    actor = redact(actor)[0]
    note = redact((note or "").strip())[0][:MAX_NOTE]
    if not note:
        raise StaffError("a revert needs a note: why is the fix being undone?")
    if fix is not None and fix not in FIXES:
        raise StaffError(f"unknown fix {fix!r}")
    if fix is not None and fix not in REVERTIBLE:
        raise RevertRefused(f"{fix} makes the platform agree with itself and is not reverted "
                            f"(revertible: {', '.join(REVERTIBLE)})")
    case = store.get(case_id)
    if case is None:
        raise NoSuchCase(f"no case {case_id!r}")
    if fix is not None and fix in case.reverted:
        return case  # done before: a repeated revert changes nothing
    todo = [r for r in revertible(case) if fix is None or r.fix == fix]
    if not todo:
        if fix is None and case.reverts:
            return case
        what = fix or " or ".join(REVERTIBLE)
        raise RevertRefused(f"case {case_id} has no {what} that unblock applied")
    now = clock.now()
    for rec in todo:  # every refusal before any change: a revert of two fixes is all or nothing
        if now - rec.at > REVERT_WINDOW:
            raise RevertRefused(f"{rec.fix} was applied at {rec.at.isoformat(timespec='minutes')}, more than "
                                f"{REVERT_WINDOW.days} days ago: put the hold back by hand if it is still wanted")
    done: list[FixRevert] = []
    for rec in todo:
        row = FIXES[rec.fix].revert
        assert row is not None  # REVERTIBLE
        before = FIXES[rec.fix].snapshot(platform, _target(rec))
        try:
            if not row.in_place(platform, rec):  # in place: a retry of this revert after its case write failed
                if reason := row.changed_since(platform, rec):
                    raise RevertRefused(f"{rec.fix} cannot be reverted: {reason}")
                row.apply(platform, rec, f"{rec.case_id}:{rec.team_id}:{rec.fix}:revert")
        except RevertUnrecorded as err:
            raise RevertRefused(f"{rec.fix} cannot be reverted: {err}") from err
        except FixConflict as conflict:
            raise RevertRefused(f"{rec.fix} cannot be reverted: the platform refused ({conflict})") from conflict
        done.append(FixRevert(fix=rec.fix, actor=actor, at=now, note=note, before=before,
                              after=FIXES[rec.fix].snapshot(platform, _target(rec))))
    case = _record(store, clock, case, done)
    if alerts is not None:
        alerts.publish(RevertAlert(case_id=case.case_id, team_id=case.team_id, fixes=[d.fix for d in done],
                                   actor=actor, note=note, link=case_link(case.case_id, console_url)))
    if outbox is not None:
        send_reply(outbox, case.model_copy(update={"customer_reply": None, "private_reply": None,
                                                   "outcome": None, "internal_note": _note(done)}))
    if guard is not None:
        guard.reverted(clock, case.case_id, [d.fix for d in done], alerts=alerts,
                       link=console_url.rstrip("/") + "/mode" if console_url else None)
    return case


def _target(rec: FixRecord) -> FixTarget:
    return FixTarget(rec.team_id, rec.before.get("key_id"), rec.at)


def _note(done: list[FixRevert]) -> str:
    """The help desk's internal note (the customer reads nothing of it)."""
    return "\n".join(f"unblock: {d.fix} reverted by {d.actor} at {d.at.isoformat(timespec='minutes')} "
                     f"(the hold is back as it was before the fix). Note: {d.note}" for d in done)


def _record(store: CaseStore, clock: Clock, case: Case, done: list[FixRevert]) -> Case:
    """Add the reverts with a conditional write; a racing revert of the same fix is not added twice."""
    for _ in range(5):
        fresh = [d for d in done if d.fix not in case.reverted]
        if not fresh:
            return case
        try:
            return store.save(case.model_copy(update={"reverts": [*case.reverts, *fresh], "updated_at": clock.now()}))
        except CaseConflict:
            again = store.get(case.case_id)
            if again is None:
                raise NoSuchCase(f"no case {case.case_id!r}") from None
            case = again
    raise RuntimeError(f"case {case.case_id}: too many concurrent updates")
