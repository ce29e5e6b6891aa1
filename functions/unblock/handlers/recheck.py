"""Recheck: every 15 minutes, re-check the pending cases that are due (query, never scan)."""

import os
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics
from unblock.workflow.recheck import recheck_due


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    workflow = composition.workflow()
    sla = timedelta(hours=float(os.environ.get("STAFF_SLA_HOURS", "4")))
    batch = int(os.environ.get("RECHECK_BATCH", "100"))
    report = recheck_due(composition.platform(), composition.cases(), composition.human_queue(), workflow,
                         composition.clock(), sla=sla, outbox=composition.outbox(), limit=batch,
                         mode=composition.mode(),
                         alerts=composition.staff_alerts(), console_url=composition.console_url(),
                         incidents=composition.incidents())
    for case_id, action in report.actions.items():
        logger.info("rechecked", extra={"case_id": case_id, "action": action})
    for case_id, error in report.failures.items():
        logger.error("re-check of a case failed", extra={"case_id": case_id, "error": error})
    metrics.add_metric(name="CasesRechecked", unit="Count", value=report.due)
    metrics.add_metric(name="RecheckFailures", unit="Count", value=len(report.failures))  # alarmed in template.yaml
    return {"due": report.due, "actions": report.actions, "failures": report.failures}
