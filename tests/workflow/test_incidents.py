"""Incidents on the embedded stack (DESIGN.md "Incidents"): a wave of teams held by one rule opens one
incident on the third case, staff are told once, one bulk decision goes through each member's own
staff decision (guardrails, fix, audit, verification, reply), teams that did not write in can be
included, and a case with another cause never joins.

Each test runs its wave on a day of its own (2027), so the session's other cases (at 2026-11-26)
neither join its incident nor count in its hour's lift cap.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import load_event, take_human_queue_messages
from unblock.workflow import incidents as incident_flow
from unblock_dev import cli
from unblock_dev.commands import decide as decide_cmd
from unblock_dev.commands import incidents as incidents_cmd

WAVE = ["wave-1-comet-labs.json", "wave-2-tidal-forge.json", "wave-3-ember-analytics.json",
        "wave-4-north-quill.json", "wave-5-pixel-harbor.json"]
SABLE, LUMEN = "team_VeL0c1tyWave000000000006", "team_VeL0c1tyWave000000000007"
ACME = "team_Q3xr89YFWHvqTRO0X0bmHkoU"


@pytest.fixture
def staff_alerts(app: Any) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """What is published on the staff alerts topic from now on (a queue subscribed to it)."""
    import boto3

    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"incident-alerts-{os.urandom(4).hex()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=app.stack.outputs["StaffAlertsTopicArn"], Protocol="sqs", Endpoint=arn)

    def read() -> list[dict[str, Any]]:
        out = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            out += [json.loads(m["Body"]) for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    yield read
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


def run_wave(app: Any, names: list[str], at: datetime) -> list[Any]:
    """The wave's reports, one after another, five minutes apart."""
    return [app.run(load_event(n), at=at + timedelta(minutes=5 * i)) for i, n in enumerate(names)]


def test_a_wave_of_five_teams_opens_one_incident_on_the_third_case(app, staff_alerts):
    day = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    results = run_wave(app, WAVE, day)
    other = app.run(load_event("ticket-high-risk-hold.json"), at=day + timedelta(minutes=30))  # another reason
    ids = {r.case_id for r in [*results, other]}
    try:
        assert [r.outcome for r in results] == ["escalated"] * 5
        assert [r.incident_id for r in results[:2]] == [None, None]  # two teams are not yet a wave
        incident_id = results[2].incident_id
        assert incident_id and [r.incident_id for r in results[2:]] == [incident_id] * 3
        assert other.incident_id is None and other.findings[2].code == "restrictions.risk_hold"

        view = app.client.incident(incident_id)
        cause = view.incident.cause
        assert (cause.code, cause.reason, cause.hold) == ("restrictions.risk_hold", "new account velocity",
                                                          "risk_hold")
        assert [m.case_id for m, _ in view.members] == [r.case_id for r in results]  # the first two are members
        assert view.teams == 5 and len(view.waiting) == 5 and view.incident.opened_by == results[2].case_id
        assert app.client.incidents.incident_of(other.case_id) is None
        # the other teams the rule holds, which have not written in
        assert {t.slug for t in view.held_elsewhere} == {"sable-robotics", "lumen-metrics"}
        # a later case of a member team with the same cause joins (no second incident)
        again = app.run(load_event("wave-1-comet-labs.json"), at=day + timedelta(hours=3))
        ids.add(again.case_id)
        assert again.incident_id == incident_id
        assert [i.incident_id for i in app.client.incidents.list() if i.cause.key == cause.key
                and i.opened_at.year == 2027 and i.opened_at.month == 1 and i.opened_at.day == 4] == [incident_id]

        # staff were told once, with the count and the cause (and no report text)
        told = [m for m in staff_alerts() if incident_id in m["Subject"]]
        assert len(told) == 1
        assert "3 teams" in told[0]["Subject"] and "new account velocity" in told[0]["Message"]
        assert "restrictions.risk_hold" in told[0]["Message"] and "traffic is growing" not in told[0]["Message"]

        # one bulk reject with a note closes every waiting member, each with its own decision and reply
        record, finals = app.decide_incident(incident_id, "reject", actor="staff:dana",
                                             note="the velocity rule is right this time")
        assert sorted(o.result for o in record.outcomes) == ["decided"] * 6
        for final in finals:
            case = app.client.store.get(final.case_id)
            assert (case.status, case.resolution) == ("closed", "rejected")
            assert (case.decisions[-1].actor, case.decisions[-1].note) == ("staff:dana",
                                                                          "the velocity rule is right this time")
            assert case.decisions[-1].incident_id == incident_id and case.customer_reply
        assert app.client.store.get(other.case_id).status == "awaiting_staff"  # another cause: untouched
        assert app.client.incidents.get(incident_id).decisions[-1].actor == "staff:dana"
    finally:
        take_human_queue_messages(app, ids)


