"""The composition root: the adapters each function uses, built from its environment once per
container (module-level caches, so a warm container reuses its clients).

Handlers ask here for their platform, case store, queues and clock; nothing else builds an
adapter. Imports are deferred to first use: the intake and webhook functions need none of the
case or platform adapters (cold start).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from unblock.domain.clock import SystemClock

if TYPE_CHECKING:
    from unblock.adapters.dead_letters import IntakeDeadLetters
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.adapters.dynamodb_incidents import DynamoIncidentStore
    from unblock.adapters.dynamodb_proactive import DynamoProactiveCases
    from unblock.adapters.helpdesk_users import RequesterDirectory
    from unblock.adapters.idempotency import PersistentOnce
    from unblock.adapters.sqs import SqsHumanQueue, SqsOutbox
    from unblock.adapters.staff_alerts import StaffAlertsFanOut
    from unblock.adapters.stepfunctions import StepFunctionsWorkflow
    from unblock.domain.fixes import FixPolicy
    from unblock.ports import Clock, Platform


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


@cache
def workflow() -> StepFunctionsWorkflow:
    """The workflow port over the remediation state machine (STATE_MACHINE_ARN)."""
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
def proactive() -> DynamoProactiveCases:
    """Each team's proactive case (DESIGN.md "Proactive cases"), kept in the cases table too."""
    from unblock.adapters.dynamodb_proactive import DynamoProactiveCases

    return DynamoProactiveCases(_dynamodb().Table(os.environ["CASES_TABLE"]))


def fix_policy() -> FixPolicy:
    from unblock.domain.fixes import FixPolicy

    return FixPolicy(
        dry_run=os.environ.get("DRY_RUN", "false").lower() == "true",
        max_auto_lifts_per_hour=int(os.environ.get("MAX_AUTO_LIFTS_PER_HOUR", "20")),
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


@cache
def requester_directory() -> RequesterDirectory:
    """Help-desk user look-ups for requester verification, from the settings the replies use
    (adapters.helpdesks.HELPDESK_ENV). A help desk not configured looks nobody up; its
    credential is read at each look-up (cached by Powertools), so a rotation or a failed read
    costs one look-up, never the container's: the requester is then unverified, the ticket goes on."""
    from functools import partial

    from unblock.adapters.helpdesk_users import DiscourseUsers, RequesterDirectory, ZendeskUsers
    from unblock.adapters.helpdesks import HELPDESK_ENV
    from unblock.adapters.secrets import read_credential

    configured = {}
    for destination, *names in HELPDESK_ENV:
        url, user, secret = (os.environ.get(name, "").strip() for name in names)
        if url and user and secret:
            configured[destination] = (url, user, partial(read_credential, secret))
    zendesk, discourse = configured.get("zendesk"), configured.get("discourse")
    return RequesterDirectory(zendesk=ZendeskUsers(*zendesk) if zendesk else None,
                              discourse=DiscourseUsers(*discourse) if discourse else None)


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
        from unblock.adapters.helpdesks import secret_reader

        channels.append(("slack", SlackStaffAlerts(secret_reader(secret, "slack"))))

    def on_error(channel: str, err: Exception) -> None:
        logger.warning("staff alert not sent", extra={"channel": channel, "error": type(err).__name__})

    return StaffAlertsFanOut(channels, on_error)
