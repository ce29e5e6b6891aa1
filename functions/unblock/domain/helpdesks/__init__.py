"""The registry of help desks: the one list of the desks unblock takes tickets from and answers.

Intake, replies, composition and the webhook's route ask here; a name it does not list is an
error (`UnknownHelpDesk`), never another desk's behaviour. Adding a desk is its module (pure: the
signature check, the mapping to the normalized event, follow-ups), its HTTP adapter (replies,
requester look-ups), one entry below, and its template resources (docs/architecture.md).
"""

from __future__ import annotations

from unblock.domain.helpdesks.desk import HelpDesk, UnknownHelpDesk

__all__ = ["DESKS", "HelpDesk", "UnknownHelpDesk", "desk", "find", "names", "register"]

DESKS: dict[str, HelpDesk] = {}


def register(entry: HelpDesk) -> HelpDesk:
    """List a desk (its name must be new: two desks never share a namespace)."""
    if entry.name in DESKS and DESKS[entry.name] is not entry:
        raise ValueError(f"help desk {entry.name!r} is registered already")
    DESKS[entry.name] = entry
    return entry


def find(name: object) -> HelpDesk | None:
    """The desk of that name, else None."""
    return DESKS.get(name) if isinstance(name, str) else None


def desk(name: object) -> HelpDesk:
    """The desk of that name; UnknownHelpDesk for any other."""
    found = find(name)
    if found is None:
        raise UnknownHelpDesk(name)
    return found


def names() -> tuple[str, ...]:
    return tuple(DESKS)


def _register_builtin() -> None:
    from unblock.domain.helpdesks import discourse, zendesk

    for module in (zendesk, discourse):
        register(module.DESK)


_register_builtin()
