"""The sandbox seed format (DESIGN.md "Sandbox seed format"): good seeds load, bad ones name the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.platform_model import Seed, hash_secret, load_seed_text
from unit_support import KEY_PREFIX, KEY_SECRET, make_key, make_team, other_team

DEFAULT_SEED = Path(__file__).resolve().parents[2] / "events" / "platform.json"


@pytest.fixture
def table(dynamodb_table: Any) -> Any:
    """Loading a seed is the adapter's own work on DynamoDB (batch writes, pointers): on moto."""
    return dynamodb_table


def seed_json(*teams: dict[str, Any]) -> str:
    return json.dumps({"teams": list(teams)})


def test_default_seed_loads_into_the_sandbox(platform: SandboxPlatform) -> None:
    raw = DEFAULT_SEED.read_text()
    seed = load_seed_text(raw)
    assert len(seed.teams) == len(json.loads(raw)["teams"]) > 0
    platform.load(seed)
    for team in seed.teams:
        assert platform.get_team(team.team_id) == team
        assert platform.find_team(slug=team.slug) == team
        assert platform.find_team(owner_email=team.owner_email.upper()) == team
        for key in team.keys:
            assert platform.find_key_owner(key.prefix) == team.team_id


def test_missing_optional_fields_take_the_obvious_default() -> None:
    seed = load_seed_text(seed_json({"team_id": "team_" + "M1n1mal".ljust(24, "0"), "slug": "minimal",
                                     "plan": "hobby", "created_at": "2026-11-01T10:00:00Z",
                                     "owner_email": "Me@Minimal.test"}))
    [team] = seed.teams
    assert team.billing.hold.active is False
    assert team.billing.invoices == ()
    assert team.restrictions == ()
    assert team.auto_lifts == ()
    assert team.keys == ()
    assert team.entitlements.ai_gateway is True
    assert team.owner_email == "me@minimal.test"
    # credits not given: not what limits the team; the hobby plan is the free tier
    assert team.billing.credits.balance_cents is None and team.billing.credits.tier == "free"


@pytest.mark.parametrize(("plan", "tier"), [("hobby", "free"), ("pro", "paid"), ("enterprise", "paid")])
def test_a_team_without_credits_is_not_blocked_on_credits(plan: str, tier: str) -> None:
    from unblock.domain import gateway_rules as rules

    [team] = load_seed_text(seed_json({"team_id": "team_" + "N0Cred1ts".ljust(24, "0"), "plan": plan})).teams
    assert team.billing.credits.tier == tier
    assert rules.credits_gone(team.billing) is False
    assert team.slug is None and team.owner_email is None and team.created_at is None


def test_key_secret_is_kept_only_as_a_hash() -> None:
    [team] = load_seed_text(seed_json(make_team())).teams
    [key] = team.keys
    assert key.prefix == KEY_PREFIX
    assert key.secret_sha256 == hash_secret(KEY_SECRET)
    assert KEY_SECRET not in team.model_dump_json()


def assert_names_field(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        load_seed_text(text)
    message = str(raised.value)
    assert field in message
    errors = raised.value.errors()
    # a field error is located at the field; a whole-seed error (duplicates) names it in the message
    at_field = any(e["loc"] and e["loc"][-1] == field for e in errors)
    assert at_field or any(f".{field}:" in e["msg"] for e in errors)


@pytest.mark.parametrize(
    ("team", "field"),
    [
        (make_team(plan="business"), "plan"),
        (make_team(plan="Pro"), "plan"),
        (make_team(created_at="2026-13-01T10:00:00Z"), "created_at"),
        (make_team(created_at="yesterday"), "created_at"),
        (make_team(created_at="2026-11-01T10:00:00"), "created_at"),  # no time zone
        (make_team(keys=[make_key(created_at="2026-11-31T00:00:00Z")]), "created_at"),
        (make_team(keys=[make_key(expires_at="soon")]), "expires_at"),
        (make_team(billing={"invoices": [{"id": "in_1", "status": "open", "due_at": "31/12/2026"}]}),
         "due_at"),
        (make_team(billing={"hold": {"active": True, "since": "2026-02-30T00:00:00Z"}}), "since"),
        (make_team(auto_lifts=[{"flag": "risk_hold", "at": "not a date"}]), "at"),
        (make_team(team_id="team_short"), "team_id"),
        (make_team(keys=[make_key(status="paused")]), "status"),
        (make_team(keys=[make_key(prefix="vck_ 3f9a")]), "prefix"),
        (make_team(restrictions=[{"flag": "suspicious"}]), "flag"),
        (make_team(restrictions=[{"flag": "risk_hold", "risk_score": 1.5}]), "risk_score"),
        (make_team(billing={"payment_method": {"status": "valid", "verifed": True}}), "verifed"),
        (make_team(billing={"credits": {"tier": "gold"}}), "tier"),
    ],
    ids=["plan-unknown", "plan-case", "created-month-13", "created-word", "created-naive",
         "key-created-day-31", "key-expires", "invoice-due", "hold-since", "auto-lift-at", "team-id",
         "key-status", "key-prefix", "flag", "risk-score", "misspelt-field", "tier"],
)
def test_bad_seed_names_the_field(team: dict[str, Any], field: str) -> None:
    assert_names_field(seed_json(team), field)


def test_duplicate_team_ids_are_refused() -> None:
    twin = make_team(slug="another-slug", owner_email="twin@healthy.test")
    assert_names_field(seed_json(make_team(), other_team(), twin), "team_id")
    with pytest.raises(ValidationError, match=r"teams\.2\.team_id: duplicate team_id 'team_Hea1thyTeam"):
        load_seed_text(seed_json(make_team(), other_team(), twin))


def test_duplicate_slugs_are_refused() -> None:
    assert_names_field(seed_json(make_team(), other_team() | {"slug": "healthy-team"}), "slug")


def test_not_json_at_all_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        load_seed_text("{teams: [")


def test_seed_needs_teams() -> None:
    assert_names_field("{}", "teams")
    assert Seed.model_validate({"teams": []}).teams == ()


def test_loading_again_overwrites(platform: SandboxPlatform, seed: Callable[..., str]) -> None:
    team_id = seed(make_team(plan="hobby"))
    seed(make_team(plan="enterprise"))
    assert platform.get_team(team_id).plan == "enterprise"
