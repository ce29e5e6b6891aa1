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
    # the cases table only for a follow-up (a `Customer Replied` event): a report needs none
    store = composition.cases() if intake.is_follow_up(event) else None
    taken = intake.take_in(event, composition.clock().now(), composition.workflow(), composition.intake_dead_letters(),
                           store=store, clock=composition.clock())
    if taken.status == "ignored":
        logger.info("replayed delivery opens no case", extra={"kind": taken.kind, "reason": taken.reason})
    elif taken.report is None:
        if taken.dead_lettered:
            metrics.add_metric(name="EventsDeadLettered", unit="Count", value=1)
        logger.warning("event kept on the intake dead-letter queue",
                       extra={"kind": taken.kind, "reason": taken.reason, "replay": taken.replay})
    elif taken.follow_up is not None:
        logger.append_keys(case_id=str(taken.follow_up["case_id"]))
        logger.info("follow-up taken in", extra={"action": taken.follow_up["follow_up"], "replay": taken.replay})
        metrics.add_metric(name="FollowUps", unit="Count", value=1)
    else:
        logger.append_keys(case_id=taken.report.case_id)
        logger.info("workflow started" if taken.status == "started" else "duplicate delivery",
                    extra={"source": taken.report.source, "replay": taken.replay})
        metrics.add_metric(name="TicketsReceived", unit="Count", value=1)
    return taken.answer()