def test_a_bulk_approve_lifts_each_within_the_hourly_cap_and_escalates_the_rest_with_the_reason(app, monkeypatch):
    monkeypatch.setenv("MAX_AUTO_LIFTS_PER_HOUR", "2")
    app.clock.set(datetime(2027, 1, 7, 9, 0, tzinfo=UTC))  # an hour of its own for the lift cap
    case_ids = [app.submit(load_event(n)) for n in WAVE[:4]]  # four executions at once
    try:
        cases = [app.wait(c) for c in case_ids]
        assert [c.status for c in cases] == ["awaiting_staff"] * 4
        incident_ids = {app.client.incidents.incident_of(c) for c in case_ids}
        assert len(incident_ids) == 1 and None not in incident_ids  # concurrent cases: exactly one incident
        [incident_id] = incident_ids
        # one member was decided by hand before the incident's decision
        app.decide(case_ids[0], "reject", actor="staff:eve")

        record, finals = app.decide_incident(incident_id, "approve", actor="staff:dana", note="rule misfired")

        outcomes = {o.case_id: o for o in record.outcomes}
        first = outcomes[case_ids[0]]
        assert first.result == "already_decided" and "reject by staff:eve" in first.detail
        assert [outcomes[c].result for c in case_ids[1:]] == ["decided"] * 3
        lifted = [r for r in finals if r.outcome == "auto_fixed"]
        held = [r for r in finals if r.outcome == "escalated"]
        assert len(lifted) == 2 and len(held) == 1  # each case through its own guardrails
        for r in lifted:
            case = app.client.store.get(r.case_id)
            assert r.verified and r.fixes_applied == ["lift_risk_hold"] and case.resolution == "approved"
            assert [(f.fix, f.status, f.actor) for f in case.fixes] == [("lift_risk_hold", "applied", "staff:dana")]
            assert not app.platform.get_team(r.team_id).restrictions and r.customer_reply
        assert "MAX_AUTO_LIFTS_PER_HOUR (2) reached" in held[0].escalation["reason"]
        assert held[0].escalation["proposed_fixes"] == ["lift_risk_hold"]  # staff may approve it again later
        assert app.platform.get_team(held[0].team_id).restrictions
    finally:
        take_human_queue_messages(app, set(case_ids))


