"""The console's decisions (behind the authorizer): a case's decision, an incident's, a revert, a
shadow verdict. Each parses its body (console.requests) and calls one flow; the flows are imported
by the routes that use them, not at a cold start (staff open the queue first, and the flows bring
redaction and the fix guardrails with them: BENCHMARKS.md). Their errors are mapped in __init__."""

from __future__ import annotations

import os
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from unblock import composition
from unblock.console import views
from unblock.console.requests import (
    CaseDecisionRequest,
    IncidentDecisionRequest,
    RevertRequest,
    ShadowVerdictRequest,
)
from unblock.handlers.console.http import actor, form, json_answer
from unblock.observability import logger, metrics

router = APIGatewayHttpRouter()


@router.post("/api/cases/<case_id>/decision")
def decide(case_id: str) -> Response[str]:
    from unblock.workflow import staff_decisions

    who, case_id = str(actor(router.current_event)), unquote(case_id)
    body = CaseDecisionRequest.parse(*form(router.current_event))
    claimed = staff_decisions.decide(
        composition.cases(), composition.workflow(), composition.human_queue(), composition.clock(), case_id,
        body.decision, who, body.note, stack_mode=composition.mode(), expected_version=body.version)
    logger.info("staff decision", extra={"case_id": case_id, "decision": body.decision, "actor": who})
    metrics.add_dimension(name="decision", value=body.decision)
    metrics.add_metric(name="StaffDecisions", unit="Count", value=1)
    return json_answer(200, {"case_id": case_id, "decision": body.decision, "actor": who, "status": claimed.status,
                       "message": f"{body.decision.capitalize()} recorded for {case_id} by {who}; the workflow "
                                  "resumes."})


@router.post("/api/incidents/<incident_id>/decision")
def decide_incident(incident_id: str) -> Response[str]:
    from unblock.workflow import incidents as incident_flow

    who, incident_id = str(actor(router.current_event)), unquote(incident_id)
    body = IncidentDecisionRequest.parse(*form(router.current_event))
    record = incident_flow.decide_incident(
        composition.incidents(), composition.cases(), composition.workflow(), composition.human_queue(),
        composition.clock(), incident_id, body.decision, who, body.note, stack_mode=composition.mode(),
        include=body.include,
        include_unverified=body.include_unverified,
        versions=body.versions, platform=composition.platform(),
        settle=float(os.environ.get("INCIDENT_SETTLE_SECONDS", "15")))
    summary = views.outcome_summary(record)
    logger.info("incident decision", extra={"incident_id": incident_id, "decision": body.decision, "actor": who,
                                            "outcomes": summary})
    metrics.add_dimension(name="decision", value=body.decision)
    metrics.add_metric(name="IncidentDecisions", unit="Count", value=1)
    return json_answer(200, {"incident_id": incident_id, "decision": body.decision, "actor": who,
                       "outcomes": [o.model_dump(mode="json") for o in record.outcomes],
                       "message": f"{body.decision.capitalize()} recorded for incident {incident_id} by {who}: "
                                  f"{summary}."})


def _own_url() -> str | None:
    """The console's address as this request reached it (for links in staff alerts)."""
    host = (router.current_event.raw_event.get("requestContext") or {}).get("domainName")
    return f"https://{host}/" if host else composition.console_url()


@router.post("/api/cases/<case_id>/revert")
def revert(case_id: str) -> Response[str]:
    from unblock.workflow import reverts

    who, case_id = str(actor(router.current_event)), unquote(case_id)
    body = RevertRequest.parse(*form(router.current_event))
    before = composition.cases().get(case_id)
    case = reverts.revert(composition.platform(), composition.cases(), composition.clock(), case_id, who, body.note,
                          fix=body.fix, alerts=composition.staff_alerts(), outbox=composition.outbox(),
                          console_url=_own_url(), guard=composition.revert_guard())
    fresh = len(case.reverts) - (len(before.reverts) if before else 0)
    done = [r.fix for r in case.reverts[-fresh:]] if fresh else []
    logger.info("fix reverted", extra={"case_id": case_id, "fixes": done, "actor": who})
    if done:
        metrics.add_metric(name="FixesReverted", unit="Count", value=len(done))
    what = ", ".join(done) or "nothing new (already reverted)"
    return json_answer(200, {"case_id": case_id, "reverted": case.reverted, "actor": who,
                       "message": f"Reverted for {case_id} by {who}: {what}."})


@router.post("/api/cases/<case_id>/shadow")
def shadow_verdict(case_id: str) -> Response[str]:
    from unblock.workflow import shadow

    who, case_id = str(actor(router.current_event)), unquote(case_id)
    body = ShadowVerdictRequest.parse(*form(router.current_event))
    shadow.mark(composition.cases(), composition.clock(), case_id, body.verdict, who, body.note)
    metrics.add_dimension(name="verdict", value=body.verdict)
    metrics.add_metric(name="ShadowVerdicts", unit="Count", value=1)
    return json_answer(200, {"case_id": case_id, "verdict": body.verdict, "actor": who,
                       "message": f"{body.verdict.capitalize()} recorded for {case_id} by {who}."})
