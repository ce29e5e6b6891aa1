"""IntakeFunction: ticket events (EventBridge rule), staff starts and replays of kept events.

Parses nothing itself: `workflow.intake.take_in` validates, redacts, starts the case's execution
or keeps the event on the intake dead-letter queue. This module logs and counts what it did.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics
from unblock.workflow import intake


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    taken = intake.take_in(event, composition.clock().now(), composition.workflow(), composition.intake_dead_letters())
    if taken.status == "ignored":
        logger.info("replayed delivery opens no case", extra={"kind": taken.kind, "reason": taken.reason})
    elif taken.report is None:
        if taken.dead_lettered:
            metrics.add_metric(name="EventsDeadLettered", unit="Count", value=1)
        logger.warning("event kept on the intake dead-letter queue",
                       extra={"kind": taken.kind, "reason": taken.reason, "replay": taken.replay})
    else:
        logger.append_keys(case_id=taken.report.case_id)
        logger.info("workflow started" if taken.status == "started" else "duplicate delivery",
                    extra={"source": taken.report.source, "replay": taken.replay})
        metrics.add_metric(name="TicketsReceived", unit="Count", value=1)
    return taken.answer()
