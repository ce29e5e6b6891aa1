"""Intake for ticket events (EventBridge rule), staff starts and replays: validate, redact, start.

Nothing unredacted passes this point: the execution input (kept by AWS in its history) is
the redacted Report. An event that cannot be processed is kept, redacted, on the intake
dead-letter queue with its reason (`unblock replay` re-drives it), and never raises: an
async retry would only keep it twice.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from unblock import composition
from unblock.adapters import stepfunctions as executions
from unblock.adapters.dead_letters import Kind
from unblock.domain.models import Report
from unblock.domain.tickets import webhooks
from unblock.domain.tickets.reports import redact_report, report_from_ticket
from unblock.domain.tickets.ticket_event import InvalidTicketEvent, parse_ticket_event
from unblock.observability import logger, metrics


class UnprocessableEvent(ValueError):
    pass


def start_workflow(report: Report) -> dict[str, Any]:
    """Start the case's execution; a redelivered ticket finds it started (one case, one execution)."""
    arn, started = executions.start(composition.stepfunctions(), os.environ["STATE_MACHINE_ARN"],
                                    report.model_dump(mode="json"))
    return {"case_id": report.case_id, "execution_arn": arn, "started": started}


def kind_of(event: Any) -> Kind:
    if isinstance(event, dict):
        if "replay" in event and isinstance(event["replay"], dict):
            kind: Kind = event["replay"].get("kind", "unknown")
            return kind
        if "detail-type" in event:
            return "ticket"
        if "report" in event:
            return "report"
    return "unknown"


def to_report(kind: Kind, payload: Any, now: datetime) -> Report:
    """Any accepted shape -> the redacted Report; UnprocessableEvent names the problem."""
    try:
        if kind == "ticket":
            return report_from_ticket(parse_ticket_event(payload), now)
        if kind == "report":
            return redact_report(Report.model_validate(payload.get("report", payload)))
        if kind == "zendesk":
            return report_from_ticket(webhooks.map_zendesk(payload["body"]), now, source="zendesk")
        if kind == "discourse":
            return report_from_ticket(webhooks.map_discourse(payload["headers"], payload["body"]), now,
                                      source="discourse")
    except (InvalidTicketEvent, webhooks.WebhookRejected) as err:
        raise UnprocessableEvent(str(err)) from err
    except ValidationError as err:
        first = err.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise UnprocessableEvent(f"invalid {kind}: {where}: {first['msg']}") from err
    except (KeyError, TypeError) as err:
        raise UnprocessableEvent(f"invalid {kind}: missing {err}") from err
    raise UnprocessableEvent("unrecognized event: expected a normalized ticket event (detail-type "
                             "'Access Denied Reported'), a staff start {\"report\": ...} or a replay")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = composition.clock().now()
    kind = kind_of(event)
    payload = event["replay"]["payload"] if "replay" in event else event
    try:
        report = to_report(kind, payload, now)
    except UnprocessableEvent as err:
        reason = str(err)
        composition.intake_dead_letters().keep(kind, payload, reason, now)
        logger.warning("event kept on the intake dead-letter queue", extra={"kind": kind, "reason": reason})
        metrics.add_metric(name="EventsDeadLettered", unit="Count", value=1)
        return {"error": reason, "kept": True}
    logger.append_keys(case_id=report.case_id)
    result = start_workflow(report)
    logger.info("workflow started" if result["started"] else "duplicate delivery",
                extra={"source": report.source, "replay": "replay" in event})
    metrics.add_metric(name="TicketsReceived", unit="Count", value=1)
    return result
