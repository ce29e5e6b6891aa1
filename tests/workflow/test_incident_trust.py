"""Issue 22 items 1 and 2 on the embedded stack: a bulk decision never undoes a hold staff placed, and
an approval covers unverified requesters only where staff tick them one by one.

Each test runs its wave on a day of its own (2027-02), apart from the session's other cases."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import EVENTS, load_event, take_human_queue_messages
from unblock.domain.platform_model import load_seed_text
from unblock_dev import cli
from unblock_dev.commands import decide as decide_cmd
from unblock_dev.commands import incidents as incidents_cmd

WAVE = ["wave-1-comet-labs.json", "wave-2-tidal-forge.json", "wave-3-ember-analytics.json",
        "wave-4-north-quill.json"]


def _seed(app: Any, change: Any) -> None:
    seed = json.loads((EVENTS / "platform.json").read_text())
    change({t["team_id"]: t for t in seed["teams"]})
    app.seed(load_seed_text(json.dumps(seed)))


def _run(app: Any, events: list[dict[str, Any]], at: datetime) -> list[Any]:
    return [app.run(e, at=at + timedelta(minutes=5 * i)) for i, e in enumerate(events)]


def test_a_risk_hold_staff_placed_never_joins_the_rules_incident_nor_is_lifted_by_it(app):
    team4 = "team_VeL0c1tyWave000000000004"

    def staff_hold(teams: dict[str, Any]) -> None:  # the red team's staff risk hold, same reason text
        teams[team4]["restrictions"] = [{"flag": "risk_hold", "source": "staff", "risk_score": 0.95,
                                         "reason": "new account velocity", "created_at": "2027-02-01T08:00:00Z"}]

    _seed(app, staff_hold)
    results = _run(app, [load_event(n) for n in WAVE], datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    ids = {r.case_id for r in results}
    try:
        incident_id = results[2].incident_id
        assert incident_id and [app.client.incidents.incident_of(r.case_id) for r in results] == \
            [incident_id] * 3 + [None]
        view = app.client.incident(incident_id)
        assert results[3].case_id not in {m.case_id for m, _ in view.members}
        assert view.incident.cause.source == "automated"

        record, _ = app.decide_incident(incident_id, "approve", actor="staff:dana")

        assert {o.case_id for o in record.outcomes} == {r.case_id for r in results[:3]}
        assert app.platform.get_team(team4).restrictions  # the staff hold stays
        assert app.client.store.get(results[3].case_id).status == "awaiting_staff"
    finally:
        take_human_queue_messages(app, ids)


def test_a_bulk_approval_leaves_unverified_members_unless_ticked_one_by_one(app):
    strangers = []
    for i, name in enumerate(WAVE[:3]):  # three unverified requesters naming three held teams
        event = load_event(name)
        event["detail"].update(requester_email=f"stranger{i}@elsewhere.test",
                               team_id=f"team_VeL0c1tyWave00000000000{i + 1}")
        strangers.append(event)
    results = _run(app, strangers, datetime(2027, 2, 3, 9, 0, tzinfo=UTC))
    ids = {r.case_id for r in results}
    try:
        assert [r.requester_verified for r in results] == [False] * 3
        incident_id = results[2].incident_id
        assert incident_id

        # `unblock incidents` shows each member's requester verification
        out = io.StringIO()
        incidents_cmd.cmd_incidents(cli.build_parser().parse_args(["incidents", "--json"]), out, client=app.client)
        listed = next(i for i in json.loads(out.getvalue()) if i["incident_id"] == incident_id)
        assert [m["requester"] for m in listed["members"]] == ["unverified"] * 3
        out = io.StringIO()
        incidents_cmd.cmd_incidents(cli.build_parser().parse_args(["incidents"]), out, client=app.client)
        assert f"{results[0].case_id:<48}" in out.getvalue() and "unverified" in out.getvalue()

        # and so does the console's incident page, with a box to tick for each unverified member
        from urllib.parse import quote

        from unblock_dev.console_server import http_api_event

        page = app.stack.invoke("ConsoleFunction", http_api_event(
            "GET", f"/pages/incidents/{quote(incident_id, safe='')}", "", {}, b"", {"sub": "staff-1"}))
        assert page["statusCode"] == 200, page["body"][:300]
        for r in results:
            assert f'name="include_unverified" value="{r.case_id}"' in page["body"]
        assert page["body"].count("<strong>unverified</strong>") == 3

        # "approve all": no stranger's proposal is lifted
        args = cli.build_parser().parse_args(["decide", "--incident", incident_id, "--approve",
                                              "--actor", "staff:dana"])
        out = io.StringIO()
        assert decide_cmd.cmd_decide(args, out, client=app.client) == 0
        record = app.client.incidents.get(incident_id).decisions[-1]
        assert [o.result for o in record.outcomes] == ["unverified"] * 3
        assert "3 unverified" in out.getvalue()
        assert all(app.platform.get_team(r.team_id).restrictions for r in results)

        # ticked one by one: only that member is approved
        app.clock.advance(timedelta(minutes=1))  # the incident keeps its decisions in time order
        args = cli.build_parser().parse_args(["decide", "--incident", incident_id, "--approve", "--actor",
                                              "staff:dana", "--include-unverified", results[1].case_id])
        assert decide_cmd.cmd_decide(args, io.StringIO(), client=app.client) == 0
        record = app.client.incidents.get(incident_id).decisions[-1]
        assert record.include_unverified == [results[1].case_id], record
        assert {o.case_id: o.result for o in record.outcomes} == {
            results[0].case_id: "unverified", results[1].case_id: "decided", results[2].case_id: "unverified"}
        assert record.include_unverified == [results[1].case_id]
        ticked = app.wait_for(results[1].case_id, lambda c: c.status == "closed", timeout=90)
        assert ticked.resolution == "approved" and not app.platform.get_team(results[1].team_id).restrictions
        assert app.platform.get_team(results[0].team_id).restrictions
    finally:
        take_human_queue_messages(app, ids)
