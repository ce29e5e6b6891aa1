"""Which team a report is about, and whether its requester speaks for that team.

Identification (DESIGN.md "Triggers"): `team_id`; a `team_...` id in the subject or text;
the slug given as the team; the requester's email as a team owner's. Anyone can name any
team in free text, so identification alone never lets unblock act for the requester:
verification (DESIGN.md "Who may act on which team") says whether it may.
"""

from __future__ import annotations

from unblock.domain.models import Report
from unblock.domain.platform_model import Team
from unblock.ports import Platform


def identify_team(platform: Platform, report: Report) -> Team | None:
    candidates: list[dict[str, str]] = []
    if report.team_id:
        candidates.append({"team_id": report.team_id})
    candidates += [{"team_id": t} for t in report.facts.get("team_ids", [])]
    if report.team_hint:
        candidates.append({"slug": report.team_hint})
    candidates += [{"slug": s} for s in report.facts.get("team_slugs", [])]
    if report.requester_email:
        candidates.append({"owner_email": report.requester_email})
    for lookup in candidates:
        team = platform.find_team(**lookup)
        if team is not None:
            return team
    return None


def requester_verified(report: Report, team: Team | None) -> bool:
    """Staff started it, or the help desk vouches for an email that is a member's (the owner's
    included, so a team identified by the requester's email is verified too)."""
    if report.source == "staff":
        return True
    return team is not None and team.has_member(report.requester_email)
