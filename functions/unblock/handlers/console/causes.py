"""The console's causes and standing policies (docs/causes.md): the Causes page and a cause's page
(its record and its policies), and the two policy actions behind the authorizer: make a policy for a
cause (in shadow), switch one live or back to shadow, or revoke it. Errors are mapped in __init__."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from unblock import composition
from unblock.console import views
from unblock.console.requests import PolicyCreateRequest, PolicyStatusRequest
from unblock.handlers.console.http import actor, form, json_answer, page
from unblock.handlers.console.pages import shell
from unblock.observability import logger

router = APIGatewayHttpRouter()


@router.get("/causes")
def shell_causes() -> Response[str]:
    return shell()


@router.get("/causes/<cause_key>")
def shell_cause(cause_key: str) -> Response[str]:
    return shell()


@router.get("/pages/causes")
def causes() -> Response[str]:
    from unblock.workflow import causes as cause_flow

    return page(200, views.causes_page(cause_flow.list_causes(composition.causes(), composition.cases())))


@router.get("/pages/causes/<cause_key>")
def cause(cause_key: str) -> Response[str]:
    from unblock.workflow import causes as cause_flow
    from unblock.workflow import policies as policy_flow

    key = unquote(cause_key)
    view = cause_flow.cause_view(composition.causes(), composition.cases(), key)
    if view is None:
        return page(404, views.not_found_page(f"No cause {key}."))
    shown = policy_flow.list_policies(composition.policies(), composition.cases(), composition.clock(), key)
    return page(200, views.cause_page(view, shown))


@router.post("/api/causes/<cause_key>/policies")
def create_policy(cause_key: str) -> Response[str]:
    from unblock.domain.policies import PolicyConditions
    from unblock.workflow import policies as policy_flow

    who, key = str(actor(router.current_event)), unquote(cause_key)
    body = PolicyCreateRequest.parse(*form(router.current_event))
    conditions = PolicyConditions(card_valid_and_verified=body.card == "required", max_risk_score=body.max_risk_score,
                                  max_per_day=body.max_per_day)
    policy = policy_flow.create(composition.policies(), composition.causes(), composition.clock(), key, who,
                                owner=body.owner, days=body.days, conditions=conditions)
    logger.info("policy created", extra={"policy_id": policy.policy_id, "actor": who})
    return json_answer(200, {"policy_id": policy.policy_id, "state": policy.status,
                             "message": f"Policy {policy.policy_id} made by {who}, in shadow: it records what it "
                                        "would approve until a staff member switches it live."})


@router.post("/api/policies/<policy_id>/status")
def switch_policy(policy_id: str) -> Response[str]:
    from unblock.workflow import policies as policy_flow

    who, policy_id = str(actor(router.current_event)), unquote(policy_id)
    body = PolicyStatusRequest.parse(*form(router.current_event))
    policy = policy_flow.switch(composition.policies(), composition.clock(), policy_id, body.status, who, body.note)
    logger.info("policy switched", extra={"policy_id": policy_id, "status": policy.status, "actor": who})
    return json_answer(200, {"policy_id": policy_id, "state": policy.status,
                             "message": f"Policy {policy_id} is {policy.status} ({who})."})
