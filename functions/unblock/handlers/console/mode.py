"""The console's Mode page (DESIGN.md "Modes"): every staff member sees the stack's run-time mode and
who switched it when; members of the admin group (CONSOLE_ADMIN_GROUP, the token's groups) switch it,
audited and told to staff. Every function obeys within a minute."""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from unblock import composition
from unblock.console import views
from unblock.console.requests import ModeSwitchRequest, in_group
from unblock.handlers.console.http import actor, form, json_answer, page, verified_claims
from unblock.observability import logger, metrics

router = APIGatewayHttpRouter()


def _admin_group() -> str:
    return os.environ.get("CONSOLE_ADMIN_GROUP", "unblock-admins")


def _admin() -> bool:
    return in_group(verified_claims(router.current_event), _admin_group())


@router.get("/pages/mode")
def mode_page() -> Response[str]:
    modes = composition.mode_switch()
    return page(200, views.mode_page(modes.current(fresh=True), modes.changes(limit=20), _admin(), _admin_group()))


@router.post("/api/mode")
def switch() -> Response[str]:
    from unblock.workflow.modes import switch_mode

    who = str(actor(router.current_event))
    if not _admin():
        return json_answer(403, {"error": f"only admins (group {_admin_group()}) may switch the stack's mode"})
    event = router.current_event
    body = ModeSwitchRequest.parse(*form(event))
    host = (event.raw_event.get("requestContext") or {}).get("domainName")
    url = f"https://{host}/" if host else composition.console_url()
    change = switch_mode(composition.mode_switch(), composition.clock(), body.mode, who, body.note,
                         alerts=composition.staff_alerts(), link=f"{url.rstrip('/')}/mode" if url else None)
    if change is None:
        return json_answer(200, {"mode": body.mode, "message": f"The stack is in {body.mode} mode already."})
    logger.info("mode switched", extra={"was": change.was, "now": change.now, "actor": who})
    metrics.add_metric(name="ModeSwitches", unit="Count", value=1)
    return json_answer(200, {"mode": change.now, "actor": who,
                             "message": f"Switched from {change.was} to {change.now} by {who}: every function "
                                        "obeys within a minute."})
