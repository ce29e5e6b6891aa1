"""SignalsFunction: the gateway's denial signals (`Requests Denied`) in; proactive cases out.

Its own function rather than the ticket intake's (docs/proactive.md): it is the one
trigger that writes the cases table before a workflow runs (the team's proactive record, one
conditional write), which the ticket intake must not be able to do. Parses nothing itself:
`workflow.proactive.take_in` validates the signal, opens or joins the team's case, or keeps the
signal, redacted, on the intake dead-letter queue with its reason (`unblock replay` re-drives it
here); it never raises, since an async retry would only keep it twice. This module logs and counts.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.denials import Thresholds
from unblock.observability import logger, metrics
from unblock.workflow.proactive import take_in


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    taken = take_in(event, records=composition.proactive(), store=composition.cases(), clock=composition.clock(),
                    thresholds=Thresholds.from_env(os.environ), workflow=composition.workflow(),
                    dead_letters=composition.intake_dead_letters(), platform=composition.platform())
    if taken.team_id:
        logger.append_keys(team_id=taken.team_id)
    if taken.action == "kept":
        if taken.dead_lettered:
            metrics.add_metric(name="EventsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.warning("denial signal kept on the intake dead-letter queue", extra={"reason": taken.reason})
    elif taken.action == "unknown_team":
        logger.warning("denial signal for a team the platform does not know: no case", extra={"reason": taken.reason})
        metrics.add_metric(name="DenialSignalsUnknownTeam", unit=MetricUnit.Count, value=1)
    else:
        logger.info(f"denial signal {taken.action}", extra={"case_id": taken.case_id, "reason": taken.reason})
        metrics.add_metric(name=f"DenialSignals{taken.action.capitalize()}", unit=MetricUnit.Count, value=1)
    return taken.answer()
