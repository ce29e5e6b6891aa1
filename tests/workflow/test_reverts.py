"""Undo (DESIGN.md "Modes, undo and staff in Slack"): staff revert a clear_billing_hold or a
lift_risk_hold unblock applied, within 7 days; the hold comes back as the fix's audit recorded it."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from tests.support import load_event, zendesk_delivery
from tests.workflow.test_http_adapter import http_adapter
from unblock import composition
from unblock.workflow import reverts


def _revert(app, case_id, fix=None, note="the customer's bank asked us to keep the hold", actor="staff:alice"):
    return reverts.revert(composition.platform(), app.client.store, app.clock, case_id, actor, note, fix=fix,
                          alerts=composition.staff_alerts(), outbox=composition.outbox())


def test_a_cleared_billing_hold_is_put_back_as_it_was(app):
    result = app.run(load_event("ticket-stale-billing-hold.json"))
    assert result.outcome == "auto_fixed"
    [fix] = app.client.store.get(result.case_id).fixes
    seeded = fix.before["hold"]

    case = _revert(app, result.case_id)

    hold = app.platform.get_team(result.team_id).billing.hold
    assert hold.model_dump(mode="json") == seeded and hold.active
    assert case.reverted == ["clear_billing_hold"]
    [audit] = case.reverts
    assert (audit.actor, audit.before["hold"]["active"], audit.after["hold"]) == ("staff:alice", False, seeded)
    # idempotent: the same revert again changes nothing and records nothing new
    again = _revert(app, result.case_id, "clear_billing_hold")
    assert again.reverts == case.reverts and again.version == case.version


def test_a_lifted_risk_hold_is_put_back_and_the_lift_still_counts(app):
    result = app.run(load_event("ticket-risk-hold-lift.json"))
    assert result.fixes_applied == ["lift_risk_hold"]
    before = app.client.store.get(result.case_id).fixes[0].before["risk_hold"]

    _revert(app, result.case_id, "lift_risk_hold")

    team = app.platform.get_team(result.team_id)
    [flag] = [r for r in team.restrictions if r.flag == "risk_hold"]
    assert flag.model_dump(mode="json") == before
    assert any(lift.flag == "risk_hold" for lift in team.auto_lifts)  # the 30-day guardrail still sees it


def test_a_newer_hold_refuses_the_revert(app):
    result = app.run(load_event("ticket-stale-billing-hold.json"))
    team = app.platform.get_team(result.team_id)
    newer = team.billing.hold.model_copy(update={"active": True, "source": "staff", "reason": "chargeback",
                                                 "since": app.clock.now()})
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(update={"hold": newer})}))

    with pytest.raises(reverts.RevertRefused, match="a billing hold is on the team again"):
        _revert(app, result.case_id)
    assert app.platform.get_team(result.team_id).billing.hold.reason == "chargeback"  # left alone
    assert app.client.store.get(result.case_id).reverts == []


def test_another_fix_since_refuses_the_revert(app):
    result = app.run(load_event("ticket-stale-billing-hold.json"))
    team = app.platform.get_team(result.team_id)
    # a later hold came and went (another case cleared it): the team's hold is not what our fix left
    later = team.billing.hold.model_copy(update={"reason": "a later hold", "since": app.clock.now()})
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(update={"hold": later})}))

    with pytest.raises(reverts.RevertRefused, match="changed since the fix"):
        _revert(app, result.case_id)


def test_past_seven_days_and_for_a_consistency_repair_a_revert_is_refused(app):
    result = app.run(load_event("ticket-stale-billing-hold.json"))
    with pytest.raises(reverts.RevertRefused, match="not reverted"):
        _revert(app, result.case_id, "resync_key")
    app.clock.advance(timedelta(days=7, minutes=1))
    with pytest.raises(reverts.RevertRefused, match="more than 7 days ago"):
        _revert(app, result.case_id)
    with pytest.raises(reverts.StaffError, match="needs a note"):
        _revert(app, result.case_id, note=" ")


def test_staff_are_told_who_reverted_and_the_customer_reads_nothing(app):
    result = app.run(zendesk_delivery(load_event("ticket-stale-billing-hold.json")))
    app.deliver_replies()
    ticket = result.case_id.split(":", 1)[1]
    sent_before = [p for p in app.helpdesk.posted if f"/tickets/{ticket}.json" in p["path"]]
    published = []
    alerts = composition.staff_alerts()
    alerts.channels.append(("test", type("Recorder", (), {"publish": lambda self, a: published.append(a)})()))
    try:
        _revert(app, result.case_id)
    finally:
        alerts.channels.pop()
    app.deliver_replies()

    [alert] = published
    assert alert.kind == "reverted" and "staff:alice reverted clear_billing_hold" in alert.subject
    [note] = [p for p in app.helpdesk.posted if f"/tickets/{ticket}.json" in p["path"]][len(sent_before):]
    assert note["body"]["ticket"] == {"comment": {"body": note["body"]["ticket"]["comment"]["body"], "public": False}}
    assert "reverted by staff:alice" in note["body"]["ticket"]["comment"]["body"]


def test_unblock_revert_from_the_command_line(app):
    from unblock_dev.cli import build_parser
    from unblock_dev.commands.revert import cmd_revert

    result = app.run(load_event("ticket-stale-billing-hold.json"))
    args = build_parser().parse_args(["revert", result.case_id, "--note", "wrong team", "--actor", "staff:bob"])
    out = io.StringIO()

    assert cmd_revert(args, out, app.client) == 0
    assert f"case {result.case_id}: clear_billing_hold reverted by staff:bob" in out.getvalue()
    assert app.platform.get_team(result.team_id).billing.hold.active


def test_unblock_revert_from_the_command_line_writes_the_consoles_internal_note(app):
    from unblock_dev.cli import build_parser
    from unblock_dev.commands.revert import cmd_revert

    result = app.run(zendesk_delivery(load_event("ticket-stale-billing-hold.json")))
    app.deliver_replies()
    ticket = result.case_id.split(":", 1)[1]
    sent_before = [p for p in app.helpdesk.posted if f"/tickets/{ticket}.json" in p["path"]]
    args = build_parser().parse_args(["revert", result.case_id, "--note", "wrong team", "--actor", "staff:bob"])

    assert cmd_revert(args, io.StringIO(), app.client) == 0
    app.deliver_replies()

    [note] = [p for p in app.helpdesk.posted if f"/tickets/{ticket}.json" in p["path"]][len(sent_before):]
    assert note["body"]["ticket"]["comment"]["public"] is False
    assert "clear_billing_hold reverted by staff:bob" in note["body"]["ticket"]["comment"]["body"]
    assert "Note: wrong team" in note["body"]["ticket"]["comment"]["body"]


def test_a_revert_over_the_admin_api(app):
    result = app.run(load_event("ticket-risk-hold-lift.json"))
    with http_adapter(app) as served:
        case = _revert(app, result.case_id)
        again = _revert(app, result.case_id)

    assert served.calls.count("restore_risk_hold") == 1 and again.reverts == case.reverts
    assert any(r.flag == "risk_hold" for r in app.platform.get_team(result.team_id).restrictions)
    assert json.dumps(case.reverts[0].after).count("risk_hold") >= 1


def test_the_console_reverts_from_the_case_page(app):
    from urllib.parse import quote

    from tests.workflow.test_modes import _console

    result = app.run(load_event("ticket-stale-billing-hold.json"))
    case = quote(result.case_id, safe="")
    page = _console(app, "GET", f"/pages/cases/{case}")["body"]
    assert "Undo a fix" in page and 'value="clear_billing_hold"' in page

    no_note = _console(app, "POST", f"/api/cases/{case}/revert", {"fix": "clear_billing_hold"})
    assert no_note["statusCode"] == 422 and "needs a note" in no_note["body"]
    done = _console(app, "POST", f"/api/cases/{case}/revert", {"fix": "clear_billing_hold", "note": "wrong"})
    assert done["statusCode"] == 200 and json.loads(done["body"])["reverted"] == ["clear_billing_hold"]
    assert app.platform.get_team(result.team_id).billing.hold.active
    page = _console(app, "GET", f"/pages/cases/{case}")["body"]
    assert "reverted by carol@example.test" in page and 'value="clear_billing_hold"' not in page
    assert "Revert rate" in _console(app, "GET", "/pages/metrics")["body"]
