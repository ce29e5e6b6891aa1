"""Retry with backoff on the platform being unavailable, then escalation with the partial evidence."""

from __future__ import annotations

from tests.support import load_event, zendesk_delivery
from unblock.ports import PlatformUnavailable


def test_a_check_that_fails_twice_then_succeeds_is_retried(app):
    app.stack.faults["DiagnoseFunction.check_billing"] = [PlatformUnavailable("timeout"), PlatformUnavailable("503")]

    result = app.run(load_event("ticket-stale-billing-hold.json"))

    assert result.outcome == "auto_fixed"
    assert result.findings[0].code == "billing.stale_hold"
    failed = [i for i in app.stack.invocations
              if (i.function, i.step) == ("DiagnoseFunction", "check_billing") and not i.ok]
    assert [i.error_type for i in failed[-2:]] == ["PlatformUnavailable", "PlatformUnavailable"]
    assert result.trace.lambda_invocations == 6 + 2  # two retries are billed


def test_a_check_that_always_fails_escalates_with_partial_evidence(app):
    app.stack.faults["DiagnoseFunction.check_key"] = [PlatformUnavailable("timeout")] * 3

    result = app.run(load_event("ticket-risk-hold-lift.json"))

    assert result.outcome == "escalated"
    codes = [f.code for f in result.findings]
    assert codes == ["billing.ok", "key.unavailable", "restrictions.risk_hold_liftable"]
    assert result.findings[1].evidence["error"] == "PlatformUnavailable"
    assert result.fixes_applied == []  # the safety rule holds even for a fix that looked safe
    assert "KeyUnavailable" in result.trace.states
    case = app.client.store.get(result.case_id)
    assert case.status == "awaiting_staff" and case.priority == "high"
    assert app.platform.get_team(result.team_id).restrictions  # risk hold still on


def test_the_embedded_stack_enforces_the_256_kib_payload_limit_as_aws_does(app, monkeypatch):
    import json

    import pytest
    from botocore.exceptions import ClientError

    from unblock.handlers import diagnose
    from unblock_dev.local.stack import PAYLOAD_LIMIT

    sfn, arn = app.client.sfn, app.stack.outputs["StateMachineArn"]
    padding = PAYLOAD_LIMIT - len(json.dumps({"pad": ""}))
    at_limit = json.dumps({"pad": "x" * padding})
    assert len(at_limit.encode()) == PAYLOAD_LIMIT
    with pytest.raises(ClientError, match="ValidationException"):
        sfn.start_execution(stateMachineArn=arn, name="over-the-limit", input=json.dumps({"pad": "x" * (padding + 1)}))
    assert sfn.start_execution(stateMachineArn=arn, name="at-the-limit", input=at_limit)["executionArn"]

    # a state whose output passes the limit fails the execution with States.DataLimitExceeded, a
    # terminal error on AWS (States.ALL does not catch it): the case stays open for the re-check
    real = diagnose.check
    monkeypatch.setattr(diagnose, "check", lambda name, case: real(name, case).model_copy(update=(
        {"evidence": {"dump": "x" * PAYLOAD_LIMIT}} if name == "billing" else {})))
    case_id = app.submit(load_event("ticket-risk-hold-lift.json"))
    case = app.wait(case_id)

    assert app.client.execution_status(case_id) == "FAILED"
    assert case.status == "open"
    history = app.client.sfn.get_execution_history(executionArn=app.client.execution_arn(case_id))["events"]
    assert "States.DataLimitExceeded" in json.dumps(history[-1], default=str)


def test_a_250_kb_ticket_dense_with_facts_runs_to_its_outcome(app):
    event = load_event("ticket-stale-billing-hold.json")
    text = "".join(f"POST /v1/chat/x{i} failed, x-request-id: req_{i:032d}\n" for i in range(4200))
    event["detail"]["text"] = (event["detail"]["text"] + "\n" + text)[: 250 * 1000]

    result = app.run(event)

    assert result.outcome == "auto_fixed"
    case = app.client.store.get(result.case_id)
    assert any(t.startswith("request_ids: 20 of ") for t in case.report.facts["truncated"])


def test_a_transient_outbox_error_at_close_is_retried_and_the_verified_fix_stays(app, monkeypatch):
    from unblock import composition
    from unblock.ports import OutboxUnavailable

    class FlakyOutbox:
        def __init__(self, real, failures):
            self.real, self.failures, self.sent = real, failures, []

        def send(self, reply):
            if self.failures:
                self.failures -= 1
                raise OutboxUnavailable("outbox: ThrottlingException")
            self.sent.append(reply)
            self.real.send(reply)

    outbox = FlakyOutbox(composition.outbox(), failures=2)
    monkeypatch.setattr(composition, "outbox", lambda: outbox)

    # through the Zendesk adapter: a case it produced has a help-desk ticket to answer
    result = app.run(zendesk_delivery(load_event("ticket-stale-billing-hold.json")))

    assert result.outcome == "auto_fixed" and result.verified
    assert "Escalate" not in result.trace.states and "Failed" not in result.trace.states
    case = app.client.store.get(result.case_id)
    assert case.status == "closed" and "fixed it" in case.customer_reply
    assert [r.public_body for r in outbox.sent] == [case.customer_reply]  # queued once, after the retries
    failed = [i for i in app.stack.invocations if i.function == "OutcomeFunction" and i.step == "close" and not i.ok]
    assert [i.error_type for i in failed[-2:]] == ["OutboxUnavailable", "OutboxUnavailable"]
