"""Causes with a record on the embedded stack (docs/causes.md): a rule's cases keep their history
(teams, staff's decisions, how fast), `unblock causes` lists it, and once staff approved the lift for 5
of the last 6 decisions the rule's owner is told once (the owners' topic and staff's alerts).

Each test holds teams by a rule of its own (held_teams.py), on a day of its own (2027-02)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from tests.support import take_human_queue_messages
from tests.workflow.held_teams import held_teams, ticket, topic_messages
from unblock_dev import cli
from unblock_dev.commands import causes as causes_cmd

DAY = datetime(2027, 2, 8, 9, 0, tzinfo=UTC)


def test_a_rule_staff_keep_overruling_is_reported_to_its_owner_once_with_the_evidence(app):
    reason, teams = held_teams(app, 7)
    with topic_messages(app, "RuleOwnerTopicArn") as owner_told, topic_messages(app, "StaffAlertsTopicArn") as staff:
        results = [app.run(ticket(t), at=DAY + timedelta(minutes=5 * i)) for i, t in enumerate(teams)]
        ids = {r.case_id for r in results}
        try:
            assert [r.outcome for r in results] == ["escalated"] * 7
            app.clock.set(DAY + timedelta(hours=1))
            app.decide(results[0].case_id, "reject", actor="staff:ana")
            for r in results[1:5]:  # 4 approvals of 5 decisions: not yet
                assert app.decide(r.case_id, "approve", actor="staff:bo").outcome == "auto_fixed"
            assert owner_told() == []
            app.decide(results[5].case_id, "approve", actor="staff:cy")  # 5 of the last 6
            app.decide(results[6].case_id, "approve", actor="staff:cy")  # told once only

            notices = owner_told()
            assert len(notices) == 1
            body = json.loads(notices[0]["Message"])
            assert body["rule"] == {"code": "restrictions.risk_hold", "reason": reason}
            assert body["owner"] == "trust-and-safety"  # the template's default owner
            assert (body["approvals"], body["decisions"]) == (5, 6)
            assert set(body["teams"]) >= {t.team_id for t in teams[:6]}
            assert {d[2] for d in body["decided"]} == {"staff:ana", "staff:bo", "staff:cy"}
            assert notices[0]["MessageAttributes"]["owner"]["Value"] == "trust-and-safety"
            misfiring = [m for m in staff() if "rule likely misfiring" in m["Subject"]]
            assert len(misfiring) == 1 and reason in misfiring[0]["Message"]
            # never a customer: the replies say nothing of it
            assert all("misfiring" not in (app.client.store.get(c).customer_reply or "") for c in ids)

            out = io.StringIO()
            assert causes_cmd.cmd_causes(cli.build_parser().parse_args(["causes", "--json"]), out, app.client) == 0
            listed = json.loads(out.getvalue())
            mine = next(c for c in listed if c["reason"] == reason)
            # the newest wave first (other tests' causes on this stack too: in the order of their last wave)
            started = [c["last_wave_started"] for c in listed]
            assert started == sorted(started, reverse=True)
            assert datetime.fromisoformat(mine["last_wave_started"]) == DAY
            assert (mine["teams"], mine["cases"], mine["waves"]) == (7, 7, 1)
            assert mine["staff_decisions"] == {"approve": 6, "resolve": 0, "reject": 1}
            assert mine["deciders"] == ["staff:ana", "staff:bo", "staff:cy"]
            assert mine["rule_likely_misfiring"] and mine["owner"] == "trust-and-safety"
            assert mine["median_staff_wait_minutes"] > 0 and mine["median_time_to_fix_minutes"] > 0

            out = io.StringIO()
            causes_cmd.cmd_causes(cli.build_parser().parse_args(["causes", "--cause", mine["cause"]]), out, app.client)
            text = out.getvalue()
            assert "rule likely misfiring: owner told" in text and "staff:ana" in text
            assert all(r.case_id in text for r in results)
        finally:
            take_human_queue_messages(app, ids)
