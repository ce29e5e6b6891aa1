"""The composition root: the adapters each function uses, built from its environment once per
container (module-level caches, so a warm container reuses its clients).

Handlers ask here for their platform, case store, queues and clock; nothing else builds an
adapter. Imports are deferred to first use: the intake and webhook functions need none of the
case or platform adapters (cold start).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from unblock.domain.clock import SystemClock

if TYPE_CHECKING:
    from unblock.adapters.dead_letters import IntakeDeadLetters
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.adapters.dynamodb_causes import DynamoCauseStore
    from unblock.adapters.dynamodb_incidents import DynamoIncidentStore
    from unblock.adapters.dynamodb_policies import DynamoPolicyStore
    from unblock.adapters.dynamodb_proactive import DynamoProactiveCases
    from unblock.adapters.helpdesk_http import HelpDeskAccount
    from unblock.adapters.helpdesk_shared import DeliverOnce
    from unblock.adapters.idempotency import PersistentOnce
    from unblock.adapters.owner_notices import SnsOwnerNotices
    from unblock.adapters.sqs import SqsHumanQueue, SqsOutbox
    from unblock.adapters.ssm_mode import SsmModeSwitch
    from unblock.adapters.staff_alerts import StaffAlertsFanOut
    from unblock.adapters.stepfunctions import StepFunctionsWorkflow
    from unblock.domain.causes import MisfiringRule
    from unblock.domain.fixes import FixPolicy
    from unblock.domain.models import Mode
    from unblock.ports import Clock, HelpDeskReader, Notifier, Platform
    from unblock.workflow.guardrails import RevertGuard


@cache
def clock() -> Clock:
    return SystemClock()


@cache
def _dynamodb() -> Any:
    import boto3

    return boto3.resource("dynamodb")


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


@cache
def stepfunctions() -> Any:
    import boto3

    return boto3.client("stepfunctions")


def workflow() -> StepFunctionsWorkflow:
    """The workflow port over the remediation state machine (STATE_MACHINE_ARN): how every
    function starts or resumes an execution (its client is built once per container)."""
    from unblock.adapters.stepfunctions import StepFunctionsWorkflow

    return StepFunctionsWorkflow(stepfunctions(), os.environ["STATE_MACHINE_ARN"])


@cache
def platform() -> Platform:
    """PLATFORM_ADAPTER selects the sandbox table (default) or the operator's admin API over HTTP."""
    if os.environ.get("PLATFORM_ADAPTER", "sandbox") == "http":
        from unblock.adapters.platform_http import HttpPlatform

        return HttpPlatform.from_env()
    from unblock.adapters.platform_sandbox import SandboxPlatform

    return SandboxPlatform(_dynamodb().Table(os.environ["PLATFORM_TABLE"]), clock())


@cache
def cases() -> DynamoCaseStore:
    """The case store; the same table keeps the fix ledger."""
    from unblock.adapters.dynamodb_cases import DynamoCaseStore

    return DynamoCaseStore(_dynamodb().Table(os.environ["CASES_TABLE"]))


@cache
def incidents() -> DynamoIncidentStore:
    """Incidents (DESIGN.md "Incidents"), kept in the cases table too."""
    from unblock.adapters.dynamodb_incidents import DynamoIncidentStore

    return DynamoIncidentStore(_dynamodb().Table(os.environ["CASES_TABLE"]))


@cache
def causes() -> DynamoCauseStore:
    """Each cause's record (docs/causes.md), kept in the cases table too."""
    from unblock.adapters.dynamodb_causes import DynamoCauseStore

    return DynamoCauseStore(_dynamodb().Table(os.environ["CASES_TABLE"]))


@cache
def policies() -> DynamoPolicyStore:
    """Standing policies and their audit (docs/causes.md), kept in the cases table too."""
    from unblock.adapters.dynamodb_policies import DynamoPolicyStore

    return DynamoPolicyStore(_dynamodb().Table(os.environ["CASES_TABLE"]))


def misfiring_rule(environ: Mapping[str, str] | None = None) -> MisfiringRule:
    """When a cause's rule counts as likely misfiring (MISFIRING_RULE `N/M/DAYS`, default 5/6/30)."""
    from unblock.domain.causes import MisfiringRule

    return MisfiringRule.parse((os.environ if environ is None else environ).get("MISFIRING_RULE"))


