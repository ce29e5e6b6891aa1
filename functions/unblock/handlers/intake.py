"""Intake for ticket events (EventBridge rule), staff starts and replays: validate, redact, start.

Nothing unredacted passes this point: the execution input (kept by AWS in its history) is
the redacted Report. An event that cannot be processed is kept, redacted, on the intake
dead-letter queue with its reason (`unblock replay` re-drives it), and never raises: an
async retry would only keep it twice.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, get_args

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from unblock import composition
from unblock.adapters import stepfunctions as executions
from unblock.adapters.dead_letters import Kind
from unblock.domain.limits import (
    MAX_EVENT_BYTES,
    MAX_EXECUTION_INPUT_BYTES,
    InputRejected,
    check_json_value,
    check_size,
)
from unblock.domain.models import Report
from unblock.domain.tickets import webhooks
from unblock.domain.tickets.reports import redact_report, report_from_ticket
from unblock.domain.tickets.ticket_event import FOLLOW_UP, InvalidTicketEvent, parse_ticket_event
from unblock.observability import logger, metrics
from unblock.workflow import conversations


class UnprocessableEvent(ValueError):
    pass


def start_workflow(report: Report) -> dict[str, Any]:
    """Start the case's execution; a redelivered ticket finds it started (one case, one execution)."""
    arn, started = executions.start(composition.stepfunctions(), os.environ["STATE_MACHINE_ARN"],
                                    report.model_dump(mode="json"))
    return {"case_id": report.case_id, "execution_arn": arn, "started": started}


CASE_OPENS_WITHIN = 10.0  # seconds: OpenCase, the first state, writes the case well within this


def wait_for_case(case_id: str, within: float = CASE_OPENS_WITHIN) -> bool:
    """Whether the case opens within `within` seconds (its execution started a moment ago)."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if composition.cases().get(case_id) is not None:
            return True
        time.sleep(0.2)
    return False


def take_follow_up(report: Report, message_id: str, *, private: bool = False,
                   open_if_new: bool = True) -> dict[str, Any]:
    """A follow-up reaches its case (DESIGN.md "Conversations"); a follow-up naming no case the
    stack knows opens one (`open_if_new`: a normalized `Customer Replied` is a report too), and
    one after the 14 days opens the new case it was followed by."""
    taken = conversations.take_follow_up(composition.cases(), composition.workflow(), composition.clock(),
                                         report, message_id, private=private)
    logger.info("follow-up taken in", extra={"action": taken.action, "case_id": taken.case_id})
    metrics.add_metric(name="FollowUps", unit="Count", value=1)
    if taken.action == "new_case" and taken.new_case is not None:
        return {**start_workflow(taken.new_case), "follow_up": taken.action}
    if taken.action == "no_case":
        if not open_if_new:
            return {"case_id": report.case_id, "execution_arn": None, "started": False, "follow_up": "no_case"}
        started = start_workflow(report)
        if started["started"] or not wait_for_case(report.case_id):
            return {**started, "follow_up": "no_case"}
        # the ticket's first run had just started: its case is open now, and the follow-up joins it
        return take_follow_up(report, message_id, private=private, open_if_new=False)
    return {"case_id": taken.case_id, "execution_arn": taken.execution_arn, "started": taken.action == "run",
            "follow_up": taken.action}


KINDS: tuple[Kind, ...] = get_args(Kind)


def _replay(event: Any) -> dict[str, Any] | None:
    """A replay's envelope ({"replay": {"kind", "payload", ...}}, as `unblock replay` sends it), else None."""
    replay = event.get("replay") if isinstance(event, dict) else None
    return replay if isinstance(replay, dict) else None


def kind_of(event: Any) -> Kind:
    if (replay := _replay(event)) is not None:
        kind = replay.get("kind")
        return kind if isinstance(kind, str) and kind in KINDS else "unknown"
    if isinstance(event, dict):
        if "detail-type" in event:
            return "ticket"
        if "report" in event:
            return "report"
    return "unknown"


def _delivery(payload: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """A kept webhook delivery ({"headers", "body"}): its headers and its body as a JSON object."""
    if not isinstance(payload, dict) or "body" not in payload:
        raise UnprocessableEvent("invalid kept delivery: expected {\"headers\", \"body\"}")
    headers = payload.get("headers")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        headers = {}
    return headers, webhooks.kept_payload(payload["body"])


def _is_follow_up(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("detail-type") == FOLLOW_UP


def to_report(kind: Kind, payload: Any, now: datetime) -> Report:
    """Any accepted shape -> the redacted Report; UnprocessableEvent names the problem."""
    try:
        check_json_value(payload, "event", MAX_EVENT_BYTES)
        report = _report(kind, payload, now)
        check_size(len(report.model_dump_json().encode()), "execution input", MAX_EXECUTION_INPUT_BYTES)
    except InputRejected as err:
        raise UnprocessableEvent(str(err)) from err
    return report


def _report(kind: Kind, payload: Any, now: datetime) -> Report:
    try:
        if kind == "ticket":
            return report_from_ticket(parse_ticket_event(payload), now)
        if kind == "report":
            staff = payload.get("report", payload) if isinstance(payload, dict) else payload
            return redact_report(Report.model_validate(staff))
        if kind == "zendesk":
            _, body = _delivery(payload)
            return report_from_ticket(webhooks.map_zendesk(body), now, source="zendesk")
        if kind == "discourse":
            headers, body = _delivery(payload)
            return report_from_ticket(webhooks.map_discourse(headers, body), now, source="discourse")
    except webhooks.WebhookRejected as err:
        raise UnprocessableEvent(err.reason) from err
    except InvalidTicketEvent as err:
        raise UnprocessableEvent(str(err)) from err
    except ValidationError as err:
        first = err.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise UnprocessableEvent(f"invalid {kind}: {where}: {first['msg']}") from err
    except (KeyError, TypeError) as err:
        raise UnprocessableEvent(f"invalid {kind}: missing {err}") from err
    raise UnprocessableEvent("unrecognized event: expected a normalized ticket event (detail-type "
                             "'Access Denied Reported' or 'Customer Replied'), a staff start "
                             "{\"report\": ...} or a replay")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = composition.clock().now()
    kind = kind_of(event)
    replay = _replay(event)
    payload = replay.get("payload") if replay is not None else event
    try:
        report = to_report(kind, payload, now)
    except webhooks.WebhookIgnored as err:  # a kept delivery that now opens no case: done, nothing lost
        logger.info("replayed delivery opens no case", extra={"kind": kind, "reason": err.reason})
        return {"ignored": err.reason}
    except UnprocessableEvent as err:
        reason = str(err)
        if replay is None:  # a replay that fails again stays where it is kept: one copy, not two
            composition.intake_dead_letters().keep(kind, payload, reason, now)
            metrics.add_metric(name="EventsDeadLettered", unit="Count", value=1)
        logger.warning("event kept on the intake dead-letter queue", extra={"kind": kind, "reason": reason,
                                                                            "replay": replay is not None})
        return {"error": reason, "kept": True}
    logger.append_keys(case_id=report.case_id)
    if kind == "ticket" and isinstance(payload, dict) and _is_follow_up(payload):
        return take_follow_up(report, str(payload.get("id") or report.case_id))
    result = start_workflow(report)
    logger.info("workflow started" if result["started"] else "duplicate delivery",
                extra={"source": report.source, "replay": replay is not None})
    metrics.add_metric(name="TicketsReceived", unit="Count", value=1)
    return result
