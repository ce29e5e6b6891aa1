"""Why a staff decision is refused: the errors of workflow.staff_decisions and workflow.incidents.

Their own module, light to import, so the console's handler maps each kind to its answer (404, 409,
422) at a cold start without importing the decision flows it loads only for a decision.
"""

from __future__ import annotations


class StaffError(Exception):
    """A staff request that cannot be done; the message says why and is safe to show."""


class NotFound(StaffError):
    """The case or incident the decision names does not exist."""


class NoSuchCase(NotFound):
    pass


class NoSuchIncident(NotFound):
    pass


class AlreadyDecided(StaffError):
    """Another decision on the case won."""


class StaleDecision(StaffError):
    """The case moved on since the staff member read it."""
