"""Adapters built from the Lambda environment, once per container (module-level caches).

Handlers ask here for their platform, case store, queue and clock; the embedded local
stack calls `reset()` when it starts and may swap the clock (a movable one for tests).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from unblock.clock import Clock, SystemClock

if TYPE_CHECKING:  # imported where used: the intake and webhook handlers need none of them (cold start)
    from unblock.cases import CaseStore
    from unblock.fixes import FixPolicy
    from unblock.platform.port import Platform
    from unblock.store import DynamoCaseStore

_clock: Clock = SystemClock()


def clock() -> Clock:
    return _clock


def set_clock(new: Clock) -> None:
    global _clock
    _clock = new


@cache
def _dynamodb() -> Any:
    import boto3

    return boto3.resource("dynamodb")


@cache
def platform() -> Platform:
    """PLATFORM_ADAPTER selects the sandbox table (default) or the operator's admin API over HTTP."""
    if os.environ.get("PLATFORM_ADAPTER", "sandbox") == "http":
        from unblock.platform.http import HttpPlatform

        inner: Platform = HttpPlatform.from_env()
    else:
        from unblock.platform.sandbox import SandboxPlatform

        inner = SandboxPlatform(_dynamodb().Table(os.environ["PLATFORM_TABLE"]), _ClockProxy())
    from unblock.platform.http_probe import wrap_with_http_probe  # probes over HTTP when GATEWAY_URL is set

    return wrap_with_http_probe(inner)


@cache
def cases() -> DynamoCaseStore:
    from unblock.store import DynamoCaseStore

    return DynamoCaseStore(_dynamodb().Table(os.environ["CASES_TABLE"]))


def case_store() -> CaseStore:
    return cases()


def fix_policy() -> FixPolicy:
    from unblock.fixes import FixPolicy

    return FixPolicy(
        dry_run=os.environ.get("DRY_RUN", "false").lower() == "true",
        max_auto_lifts_per_hour=int(os.environ.get("MAX_AUTO_LIFTS_PER_HOUR", "20")),
    )


class SqsHumanQueue:
    """The human queue: escalated cases with their evidence, for staff."""

    def __init__(self, client: Any, url: str) -> None:
        self._client, self._url = client, url

    def send(self, message: dict[str, Any], *, priority: str) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=json.dumps(message),
            MessageAttributes={"priority": {"DataType": "String", "StringValue": priority},
                               "case_id": {"DataType": "String", "StringValue": str(message["case_id"])}},
        )


class SqsOutbox:
    """Replies on their way back to the help desk: the NotifyFunction delivers them, SQS retries."""

    def __init__(self, client: Any, url: str) -> None:
        self._client, self._url = client, url

    def send(self, reply: Any) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=reply.model_dump_json())


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


@cache
def outbox() -> SqsOutbox:
    return SqsOutbox(_sqs(), os.environ["OUTBOX_QUEUE_URL"])


@cache
def human_queue() -> SqsHumanQueue:
    return SqsHumanQueue(_sqs(), os.environ["HUMAN_QUEUE_URL"])


@cache
def intake_dead_letters() -> Any:
    from unblock.intake.deadletter import IntakeDeadLetters

    return IntakeDeadLetters(_sqs(), os.environ["INTAKE_DLQ_URL"])


@cache
def stepfunctions() -> Any:
    import boto3

    return boto3.client("stepfunctions")


class _ClockProxy:
    """Lets adapters built once follow a clock swapped later (the local stack's movable clock)."""

    def now(self) -> Any:
        return _clock.now()


def reset() -> None:
    for f in (_dynamodb, _sqs, platform, cases, human_queue, stepfunctions, intake_dead_letters, outbox):
        f.cache_clear()
