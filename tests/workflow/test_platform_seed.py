"""`unblock platform seed --stack NAME FILE`: a deployed stack's sandbox platform gets its teams from a seed
file, and the first test ticket about one of them is then checked and fixed (docs/deploy.md). Run against
the embedded stack's client, as `--stack` builds one from a deployed stack's outputs."""

from __future__ import annotations

import argparse
import io
import json
from types import SimpleNamespace

import pytest

from tests.support import EVENTS, load_event
from unblock_dev import cli
from unblock_dev.commands import platform_seed
from unblock_dev.inputs import UsageError

NEW_TEAM = "team_F1rstT1cketOperat0r00000"


def _operator_seed(tmp_path):
    """The operator's own first team: the sample's stale billing hold, under a new id, slug and owner."""
    sample = json.loads((EVENTS / "platform.json").read_text())
    [acme] = [t for t in sample["teams"] if t["slug"] == "acme-projects"]
    team = {**acme, "team_id": NEW_TEAM, "slug": "first-ticket-labs", "owner_email": "owner@first-ticket.test",
            "members": [],
            "keys": [{**acme["keys"][0], "prefix": "vck_frst01", "secret": "vck_frst01operatortestsecret"}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"teams": [team]}))
    return path


def _seed(app, path, stack="unblock-test"):
    out = io.StringIO()
    code = platform_seed.cmd_seed(argparse.Namespace(file=str(path), stack=stack), out, client=app.client)
    return code, out.getvalue()


def test_a_seeded_team_is_checked_and_fixed_on_the_first_test_ticket(app, tmp_path):
    code, printed = _seed(app, _operator_seed(tmp_path))

    assert code == 0
    assert printed.startswith(f"seeded {app.stack.outputs['PlatformTableName']}: 1 teams")
    assert NEW_TEAM in printed and "first-ticket-labs" in printed
    assert app.platform.get_team("team_Q3xr89YFWHvqTRO0X0bmHkoU").slug == "acme-projects"  # the others stay
    ticket = load_event("ticket-stale-billing-hold.json")
    ticket["detail"].update(text=f"Every call is 403 Forbidden. Our team is {NEW_TEAM}.",
                            requester_email="owner@first-ticket.test")
    result = app.run(ticket)
    assert result.team_id == NEW_TEAM
    assert result.outcome == "auto_fixed" and result.fixes_applied == ["clear_billing_hold"] and result.verified


def test_a_bad_seed_is_refused_naming_the_field_and_nothing_is_written(app, tmp_path):
    path = tmp_path / "bad.json"
    never = "team_NeverSeededBadP1an000000"
    path.write_text(json.dumps({"teams": [{"team_id": never, "plan": "galactic"}]}))

    with pytest.raises(UsageError, match=r"teams\.0\.") as refused:
        _seed(app, path)

    assert str(path) in str(refused.value)
    assert app.platform.find_team(team_id=never) is None


def test_a_stack_on_the_admin_api_has_no_table_to_seed(tmp_path):
    on_http = SimpleNamespace(outputs={"CasesTableName": "cases"}, platform=None)  # no PlatformTableName output

    with pytest.raises(UsageError, match="PlatformAdapter=http"):
        platform_seed.cmd_seed(argparse.Namespace(file=str(_operator_seed(tmp_path)), stack="prod"), io.StringIO(),
                               client=on_http)  # type: ignore[arg-type]


def test_the_command_wants_a_stack(capsys):
    assert cli.main(["platform", "seed", str(EVENTS / "platform.json")]) == 2
    assert "--stack NAME is required" in capsys.readouterr().err
