"""SignalsFunction: the gateway's denial signals (`Requests Denied`) in; proactive cases out.

Its own function rather than the ticket intake's (README "Proactive cases"): it is the one
trigger that writes the cases table before a workflow runs (the team's proactive record, one
conditional write), which the ticket intake must not be able to do. A signal that cannot be
processed is kept, redacted, on the intake dead-letter queue with its reason (`unblock replay`
re-drives it here), and never raises: an async retry would only keep it twice. A signal whose
case could not be started (StartExecution throttled in a flood) is kept the same way, its team's
claim given back, so the replay opens the case.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.adapters import stepfunctions as executions
from unblock.domain.denials import InvalidDenialSignal, Thresholds, parse_denial_event
from unblock.domain.limits import MAX_EVENT_BYTES, InputRejected, check_json_value
from unblock.domain.models import Report
from unblock.observability import logger, metrics
from unblock.workflow.proactive import take_signal


def _start(report: Report) -> bool:
    return executions.start(composition.stepfunctions(), os.environ["STATE_MACHINE_ARN"],
                            report.model_dump(mode="json"))[1]


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = composition.clock().now()
    replay = event.get("replay") if isinstance(event, dict) and isinstance(event.get("replay"), dict) else None
    payload = replay.get("payload") if replay is not None else event
    try:
        check_json_value(payload, "event", MAX_EVENT_BYTES)
        signal = parse_denial_event(payload).detail
    except (InvalidDenialSignal, InputRejected) as err:
        if replay is None:  # a replay that fails again stays where it is kept: one copy, not two
            composition.intake_dead_letters().keep("denial", payload, str(err), now)
            metrics.add_metric(name="EventsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.warning("denial signal kept on the intake dead-letter queue", extra={"reason": str(err)})
        return {"error": str(err), "kept": True}
    logger.append_keys(team_id=signal.team_id)
    try:
        outcome = take_signal(composition.proactive(), composition.cases(), composition.clock(), signal,
                              Thresholds.from_env(os.environ), _start)
    except Exception as err:  # noqa: BLE001 - a flood throttles StartExecution: keep the signal, never lose it
        reason = f"could not open or join the team's case: {type(err).__name__}"
        composition.intake_dead_letters().keep("denial", payload, reason, now)  # the team's claim was given back
        metrics.add_metric(name="EventsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.exception("denial signal kept on the intake dead-letter queue", extra={"reason": reason})
        return {"error": reason, "kept": True}
    logger.info(f"denial signal {outcome.action}", extra={"case_id": outcome.case_id, "reason": outcome.reason})
    metrics.add_metric(name=f"DenialSignals{outcome.action.capitalize()}", unit=MetricUnit.Count, value=1)
    if outcome.action == "ignored":
        return {"ignored": outcome.reason}
    return {"case_id": outcome.case_id, "action": outcome.action, "started": outcome.started}
