"""The stack's mode (DESIGN.md "Modes"): live, approval or shadow, read at run time.

The mode is the kill switch: an admin switches a running stack (the console, `unblock mode`) and
every run that starts afterwards obeys it. A run takes the stack's mode when it starts (a case's
first run, a follow-up's, a re-check's, a staff decision), never the mode its case was opened in:
a shadow stack changes nothing and tells no one about any case, and a live stack answers every
case it runs, one opened in shadow included. Each run's mode is kept on the case (`Case.modes`).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from unblock.domain.models import MODES, Mode
from unblock.domain.staff_errors import StaffError


class UnknownMode(ValueError):
    """A mode that is none of live, approval, shadow: never guessed (a misspelt `shadow` must never
    run live)."""


def parse_mode(value: object) -> Mode:
    text = str(value).strip().lower()
    for mode in MODES:
        if text == mode:
            return mode
    raise UnknownMode(f"mode {str(value)[:40]!r}: expected one of {', '.join(MODES)}")


class ModeChange(BaseModel):
    """One switch of the stack's mode, audited: who, when, from, to (and why, when they said)."""

    at: AwareDatetime
    actor: str
    was: Mode
    now: Mode
    note: str | None = None


class ShadowStack(StaffError):
    """A staff decision while the stack is in shadow mode: nothing is changed and nobody is told,
    staff decisions included, until an admin switches the stack back."""


def staff_may_decide(stack_mode: Mode) -> None:
    """A staff decision resumes a case's run, and that run takes the stack's mode: in shadow it
    would change the platform or tell the customer, so it is refused."""
    if stack_mode == "shadow":
        raise ShadowStack("the stack is in shadow mode: unblock changes nothing and tells no one, staff "
                          "decisions included; decide once an admin switches it to live or approval "
                          "(`unblock mode live`, or the console's Mode page)")


def run_modes(modes: list[Mode], run: int, mode: Mode, earlier: Mode) -> list[Mode]:
    """The case's modes by run (the first run's first) with run `run`'s set to `mode`: a retried
    OpenCase of the same run sets it again, never twice. Runs before this record was kept count as
    `earlier` (the mode the case was opened in)."""
    out = list(modes[:run])
    out += [earlier] * (run - len(out))
    out[run - 1] = mode
    return out