def rule_owners(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Who owns which rule (RULE_OWNERS, a JSON object: a reason or code prefix -> owner, and
    `default`); a value that is not such an object fails loudly."""
    import json

    raw = (os.environ if environ is None else environ).get("RULE_OWNERS", "").strip()
    owners = json.loads(raw) if raw else {}
    if not isinstance(owners, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in owners.items()):
        raise ValueError("RULE_OWNERS must be a JSON object of prefix -> owner (strings), with a `default`")
    return owners


@cache
def owner_notices() -> SnsOwnerNotices | None:
    """The rule owners' SNS topic (RULE_OWNER_TOPIC_ARN); None when the stack has none."""
    topic = os.environ.get("RULE_OWNER_TOPIC_ARN", "").strip()
    if not topic:
        return None
    import boto3

    from unblock.adapters.owner_notices import SnsOwnerNotices

    return SnsOwnerNotices(boto3.client("sns"), topic)


@cache
def mode_switch() -> SsmModeSwitch:
    """The stack's run-time mode: the SSM parameter MODE_PARAMETER names (template.yaml
    `ModeParameter`), cached briefly per container; switches audited in the cases table."""
    from unblock.adapters.ssm_mode import SsmModeSwitch

    name = os.environ.get("MODE_PARAMETER", "").strip()
    if not name:
        raise RuntimeError("MODE_PARAMETER is not set: the stack's mode parameter (template.yaml ModeParameter)")
    return SsmModeSwitch(name, _dynamodb().Table(os.environ["CASES_TABLE"]))


def mode() -> Mode:
    """The stack's mode now (live, approval or shadow): what a run starting now obeys."""
    return mode_switch().current()


def revert_guard() -> RevertGuard:
    """MAX_REVERTS_PER_HOUR reverts within an hour move a live stack to approval (workflow.guardrails)."""
    from unblock.workflow.guardrails import RevertGuard

    return RevertGuard(cases(), mode_switch(), int(os.environ.get("MAX_REVERTS_PER_HOUR", "3")))


@cache
def proactive() -> DynamoProactiveCases:
    """Each team's proactive case (DESIGN.md "Proactive cases"), kept in the cases table too."""
    from unblock.adapters.dynamodb_proactive import DynamoProactiveCases

    return DynamoProactiveCases(_dynamodb().Table(os.environ["CASES_TABLE"]))


def fix_policy(run_mode: Mode) -> FixPolicy:
    """The guardrails for a run in `run_mode` (approval: every fix is a proposal)."""
    from unblock.domain.fixes import FixPolicy

    return FixPolicy(
        approval=run_mode == "approval",
        max_auto_lifts_per_hour=int(os.environ.get("MAX_AUTO_LIFTS_PER_HOUR", "20")),
        max_fixes_per_hour=int(os.environ.get("MAX_FIXES_PER_HOUR", "100")),
    )


@cache
def outbox() -> SqsOutbox:
    from unblock.adapters.sqs import SqsOutbox

    return SqsOutbox(_sqs(), os.environ["OUTBOX_QUEUE_URL"])


@cache
def human_queue() -> SqsHumanQueue:
    from unblock.adapters.sqs import SqsHumanQueue

    return SqsHumanQueue(_sqs(), os.environ["HUMAN_QUEUE_URL"])


@cache
def reply_parts_once() -> PersistentOnce | None:
    """Each reply part delivered once across containers (records in the cases table); None
    where no cases table is configured (the notifiers then remember per container)."""
    if not os.environ.get("CASES_TABLE"):
        return None
    from unblock.adapters.idempotency import PersistentOnce

    return PersistentOnce(os.environ["CASES_TABLE"])


@cache
def intake_dead_letters() -> IntakeDeadLetters:
    from unblock.adapters.dead_letters import IntakeDeadLetters

    return IntakeDeadLetters(_sqs(), os.environ["INTAKE_DLQ_URL"])


# --- help desks: configuration is read here only ---------------------------------------
# Each desk in the registry (unblock.domain.helpdesks) names its settings and the module of its
# HTTP adapter; that module's `notifier(account, once=, console_url=)` and `reader(account)` are
# what is built here, for every desk alike.


def helpdesk_accounts(environ: Mapping[str, str] | None = None) -> dict[str, HelpDeskAccount | str]:
    """Each help desk whose URL is set: its account, or what is wrong with its settings. The secret
    is read at each request, not here, through Powertools Parameters (cached for SECRET_MAX_AGE
    seconds, so a rotation lands without a redeploy; a failed read costs that request only)."""
    from unblock.adapters.helpdesk_http import HelpDeskAccount
    from unblock.adapters.secrets import secret_reader
    from unblock.domain import helpdesks
    from unblock.observability import logger

    env = os.environ if environ is None else environ
    found: dict[str, HelpDeskAccount | str] = {}
    for desk in helpdesks.DESKS.values():
        destination, url_var = desk.name, desk.settings.api_url
        user_var, secret_var = desk.settings.api_user, desk.settings.api_secret
        url = env.get(url_var, "").strip()
        if not url:
            logger.info("help desk not configured: its replies stay on the case",
                        extra={"destination": destination, "missing": url_var})
            continue
        user = env.get(user_var, "").strip()
        secret = env.get(secret_var, "").strip()
        missing = [name for name, value in ((user_var, user), (secret_var, secret)) if not value]
        if missing or not url.startswith(("https://", "http://")):
            problem = f"missing {', '.join(missing)}" if missing else f"{url_var} is not an http(s) URL"
            logger.error("help desk misconfigured", extra={"destination": destination, "problem": problem})
            found[destination] = problem
            continue
        found[destination] = HelpDeskAccount(url, user, secret_reader(secret, destination))
    return found


def _adapter(destination: str) -> Any:
    """The desk's HTTP adapter module, as its registry entry names it."""
    from importlib import import_module

    from unblock.domain import helpdesks

    return import_module(helpdesks.desk(destination).adapter)


def notifiers_from_env(environ: Mapping[str, str] | None = None, *, once: DeliverOnce | None = None
                       ) -> dict[str, Notifier]:
    """The notifiers the environment configures, by destination.

    Each desk's settings (its registry entry names them): the API URL, the user unblock acts as
    (an agent's email, an API username) and the Secrets Manager secret holding its credential. A
    help desk without its URL is absent (its replies stay on the case); one with the URL but not
    the rest is `Misconfigured` (every delivery rejected).
    """
    from unblock.adapters.helpdesk_shared import Misconfigured

    env = os.environ if environ is None else environ
    console = env.get("CONSOLE_URL", "").strip() or None
    found: dict[str, Notifier] = {}
    for destination, account in helpdesk_accounts(env).items():
        if isinstance(account, str):
            found[destination] = Misconfigured(destination, account)
        else:
            found[destination] = _adapter(destination).notifier(account, once=once, console_url=console)
    return found


def notifiers() -> dict[str, Notifier]:
    """The NotifyFunction's notifiers (it keeps them per container); each reply part is delivered once across containers
    (Powertools idempotency in the cases table)."""
    return notifiers_from_env(once=reply_parts_once())


@cache
def requester_directory(destination: str) -> HelpDeskReader:
    """The desk's user look-ups (requester verification) and ticket reads, with the account its
    replies use. A help desk not configured (or misconfigured) reads nothing: the requester is
    then unverified, the ticket goes on. UnknownHelpDesk for a desk the registry does not list."""
    from unblock.adapters.helpdesk_shared import DeskReader

    adapter = _adapter(destination)
    account = helpdesk_accounts().get(destination)
    return adapter.reader(account) if account is not None and not isinstance(account, str) else DeskReader()


def webhook_secret(name: str) -> str:
    """A webhook's signing secret (Secrets Manager, cached by Powertools)."""
    from unblock.adapters.secrets import read_secret

    return read_secret(name)


def console_url() -> str | None:
    """The staff console's address, for links in alerts (CONSOLE_URL; empty = no link)."""
    return os.environ.get("CONSOLE_URL") or None


@cache
def staff_alerts() -> StaffAlertsFanOut:
    """The SNS topic (STAFF_ALERTS_TOPIC_ARN) and, when SLACK_WEBHOOK_SECRET_NAME names a secret, Slack."""
    from unblock.adapters.staff_alerts import SlackStaffAlerts, SnsStaffAlerts, StaffAlertsFanOut
    from unblock.observability import logger

    channels: list[tuple[str, Any]] = []
    if topic := os.environ.get("STAFF_ALERTS_TOPIC_ARN", "").strip():
        import boto3

        channels.append(("sns", SnsStaffAlerts(boto3.client("sns"), topic)))
    if secret := os.environ.get("SLACK_WEBHOOK_SECRET_NAME", "").strip():
        from unblock.adapters.secrets import secret_reader

        channels.append(("slack", SlackStaffAlerts(secret_reader(secret, "slack"))))

    def on_error(channel: str, err: Exception) -> None:
        logger.warning("staff alert not sent", extra={"channel": channel, "error": type(err).__name__})

    return StaffAlertsFanOut(channels, on_error)


# --- Slack interactivity (the buttons on staff alerts) ---------------------------------------
def slack_signing_secret() -> str:
    """Slack's signing secret (SLACK_SIGNING_SECRET_NAME, Secrets Manager, cached by Powertools)."""
    from unblock.adapters.secrets import read_secret

    name = os.environ.get("SLACK_SIGNING_SECRET_NAME", "").strip()
    return read_secret(name) if name else ""


def slack_allowed_users() -> frozenset[str]:
    """The Slack user ids the operator allows to decide (SLACK_ALLOWED_USERS, comma-separated)."""
    return frozenset(u.strip() for u in os.environ.get("SLACK_ALLOWED_USERS", "").split(",") if u.strip())


def slack_responder() -> Any:
    from unblock.adapters.staff_alerts import post_to_response_url

    return post_to_response_url


def invoke_async(function_name: str, payload: dict[str, Any]) -> None:
    """An asynchronous invocation (Lambda retries it on failure)."""
    import json

    import boto3

    boto3.client("lambda").invoke(FunctionName=function_name, InvocationType="Event",
                                  Payload=json.dumps(payload).encode())