def test_teams_that_did_not_write_in_are_listed_and_can_be_included(app):
    day = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    results = run_wave(app, WAVE[:3], day)
    incident_id = results[2].incident_id
    ids = {r.case_id for r in results}
    try:
        out = io.StringIO()
        incidents_cmd.cmd_incidents(cli.build_parser().parse_args(["incidents", "--json"]), out, client=app.client)
        listed = next(i for i in json.loads(out.getvalue()) if i["incident_id"] == incident_id)
        assert listed["teams"] == 3 and listed["waiting"] == 3 and listed["cause"]["reason"] == "new account velocity"
        assert {t["slug"] for t in listed["held_elsewhere"]} == {"north-quill", "pixel-harbor", "sable-robotics",
                                                                  "lumen-metrics"}

        args = cli.build_parser().parse_args(["decide", "--incident", incident_id, "--approve", "--actor",
                                              "staff:dana", "--include", SABLE, "--include", LUMEN,
                                              "--include", ACME])
        assert decide_cmd.cmd_decide(args, out, client=app.client) == 0
        record = app.client.incidents.get(incident_id).decisions[-1]
        started = {incident_flow.included_case_id(t, incident_id) for t in (SABLE, LUMEN)}
        ids |= started
        outcomes = {o.case_id: o for o in record.outcomes}
        assert [outcomes[r.case_id].result for r in results] == ["decided"] * 3
        assert {outcomes[c].result for c in started} <= {"decided", "started"}
        assert outcomes[incident_flow.included_case_id(ACME, incident_id)].result == "refused"  # not held by it
        assert record.included == [SABLE, LUMEN]
        assert f"{incident_id}: approve by staff:dana" in out.getvalue()

        for case_id in [*(r.case_id for r in results), *sorted(started)]:
            case = app.wait_for(case_id, lambda c: c.status == "closed", timeout=90)
            assert (case.outcome, case.resolution) == ("auto_fixed", "approved")
            assert case.fixes_applied == ["lift_risk_hold"] and case.decisions[-1].actor == "staff:dana"
        for team in (SABLE, LUMEN):
            case = app.client.store.get(incident_flow.included_case_id(team, incident_id))
            assert case.report.source == "staff" and case.report.requested_by == "staff:dana"
            assert app.client.incidents.incident_of(case.case_id) == incident_id
            assert not app.platform.get_team(team).restrictions
        view = app.client.incident(incident_id)
        assert {m.via for m, _ in view.members} == {"cause", "included"} and view.teams == 5
        assert {t.slug for t in view.held_elsewhere} == {"north-quill", "pixel-harbor"}
    finally:
        take_human_queue_messages(app, ids)


def test_a_decision_for_a_member_not_yet_waiting_is_applied_once_it_waits(app):
    """A member whose execution still ran when staff decided keeps the decision pending; the decision
    call or, after it, the re-check applies it exactly once."""
    from unblock.domain.incidents import PendingDecision
    from unblock.workflow import recheck

    day = datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
    results = run_wave(app, WAVE[:3], day)
    incident_id = results[2].incident_id
    waiting = app.client.store.get(results[0].case_id)
    console = app.client
    try:
        console.incidents.set_pending(waiting.case_id, PendingDecision(
            incident_id=incident_id, decision="resolve", actor="staff:dana", note="mended by hand", decided_at=day))
        action = recheck._recheck(app.platform, console.store, console.human_queue, console.workflow, app.clock,
                                  waiting, timedelta(hours=4), None, "live", console.incidents)  # type: ignore[arg-type]
        assert action == "incident_decision"
        case = app.wait_for(waiting.case_id, lambda c: c.status == "closed")
        assert (case.resolution, case.decisions[-1].note) == ("resolved", "mended by hand")
        assert console.incidents.take_pending(waiting.case_id) is None  # taken once
        assert incident_flow.apply_pending(console.incidents, console.store, console.workflow, None, app.clock,
                                           case, stack_mode="live") is None
    finally:
        take_human_queue_messages(app, {r.case_id for r in results})


def test_an_incident_of_shadow_cases_tells_staff_nothing_until_a_live_case_joins(app, staff_alerts):
    day = datetime(2027, 3, 21, 9, 0, tzinfo=UTC)
    with app.mode("shadow"):  # as an admin switches it (`unblock mode shadow`)
        shadowed = run_wave(app, WAVE[:3], day)
    incident_id = app.client.incidents.incident_of(shadowed[2].case_id)
    assert incident_id is not None  # grouped all the same: staff can see it in the console
    assert [m for m in staff_alerts() if incident_id in m["Subject"]] == []  # nobody was paged

    live = app.run(load_event(WAVE[3]), at=day + timedelta(minutes=30))
    try:
        assert live.incident_id == incident_id
        told = [m for m in staff_alerts() if incident_id in m["Subject"]]
        assert len(told) == 1  # the first live member tells staff, once
    finally:
        app.decide(live.case_id, "reject")
        take_human_queue_messages(app, {live.case_id})
