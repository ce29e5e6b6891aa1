"""DiagnoseFunction: OpenCase, CheckBilling, CheckKey, CheckRestrictions (and Decide).

The function that reads the platform: it identifies the team, runs each check as its own
state, and with the third check decides the next step over all three findings (one
invocation: a state transition and a Lambda call fewer per case than a Decide state). It
writes the case's findings and plan; it never changes the platform.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.models import Finding, NextStep
from unblock.observability import logger, metrics
from unblock.workflow import causes, incidents, steps
from unblock.workflow.models import (
    CaseRef,
    CheckStep,
    DecideStep,
    DiagnoseInput,
    DiagnoseStep,
    Diagnosis,
    OpenCaseStep,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=DiagnoseInput)  # a discriminated union: pydantic picks the model by `step`
def handler(event: OpenCaseStep | CheckStep | DiagnoseStep | DecideStep, context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, OpenCaseStep):
        return open_case(event)
    logger.append_keys(case_id=event.case.case_id, team_id=event.case.team_id)
    if isinstance(event, CheckStep):
        return check(event.step.removeprefix("check_"), event.case).model_dump(mode="json")
    if isinstance(event, DiagnoseStep):
        restrictions = check("restrictions", event.case)
        return decide(event.case, event.billing, event.key, restrictions)
    return decide(event.case, event.billing, event.key, event.restrictions)


def open_case(event: OpenCaseStep) -> dict[str, Any]:
    case = steps.open_case(composition.platform(), composition.cases(), composition.clock(), event.report,
                           execution_arn=event.execution_arn, proactive=composition.proactive(),
                           mode=composition.mode(), workflow=composition.workflow())
    logger.append_keys(case_id=case.case_id, team_id=case.team_id)
    logger.info("case opened", extra={"source": case.report.source, "team_identified": case.team_id is not None})
    metrics.add_metric(name="CasesOpened", unit=MetricUnit.Count, value=1)
    return CaseRef(case_id=case.case_id, team_id=case.team_id, key_prefix=case.key_prefix,
                   mode=case.mode, joined_into=case.joined_into).model_dump()


def check(name: str, case: CaseRef) -> Finding:
    finding = steps.run_check(composition.platform(), composition.clock(), name, str(case.team_id), case.key_prefix)
    logger.info("check done", extra={"check": name, "code": finding.code, "disposition": finding.disposition})
    # by code: one function serves all three checks, so the dimension goes on a metric of its own
    with single_metric(name="Findings", unit=MetricUnit.Count, value=1, namespace="Unblock",
                       default_dimensions={"service": "unblock"}) as metric:
        metric.add_dimension(name="code", value=finding.code)
    return finding


def decide(case: CaseRef, billing: Finding, key: Finding, restrictions: Finding) -> dict[str, Any]:
    findings = [billing, key, restrictions]
    plan: NextStep = steps.decide_case(composition.platform(), composition.cases(), composition.clock(), case.case_id,
                                   findings)
    incidents.track(composition.incidents(), composition.staff_alerts(), composition.clock(), case.case_id,
                    case.team_id, findings, composition.console_url(), shadow=case.mode == "shadow")
    causes.track(composition.causes(), composition.clock(), case.case_id, case.team_id, findings)
    logger.info("decided", extra={"action": plan.action, "fixes": plan.fixes})
    metrics.add_dimension(name="action", value=plan.action)
    metrics.add_metric(name="Decisions", unit=MetricUnit.Count, value=1)
    return Diagnosis(restrictions=restrictions, plan=plan).model_dump(mode="json")
