"""Incidents (DESIGN.md "Incidents"): the cause of a case, and grouping over the cases table on moto:
the third team within 24 hours opens exactly one incident (even when cases arrive at once), staff
are told once, later cases join, another cause never does, an idle incident lets a new wave open."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from moto import mock_aws

from tests.support import ROOT
from unblock.adapters.dynamodb_incidents import DynamoIncidentStore
from unblock.domain.checks import finding
from unblock.domain.incidents import cause_of, normalize_reason
from unblock.domain.models import Finding
from unblock.workflow import incidents as flow
from unblock_dev.clock import FixedClock
from unblock_dev.local.template import load_template
from unit_support import NOW

OK = [finding("billing.ok", {}), finding("key.ok", {})]


def risk_hold(reason: str, code: str = "restrictions.risk_hold", source: str = "automated") -> list[Finding]:
    flags = [{"flag": "risk_hold", "source": source, "risk_score": 0.8, "reason": reason, "created_at": None}]
    return [*OK, finding(code, {"flags": flags, "ai_gateway_entitled": True})]


def stale_hold(reason: str) -> list[Finding]:  # an automated rule's hold
    return [finding("billing.stale_hold", {"hold_active": True, "hold_source": "automated", "hold_reason": reason}),
            finding("key.ok", {}), finding("restrictions.ok", {"flags": []})]


class Alerts:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def publish(self, alert: Any) -> None:
        self.sent.append(alert)


@pytest.fixture
def incidents(boto_session):
    """The cases table exactly as template.yaml defines it."""
    from unblock_dev.local.moto_patches import serialized_dynamodb_calls

    serialized_dynamodb_calls()  # DynamoDB's own atomicity, which moto lacks
    props = load_template(ROOT / "template.yaml")["Resources"]["CasesTable"]["Properties"]
    with mock_aws():
        table = boto_session.resource("dynamodb").create_table(
            TableName=f"unblock-unit-incidents-{uuid.uuid4().hex[:12]}", BillingMode="PAY_PER_REQUEST",
            **{k: props[k] for k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")})
        yield DynamoIncidentStore(table)
        table.delete()


def team(i: int) -> str:
    return f"team_Wave{i:020d}"


# --- the cause ------------------------------------------------------------------------------
def test_the_cause_is_the_deciding_findings_code_and_its_hold_or_flag_reason():
    cause = cause_of(risk_hold("New account  velocity"))
    assert (cause.code, cause.reason, cause.hold, cause.listable) == (
        "restrictions.risk_hold", "new account velocity", "risk_hold", True)
    stale = cause_of(stale_hold("payment retry failed"))
    assert (stale.code, stale.reason, stale.hold) == ("billing.stale_hold", "payment retry failed", "billing_hold")
    # the most severe finding decides: an escalating flag over a stale billing hold
    both = [stale_hold("payment retry failed")[0], finding("key.ok", {}), risk_hold("velocity")[2]]
    assert cause_of(both).code == "restrictions.risk_hold"
    assert cause_of(both).source == "automated"  # the cause records who placed the hold


@pytest.mark.parametrize("findings", [
    risk_hold("new account velocity", source="staff"),  # the red team's staff risk hold (score 0.95)
    risk_hold("new account velocity", source=None),  # the platform does not say who: not an automated rule's
    [finding("billing.hold", {"hold_active": True, "hold_source": "staff", "hold_reason": "new account velocity"}),
     *OK[1:]],
])
def test_a_hold_staff_placed_has_no_cause_and_never_joins_an_incident(findings):
    # issue 22 item 1: only automated holds and flags form a cause
    assert cause_of(findings) is None


def test_per_team_reasons_are_not_one_wave():
    # three chargebacks, one per team: the invoice number is the reason itself, not an id around it
    causes = {cause_of(stale_hold(f"chargeback on invoice {n}")).key for n in (10023, 55871, 99812)}
    assert len(causes) == 3
    # ids, e-mails, keys, URLs and amounts around one rule's text are taken out: one cause
    one = {cause_of(stale_hold(f"Velocity rule: {ident} held, {amount} at https://risk.example/r/{n}")).key
           for ident, amount, n in (("in_10023", "$20.00", 1), ("ch_3NxYz9A1", "450 USD", 2),
                                    ("0f8fad5b-d9cb-469f-a165-70867728950e", "€7", 3))}
    assert len(one) == 1


@pytest.mark.parametrize("reason", [
    "Chargeback on invoice in_1PqR{n}xYz for ${n}0.00",  # the red team's: one chargeback per team
    "Chargeback on invoice in_1PqR{n}xYz for {n}.50 USD",
    "Dispute du_9Zk{n}aB opened: refunded €{n}",
])
def test_chargebacks_one_per_team_never_form_a_wave(reason):
    causes = [cause_of(stale_hold(reason.format(n=n))) for n in (17, 42, 93)]
    assert causes == [None, None, None]
    assert "in_1pqr" not in normalize_reason(reason.format(n=1)) and "$" not in normalize_reason(reason.format(n=1))


def test_rule_ids_still_group_and_two_rules_stay_two():
    one = {cause_of(stale_hold(f"Held by rule_42: invoice in_77{n}AbC unpaid, ${n}.00")).key for n in (1, 2, 3)}
    assert len(one) == 1
    assert cause_of(stale_hold("Held by rule_42")).key != cause_of(stale_hold("Held by rule_43")).key


@pytest.mark.parametrize("findings", [
    [finding("billing.payment_method_expired", {"hold_reason": "card expired"}), *OK[1:]],  # the customer's own
    [finding("billing.ok", {}), finding("key.revoked", {}), finding("restrictions.ok", {})],
    risk_hold(""),  # no reason: the same code alone is not the same rule
    [*OK, finding("restrictions.ok", {"flags": []})],
])
def test_findings_without_a_hold_reason_have_no_cause(findings):
    assert cause_of(findings) is None


def test_the_cause_key_holds_no_secret_no_team_and_no_free_text():
    reason = ("Velocity rule 7 on team_Q3xr89YFWHvqTRO0X0bmHkoU (ops@acme.test, key vck_3f9a12) "
              "token=sk-live-0123456789abcdefghijklmnopqrstuv invoice 20261126 https://risk.example/r/9")
    cause = cause_of(risk_hold(reason))
    for leak in ("team_Q3xr", "ops@acme", "vck_3f9a", "sk-live-0123", "risk.example"):
        assert leak not in cause.reason and leak not in cause.key
    assert cause.reason.startswith("velocity rule 7 on <team> (<email>, key <key>)")
    assert "velocity" not in cause.key and cause.key.startswith("restrictions.risk_hold#")
    # two teams held by one rule share the cause, whatever team-specific text their reasons carry
    other = cause_of(risk_hold(reason.replace("team_Q3xr89YFWHvqTRO0X0bmHkoU", "team_R1skH0ldL1ftab1e00000000")
                               .replace("ops@acme.test", "dev@other.test")))
    assert other.key == cause.key
    assert normalize_reason("  New\tAccount VELOCITY ") == "new account velocity"


# --- grouping -------------------------------------------------------------------------------
def test_the_third_team_opens_one_incident_the_first_two_join_later_ones_join_and_staff_are_told_once(incidents):
    clock, alerts = FixedClock(NOW), Alerts()
    wave = risk_hold("new account velocity")
    assert flow.track(incidents, alerts, clock, "c:1", team(1), wave) is None
    assert flow.track(incidents, alerts, clock, "c:1b", team(1), wave) is None  # the same team again: still one
    clock.advance(timedelta(hours=5))
    assert flow.track(incidents, alerts, clock, "c:2", team(2), wave) is None
    clock.advance(timedelta(hours=5))
    opened = flow.track(incidents, alerts, clock, "c:3", team(3), wave, "https://console.example/")
    assert opened is not None and opened.startswith("inc-20261126-")
    clock.advance(timedelta(hours=20))  # 20 h after the last member: still the cause's incident
    assert flow.track(incidents, alerts, clock, "c:4", team(4), wave) == opened
    assert flow.track(incidents, alerts, clock, "c:other", team(5), risk_hold("chargeback pattern")) is None

    members = incidents.members(opened)
    assert [m.case_id for m in members] == ["c:1", "c:1b", "c:2", "c:3", "c:4"]
    assert all(incidents.incident_of(m.case_id) == opened for m in members)
    assert incidents.incident_of("c:other") is None
    incident = incidents.get(opened)
    assert incident.teams_at_open == 3 and incident.opened_by == "c:3"
    [alert] = alerts.sent
    assert alert.kind == "incident" and alert.teams == 3 and alert.cases == 4
    assert "restrictions.risk_hold" in alert.text and "new account velocity" in alert.text
    assert alert.link == f"https://console.example/incidents/{opened}"


def test_cases_outside_the_24_hours_do_not_count_and_an_idle_incident_lets_a_new_wave_open(incidents):
    clock, alerts = FixedClock(NOW), Alerts()
    wave = stale_hold("payment retry failed")
    flow.track(incidents, alerts, clock, "a:1", team(1), wave)
    flow.track(incidents, alerts, clock, "a:2", team(2), wave)
    clock.advance(timedelta(hours=25))
    assert flow.track(incidents, alerts, clock, "a:3", team(3), wave) is None  # the first two are too old
    flow.track(incidents, alerts, clock, "a:4", team(4), wave)
    first = flow.track(incidents, alerts, clock, "a:5", team(5), wave)
    assert first is not None and [m.case_id for m in incidents.members(first)] == ["a:3", "a:4", "a:5"]
    clock.advance(timedelta(hours=25))  # nobody joined for a day: the incident is over
    assert flow.track(incidents, alerts, clock, "a:6", team(6), wave) is None
    flow.track(incidents, alerts, clock, "a:7", team(7), wave)
    second = flow.track(incidents, alerts, clock, "a:8", team(8), wave)
    assert second not in (None, first)
    assert len(alerts.sent) == 2 and {i.incident_id for i in incidents.list()} == {first, second}


def test_concurrent_cases_for_one_cause_open_exactly_one_incident(incidents):
    clock, alerts = FixedClock(NOW), Alerts()
    wave = risk_hold("new account velocity")
    with ThreadPoolExecutor(12) as pool:
        ids = list(pool.map(lambda i: flow.track(incidents, alerts, clock, f"c:{i}", team(i), wave), range(12)))

    opened = {i for i in ids if i is not None}
    assert len(opened) == 1 and len(incidents.list()) == 1
    [incident_id] = opened
    assert {m.case_id for m in incidents.members(incident_id)} == {f"c:{i}" for i in range(12)}
    assert len(alerts.sent) == 1


def test_a_pending_decision_is_taken_exactly_once(incidents):
    from unblock.domain.incidents import PendingDecision

    pending = PendingDecision(incident_id="inc-1", decision="approve", actor="staff:a", decided_at=NOW)
    incidents.set_pending("c:1", pending)
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: incidents.take_pending("c:1"), range(8)))
    assert [t for t in taken if t is not None] == [pending]


def test_grouping_never_fails_the_case():
    class Broken:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("throttled")

    assert flow.track(Broken(), None, FixedClock(NOW), "c:1", team(1), risk_hold("velocity")) is None  # type: ignore[arg-type]
