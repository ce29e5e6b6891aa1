"""The cases table: conditional writes, the pending index, and the fix ledger's hourly count."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from moto import mock_aws

from tests.support import ROOT
from unblock.adapters.dynamodb_cases import DynamoCaseStore
from unblock.domain.cases import Case
from unblock.domain.models import FixRecord, Report
from unblock.ports import CaseConflict
from unblock.workflow import steps
from unblock_dev.clock import FixedClock
from unblock_dev.local.template import load_template
from unit_support import NOW


@pytest.fixture
def store(boto_session):
    """The cases table exactly as template.yaml defines it (keys, index, projection)."""
    props = load_template(ROOT / "template.yaml")["Resources"]["CasesTable"]["Properties"]
    with mock_aws():
        table = boto_session.resource("dynamodb").create_table(
            TableName=f"unblock-unit-cases-{uuid.uuid4().hex[:12]}", BillingMode="PAY_PER_REQUEST",
            **{k: props[k] for k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")},
        )
        yield DynamoCaseStore(table)
        table.delete()


def _case(case_id: str, **fields) -> Case:
    return Case(case_id=case_id, report=Report(case_id=case_id, source="staff"), created_at=NOW, updated_at=NOW,
                **fields)


def test_opening_a_case_twice_keeps_the_first(store):
    assert store.create(_case("zendesk:1", team_id="team_A")) is True
    assert store.create(_case("zendesk:1", team_id="team_B")) is False
    assert store.get("zendesk:1").team_id == "team_A"


def test_a_write_over_a_stale_read_loses_and_the_retry_keeps_both_changes(store):
    clock = FixedClock(NOW)
    store.create(_case("zendesk:2", status="awaiting_staff", next_check_at=NOW))
    staff_view = store.get("zendesk:2")
    recheck_view = store.get("zendesk:2")

    store.save(staff_view.model_copy(update={"priority": "high"}))  # the re-check's requeue lands first...
    with pytest.raises(CaseConflict):
        store.save(recheck_view.model_copy(update={"internal_note": "staff: mended by hand"}))
    # ...and the read-modify-write the workflow uses re-reads and re-applies: nothing is lost
    steps._update(store, clock, recheck_view, internal_note="staff: mended by hand")
    case = store.get("zendesk:2")
    assert (case.priority, case.internal_note) == ("high", "staff: mended by hand")


def test_only_due_cases_are_read_and_closed_cases_leave_the_index(store):
    for i in range(30):
        store.create(_case(f"c:{i}", status="awaiting_customer", next_check_at=NOW + timedelta(minutes=i - 10)))
    store.create(_case("c:closed", status="closed", next_check_at=NOW - timedelta(hours=1)))

    due = store.due(NOW)

    assert sorted(c.case_id for c in due) == sorted(f"c:{i}" for i in range(11))
    assert store.last_query_items == 11


def test_lifts_are_counted_per_rolling_hour(store):
    for minutes in (5, 50, 70, 200):
        at = NOW - timedelta(minutes=minutes)
        store.record(FixRecord(case_id=f"c:{minutes}", team_id="team_A", fix="lift_risk_hold", status="applied",
                               actor="unblock", at=at))
    store.record(FixRecord(case_id="c:staff", team_id="team_A", fix="lift_risk_hold", status="applied",
                           actor="staff:alice", at=NOW))  # staff lifts are not automatic ones

    assert store.lifts_since(NOW - timedelta(hours=1)) == 2
    assert store.find("c:5", "lift_risk_hold").status == "applied"



def test_a_case_written_by_another_version_of_the_code_still_reads(store):
    store.create(_case("zendesk:3", team_id="team_A"))
    item = store._table.get_item(Key={"pk": "case#zendesk:3", "sk": "case"})["Item"]
    doc = json.loads(item["doc"]) | {"checks_run": 1, "a_field_from_the_future": True}
    store._table.put_item(Item=item | {"doc": json.dumps(doc)})

    assert store.get("zendesk:3").team_id == "team_A"


def test_a_case_with_new_nested_fields_written_by_newer_code_still_reads(store):
    """During a deploy an old container reads what the new code wrote: every stored part of a case
    (report, findings, plan, fixes, escalation, staff decisions) and the fix ledger ignore new fields."""
    finding = {"check": "billing", "code": "billing.stale_hold", "disposition": "auto_fix", "summary": "stale",
               "fix": "clear_billing_hold", "evidence": {}, "signals": ["gateway.access_denied"]}
    fix = {"case_id": "zendesk:4", "team_id": "team_A", "fix": "clear_billing_hold", "status": "applied",
           "actor": "unblock", "at": "2026-11-26T10:00:00Z", "reverted_at": None, "undo": {"by": "x"}}
    store.create(_case("zendesk:4", team_id="team_A"))
    item = store._table.get_item(Key={"pk": "case#zendesk:4", "sk": "case"})["Item"]
    doc = json.loads(item["doc"])
    doc["report"] |= {"signals": [{"code": "gateway.access_denied", "snippet": "403"}], "follow_ups": 2}
    doc["findings"] = [finding]
    doc["plan"] = {"action": "auto_fix", "reason": "safe", "fixes": ["clear_billing_hold"], "mode": "shadow"}
    doc["fixes"] = [fix]
    doc["escalation"] = {"reason": "needs a person", "findings": [finding], "slack_ts": "1.2"}
    doc["decisions"] = [{"decision": "approve", "actor": "staff:a", "decided_at": "2026-11-26T10:00:00Z",
                         "via": "slack", "slack_user": "U1"}]
    store._table.put_item(Item=item | {"doc": json.dumps(doc)})
    store._table.put_item(Item={"pk": "case#zendesk:4", "sk": "fix#clear_billing_hold", "doc": json.dumps(fix)})

    case = store.get("zendesk:4")
    assert case is not None and case.report.case_id == "zendesk:4"
    assert [f.code for f in case.findings] == ["billing.stale_hold"]
    assert case.plan is not None and case.plan.fixes == ["clear_billing_hold"]
    assert case.fixes_applied == ["clear_billing_hold"]
    assert case.escalation is not None and case.escalation.findings[0].fix == "clear_billing_hold"
    assert [d.actor for d in case.decisions] == ["staff:a"]
    assert store.find("zendesk:4", "clear_billing_hold").status == "applied"
    # and this version can write it on (a conditional write over what it read)
    store.save(case.model_copy(update={"status": "closed"}))
    assert store.get("zendesk:4").status == "closed"


def test_what_comes_from_outside_stays_strict():
    from pydantic import ValidationError

    from unblock.domain.models import ReportInput
    from unblock.workflow.models import OpenCaseStep

    with pytest.raises(ValidationError, match="tem_id"):
        ReportInput.model_validate({"case_id": "staff:1", "source": "staff", "tem_id": "team_A"})
    with pytest.raises(ValidationError, match="tem_id"):
        OpenCaseStep.model_validate({"step": "open_case",
                                     "report": {"case_id": "staff:1", "source": "staff", "tem_id": "team_A"}})


def test_the_hourly_lift_cap_is_one_conditional_write_under_concurrency(store):
    from concurrent.futures import ThreadPoolExecutor

    from unblock_dev.local.moto_patches import serialized_dynamodb_calls

    serialized_dynamodb_calls()  # DynamoDB's own atomicity, which moto lacks
    with ThreadPoolExecutor(12) as pool:
        claimed = list(pool.map(lambda i: store.claim_lift(f"c:{i}", NOW, 2), range(12)))

    assert sum(claimed) == 2
    winner = f"c:{claimed.index(True)}"
    assert store.claim_lift(winner, NOW, 2)  # a retry of a case that holds a claim counts once
    store.release_lift(winner, NOW)  # its lift failed: the slot is free again
    assert store.claim_lift("c:late", NOW, 2)
    assert not store.claim_lift("c:later", NOW, 2)
    assert store.claim_lift("c:next-hour", NOW + timedelta(hours=1), 2)


def test_a_verified_fix_is_never_downgraded_by_a_later_failure(store):
    from unblock.domain.models import Finding, FixRecord

    class Queue:
        sent: list = []

        def send(self, message, *, priority):
            self.sent.append((message, priority))

    clock = FixedClock(NOW)
    store.create(_case("zendesk:5", team_id="team_A"))
    fixed = FixRecord(case_id="zendesk:5", team_id="team_A", fix="clear_billing_hold", status="applied",
                      actor="unblock", at=NOW)
    steps.save_if_unchanged(store, store.get("zendesk:5"), fixes=[fixed], verification={
        "outcome": "auto_fixed", "reason": "Fix verified", "findings": []})
    closed = steps.close_case(store, clock, "zendesk:5", "auto_fixed", "verified")
    assert closed.outcome == "auto_fixed" and "fixed it" in closed.customer_reply

    # queuing the reply failed for good: the workflow hands the case to staff
    queue = Queue()
    held = steps.escalate_case(store, queue, clock, "zendesk:5", "A step failed after retries (OutboxUnavailable)",
                               "token-1", partial=[Finding(check="billing", code="billing.ok", disposition="ok",
                                                           summary="ok")])
    assert (held.outcome, held.customer_reply) == ("auto_fixed", closed.customer_reply)
    assert held.status == "awaiting_staff" and held.task_token == "token-1" and queue.sent

    # staff close it (or a retried CloseCase runs again): still the verified fix and its reply
    again = steps.close_case(store, clock, "zendesk:5", "escalated", "resolved")
    assert (again.outcome, again.status, again.customer_reply) == ("auto_fixed", "closed", closed.customer_reply)
    assert steps.close_case(store, clock, "zendesk:5", "escalated", "timed_out") == store.get("zendesk:5")
