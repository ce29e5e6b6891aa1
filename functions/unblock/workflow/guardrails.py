"""The revert-rate guardrail (issue 36): staff reverting unblock's fixes is the sign a fix misbehaves.
When the reverts within an hour reach MAX_REVERTS_PER_HOUR while the stack is live, the stack moves to
approval by itself (every fix waits for staff), audited as `unblock:guardrail` and told to staff on
their alert channels; an admin switches it back once the cause is understood. A stack in approval or
shadow is left as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from unblock.domain.models import FixName
from unblock.domain.modes import ModeChange
from unblock.ports import Clock, FixLedger, ModeSwitch, StaffAlerts
from unblock.workflow.modes import switch_mode

WINDOW = timedelta(hours=1)
ACTOR = "unblock:guardrail"


@dataclass(frozen=True)
class RevertGuard:
    ledger: FixLedger
    modes: ModeSwitch
    limit: int  # reverts within WINDOW that move a live stack to approval (0: never)

    def reverted(self, clock: Clock, case_id: str, fixes: list[FixName], *, alerts: StaffAlerts | None = None,
                 link: str | None = None) -> ModeChange | None:
        """Count the case's reverts; the switch to approval when they reach the limit, else None."""
        now = clock.now()
        for fix in fixes:
            self.ledger.record_revert(case_id, fix, now)
        if self.limit <= 0 or not fixes:
            return None
        count = self.ledger.reverts_since(now - WINDOW)
        if count < self.limit or self.modes.current(fresh=True) != "live":
            return None
        note = (f"{count} fixes reverted within an hour (MAX_REVERTS_PER_HOUR {self.limit}): every fix waits for "
                "staff approval until an admin switches the stack back to live")
        return switch_mode(self.modes, clock, "approval", ACTOR, note, alerts=alerts, link=link)
