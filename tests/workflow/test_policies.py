"""Standing policies on the embedded stack (docs/causes.md): made from a cause staff keep approving, in
shadow first (what it would have approved beside what staff did), then live: a case it approves closes
as a staff approval would (same fix, verification and reply), in seconds, with nobody queued; it stops
by itself when a fix it made is reverted, expires mid-wave, keeps its daily cap and the hourly lift cap,
and never acts for an unverified requester or on a hold staff placed.

Each test holds teams by a rule of its own (held_teams.py) on a day of its own (2027-02-1x), so the
hourly lift cap counts only its own lifts."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import take_human_queue_messages
from tests.workflow.held_teams import held_teams, ticket
from unblock.domain.policies import PolicyConditions
from unblock_dev import cli
from unblock_dev.commands import policy as policy_cmd


def policy_cli(app: Any, *argv: str) -> Any:
    out = io.StringIO()
    args = cli.build_parser().parse_args(["policy", *argv, "--json", "--actor", "staff:lead"])
    assert policy_cmd.cmd_policy(args, out, app.client) == 0
    return json.loads(out.getvalue())


def cause_key(app: Any, case_id: str) -> str:
    from unblock.domain.incidents import cause_of

    cause = cause_of(app.client.store.get(case_id).findings)
    assert cause is not None
    return cause.key


def test_shadow_then_live_then_a_revert_stops_the_policy(app):
    day = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
    _, teams = held_teams(app, 5)
    ids: set[str] = set()
    try:
        first = app.run(ticket(teams[0]), at=day)
        ids.add(first.case_id)
        staff_approved = app.decide(first.case_id, "approve", actor="staff:ana")
        assert staff_approved.outcome == "auto_fixed"
        key = cause_key(app, first.case_id)

        created = policy_cli(app, "create", "--cause", key, "--days", "7", "--max-per-day", "5")
        pid = created["policy_id"]
        assert created["state"] == "shadow"

        # shadow: staff still decide; the policy says what it would have done
        shadowed = app.run(ticket(teams[1]), at=day + timedelta(minutes=10))
        ids.add(shadowed.case_id)
        assert shadowed.outcome == "escalated"
        app.decide(shadowed.case_id, "approve", actor="staff:bo")
        [view] = policy_cli(app, "list", "--cause", key)
        assert view["state"] == "shadow" and view["approved"] == 0
        assert view["agreement"] == {"agreed": 1, "compared": 1, "rate": 1.0}
        assert [(d["case_id"], d["mode"], d["approve"]) for d in view["decisions"]] == [
            (shadowed.case_id, "shadow", True)]

        assert policy_cli(app, "live", pid)["state"] == "live"
        started = time.monotonic()
        by_policy = app.run(ticket(teams[2]), at=day + timedelta(minutes=20))
        took = time.monotonic() - started
        ids.add(by_policy.case_id)
        # closed as a staff approval would: the fix applied under the guardrails, verified, the same reply
        assert by_policy.outcome == "auto_fixed" and by_policy.verified and by_policy.fixes_applied == [
            "lift_risk_hold"]
        assert took < 15, took
        case = app.client.store.get(by_policy.case_id)
        assert case.resolution == "approved" and case.decisions[-1].actor == f"policy:{pid}"
        assert case.fixes[-1].actor == f"policy:{pid}"
        assert by_policy.customer_reply.replace(teams[2].team_id, "T").replace(teams[2].slug, "S") == \
            staff_approved.customer_reply.replace(teams[0].team_id, "T").replace(teams[0].slug, "S")
        assert take_human_queue_messages(app, {by_policy.case_id}) == []  # nobody was asked
        [view] = policy_cli(app, "list", "--cause", key)
        assert view["approved"] == 1 and view["decisions"][-1]["acted"]

        # staff revert the policy's fix: the policy stops by itself, the next case waits for staff
        app.client.revert(by_policy.case_id, "staff:cy", "the rule was right for this team")
        after = app.run(ticket(teams[3]), at=day + timedelta(minutes=40))
        ids.add(after.case_id)
        assert after.outcome == "escalated"
        [view] = policy_cli(app, "list", "--cause", key)
        assert view["state"] == "stopped" and by_policy.case_id in view["stopped_reason"]
        assert "staff:cy" in view["stopped_reason"]
        out = io.StringIO()
        args = cli.build_parser().parse_args(["policy", "live", pid])
        try:
            policy_cmd.cmd_policy(args, out, app.client)
            raise AssertionError("a stopped policy went live again")
        except Exception as err:  # noqa: BLE001
            assert "stopped" in str(err) and "make a new one" in str(err)
    finally:
        take_human_queue_messages(app, ids)


def test_a_policy_that_expires_mid_wave_and_its_daily_cap(app):
    day = datetime(2027, 2, 16, 9, 0, tzinfo=UTC)
    _, teams = held_teams(app, 5)
    ids: set[str] = set()
    try:
        first = app.run(ticket(teams[0]), at=day)
        ids.add(first.case_id)
        app.clock.set(day + timedelta(minutes=1))
        policy = app.client.create_policy(cause_key(app, first.case_id), "staff:lead", days=1,
                                          conditions=PolicyConditions(max_per_day=2))
        app.client.switch_policy(policy.policy_id, "live", "staff:lead")
        results = [app.run(ticket(t), at=day + timedelta(minutes=5 * (i + 1))) for i, t in enumerate(teams[1:4])]
        ids |= {r.case_id for r in results}
        # two a day, then staff decide the third
        assert [r.outcome for r in results] == ["auto_fixed", "auto_fixed", "escalated"]
        third = app.client.store.get(results[2].case_id)
        assert third.status == "awaiting_staff" and not third.decisions
        # the next day the policy has expired: the wave's later case waits for staff
        late = app.run(ticket(teams[4]), at=day + timedelta(days=1, minutes=2))
        ids.add(late.case_id)
        assert late.outcome == "escalated"
        [view] = app.client.list_policies(policy.cause_key)
        assert view.state == "expired" and view.approved == 2
        reasons = {d.case_id: d.reason for d in view.decisions}
        assert "teams a day are taken" in reasons[results[2].case_id]
        assert late.case_id not in reasons  # an expired policy decides nothing
    finally:
        take_human_queue_messages(app, ids)


def test_never_an_unverified_requester_nor_a_staff_hold_nor_past_the_hourly_lift_cap(app, monkeypatch):
    day = datetime(2027, 2, 17, 9, 0, tzinfo=UTC)
    _, teams = held_teams(app, 5)
    _, staff_held = held_teams(app, 1, staff_placed=0)
    ids: set[str] = set()
    try:
        first = app.run(ticket(teams[0]), at=day)
        ids.add(first.case_id)
        app.clock.set(day + timedelta(minutes=1))
        policy = app.client.create_policy(cause_key(app, first.case_id), "staff:lead", days=7,
                                          conditions=PolicyConditions(max_per_day=50))
        app.client.switch_policy(policy.policy_id, "live", "staff:lead")

        unverified = app.run(ticket(teams[1], verified=False), at=day + timedelta(minutes=5))
        staff_hold = app.run(ticket(staff_held[0]), at=day + timedelta(minutes=6))
        ids |= {unverified.case_id, staff_hold.case_id}
        assert unverified.outcome == "escalated" and not unverified.requester_verified
        assert staff_hold.outcome == "escalated"
        assert app.platform.get_restrictions(teams[1].team_id) and app.platform.get_restrictions(
            staff_held[0].team_id)  # both holds still on

        monkeypatch.setenv("MAX_AUTO_LIFTS_PER_HOUR", "1")
        lifted = app.run(ticket(teams[2]), at=day + timedelta(minutes=10))
        capped = app.run(ticket(teams[3]), at=day + timedelta(minutes=12))
        ids |= {lifted.case_id, capped.case_id}
        assert lifted.outcome == "auto_fixed" and capped.outcome == "escalated"
        assert app.platform.get_restrictions(teams[3].team_id)
        reasons = {d.case_id: d.reason for d in app.client.list_policies(policy.cause_key)[0].decisions}
        assert "not verified" in reasons[unverified.case_id]
        assert "hourly lift cap (1)" in reasons[capped.case_id]
        assert staff_hold.case_id not in reasons  # a staff-placed hold is no cause: no policy sees it
    finally:
        take_human_queue_messages(app, ids)


def test_the_console_makes_a_policy_from_a_cause_switches_it_live_and_revokes_it(app):
    from urllib.parse import quote

    from unblock.handlers import console
    from unblock_dev.console_server import http_api_event

    claims = {"sub": "staff-9", "email": "lee@example.test", "email_verified": "true"}

    def call(method: str, path: str, body: str = "") -> dict[str, Any]:
        event = http_api_event(method, path, "", {"content-type": "application/x-www-form-urlencoded"},
                               body.encode(), claims)
        return console.app.resolve(event, {})  # type: ignore[arg-type]

    day = datetime(2027, 2, 18, 9, 0, tzinfo=UTC)
    _, teams = held_teams(app, 1)
    first = app.run(ticket(teams[0]), at=day)
    try:
        key = cause_key(app, first.case_id)
        made = call("POST", f"/api/causes/{quote(key, safe='')}/policies", "days=3&max_per_day=4&card=required")
        assert made["statusCode"] == 200, made["body"]
        pid = json.loads(made["body"])["policy_id"]
        page = call("GET", f"/pages/causes/{quote(key, safe='')}")["body"]
        assert pid in page and "Switch live" in page and ">shadow<" in page
        live = call("POST", f"/api/policies/{pid}/status", "status=live")
        assert json.loads(live["body"])["state"] == "live"
        gone = call("POST", f"/api/policies/{pid}/status", "status=revoked&note=not+yet")
        assert json.loads(gone["body"])["state"] == "revoked"
        page = call("GET", f"/pages/causes/{quote(key, safe='')}")["body"]
        assert ">revoked<" in page and "Switch live" not in page
        [view] = app.client.list_policies(key)
        assert [(h.status, h.actor) for h in view.policy.history] == [
            ("shadow", "lee@example.test"), ("live", "lee@example.test"), ("revoked", "lee@example.test")]
        assert view.policy.conditions.max_per_day == 4
        again = call("POST", f"/api/policies/{pid}/status", "status=live")
        assert again["statusCode"] == 422 and "revoked" in json.loads(again["body"])["error"]
    finally:
        take_human_queue_messages(app, {first.case_id})
