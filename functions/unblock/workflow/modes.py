"""Switching the stack's mode (DESIGN.md "Modes"): the kill switch, from the console's Mode page
(admins) or `unblock mode`. Audited (who, when, from, to, why) and told to staff."""

from __future__ import annotations

from unblock.domain.modes import ModeChange, UnknownMode, parse_mode
from unblock.domain.staff_alerts import ModeAlert
from unblock.domain.staff_errors import StaffError
from unblock.domain.tickets.redaction import redact
from unblock.ports import Clock, ModeSwitch, StaffAlerts

MAX_NOTE = 500


def switch_mode(modes: ModeSwitch, clock: Clock, to: str, actor: str, note: str | None = None, *,
                alerts: StaffAlerts | None = None, link: str | None = None) -> ModeChange | None:
    """Switch the stack to `to`; None when it is in that mode already (nothing to audit)."""
    try:
        mode = parse_mode(to)
    except UnknownMode as err:
        raise StaffError(str(err)) from None
    if not actor:
        raise StaffError("a mode switch needs the admin's identity")
    was = modes.current(fresh=True)
    if was == mode:
        return None
    change = ModeChange(at=clock.now(), actor=redact(actor)[0], was=was, now=mode,
                        note=redact((note or "").strip())[0][:MAX_NOTE] or None)
    modes.switch(change)
    if alerts is not None:
        alerts.publish(ModeAlert(actor=change.actor, was=was, now=mode, note=change.note, link=link))
    return change
