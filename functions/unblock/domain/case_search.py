"""What staff find a case by: its id, its ticket, its team's id or slug (case-insensitive, whole values).

The cases table keeps each of these on the case's item, lower-cased, and indexes it (template.yaml),
so a search reads the cases it finds and nothing else. A part of a value matches nothing: only a
scan can answer a substring, and the console does not scan (docs/console.md).
"""

from __future__ import annotations

from unblock.domain.cases import Case
from unblock.domain.models import CaseStatus

WAITING_FOR_STAFF: tuple[CaseStatus, ...] = ("awaiting_staff", "deciding")  # the queue: what staff must decide


def team_slug(case: Case) -> str | None:
    """The slug the report gives for the team (its hint, else the first slug in the text)."""
    return case.report.team_hint or next(iter(case.report.facts.get("team_slugs", [])), None)


def term(value: str | None) -> str | None:
    """A value as searched: trimmed and lower-cased; None for nothing."""
    value = (value or "").strip().lower()
    return value or None


def keys(case: Case) -> dict[str, str]:
    """The case's search keys by kind (`team`, `ticket`, `slug`); a kind the case lacks is absent."""
    found = {"team": term(case.team_id), "ticket": term(case.report.ticket_id), "slug": term(team_slug(case))}
    return {k: v for k, v in found.items() if v}
