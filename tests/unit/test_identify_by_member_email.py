"""DESIGN.md "Triggers": a ticket that names no team is identified by the requester's email "as a team
owner's or member's" (case-insensitive), and then verified; an address listed on several teams does
not say which one, so it identifies none."""

from __future__ import annotations

from tests.unit.unit_support import OTHER_TEAM_ID, TEAM_ID, make_team, other_team
from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.identification import identify, requester_verified
from unblock.domain.models import Report
from unblock.domain.platform_model import Seed
from unblock.domain.tickets.facts import extract


def _report(email: str) -> Report:
    text = "every request returns 403 Forbidden"
    return Report(case_id="zendesk:1", source="zendesk", text=text, requester_email=email,
                  facts=extract("", text).as_report_facts())


def test_a_members_email_identifies_and_verifies_their_team(platform: SandboxPlatform) -> None:
    platform.load(Seed.model_validate({"teams": [
        make_team(members=[{"email": "ops@healthy.test", "role": "member"}]), other_team()]}))
    found = identify(platform, _report("OPS@Healthy.test"))
    assert found.team is not None and (found.team.team_id, found.how) == (TEAM_ID, "email")
    assert requester_verified(_report("OPS@Healthy.test"), found.team)


def test_an_owner_wins_and_a_member_of_several_teams_identifies_none(platform: SandboxPlatform) -> None:
    shared = {"email": "contractor@agency.test", "role": "member"}
    platform.load(Seed.model_validate({"teams": [
        make_team(members=[shared, {"email": "ops@other.test", "role": "admin"}]),
        other_team() | {"members": [shared]}]}))
    assert identify(platform, _report("contractor@agency.test")).team is None
    owner = identify(platform, _report("ops@other.test")).team  # owns one team, member of the other
    assert owner is not None and owner.team_id == OTHER_TEAM_ID
