"""Which team a report is about, and whether its requester speaks for that team.

Identification (DESIGN.md "Triggers"), in order: `team_id`; a `team_...` id in the subject or
text; the slug given as the team; a request id (`X-Vercel-Id`) or generation id (`gen_...`) the
gateway's request log knows; the requester's email as a team owner's, else as the member's of
exactly one team. Anyone can name any team
in free text (and quote anyone's request id), so identification alone never lets unblock act for
the requester: verification (DESIGN.md "Who may act on which team") says whether it may.
"""

from __future__ import annotations

from dataclasses import dataclass

from unblock.domain.models import Report
from unblock.domain.platform_model import RequestRecord, Team
from unblock.ports import Platform

MAX_REQUEST_LOOKUPS = 5  # request and generation ids looked up per report, in order of mention


@dataclass(frozen=True)
class Identification:
    team: Team | None
    how: str | None = None  # team_id | text_team_id | slug | request_log | email
    request: RequestRecord | None = None  # the request log's record the ticket named, kept as evidence


def identify(platform: Platform, report: Report) -> Identification:
    candidates: list[tuple[str, dict[str, str]]] = []
    if report.team_id:
        candidates.append(("team_id", {"team_id": report.team_id}))
    candidates += [("text_team_id", {"team_id": t}) for t in report.facts.get("team_ids", [])]
    if report.team_hint:
        candidates.append(("slug", {"slug": report.team_hint}))
    candidates += [("slug", {"slug": s}) for s in report.facts.get("team_slugs", [])]
    for how, lookup in candidates:
        team = platform.find_team(**lookup)
        if team is not None:
            return Identification(team, how, _request(platform, report, team.team_id))
    record = _request(platform, report)
    if record is not None:
        team = platform.find_team(team_id=record.team_id)
        if team is not None:
            return Identification(team, "request_log", record)
    if report.requester_email:
        team = (platform.find_team(owner_email=report.requester_email)
                or platform.find_team(member_email=report.requester_email))
        if team is not None:
            return Identification(team, "email", record)
    return Identification(None, None, record)


def _request(platform: Platform, report: Report, team_id: str | None = None) -> RequestRecord | None:
    """The first request the ticket names that the log knows (of `team_id`, once the team is known:
    another team's record is never evidence on this case)."""
    ids = [*report.facts.get("request_ids", []), *report.facts.get("generation_ids", [])]
    for request_id in ids[:MAX_REQUEST_LOOKUPS]:
        record = platform.find_request(request_id)
        if record is not None and (team_id is None or record.team_id == team_id):
            return record
    return None


def requester_verified(report: Report, team: Team | None) -> bool:
    """Staff started it, or the help desk vouches for an email that is a member's (the owner's
    included, so a team identified by the requester's email is verified too)."""
    if report.source == "staff":
        return True
    return team is not None and team.has_member(report.requester_email)
