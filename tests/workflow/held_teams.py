"""Teams held by a rule of a test's own (a fresh reason), and their customers' tickets: a test of causes
or policies never shares its cause with the session's other tests (whose waves use the seed's rules)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from unblock.domain.platform_model import Seed, Team, hash_secret

TEMPLATE_TEAM = "team_VeL0c1tyWave000000000001"  # comet-labs: a risk hold (0.81) by "new account velocity"


def held_teams(app: Any, n: int, *, reason: str | None = None, risk_score: float = 0.81,
               staff_placed: int | None = None, card_ok: bool = True) -> tuple[str, list[Team]]:
    """`n` new teams held by one automated rule (the reason returned); `staff_placed` is the index of a
    team whose hold staff placed instead."""
    reason = reason or f"rule {uuid.uuid4().hex[:8]} velocity"
    base = app.platform.get_team(TEMPLATE_TEAM)
    teams = []
    for i in range(n):
        tag = uuid.uuid4().hex[:10]
        hold = base.restrictions[0].model_copy(update={
            "reason": reason, "risk_score": risk_score,
            "source": "staff" if i == staff_placed else "automated"})
        # a secret of its own too: the sandbox gateway finds a caller's team by the secret's hash
        key = base.keys[0].model_copy(update={"prefix": f"vck_{tag[:6]}",
                                              "secret_sha256": hash_secret(f"vck_{tag}sandboxsecret")})
        billing = base.billing.model_copy(update={"payment_method": base.billing.payment_method.model_copy(
            update={"status": "valid" if card_ok else "expired"})})
        # members of its own: a copy of comet-labs' members would make their e-mail name two teams
        team = base.model_copy(update={"team_id": f"team_Cause{tag}{i:09d}", "slug": f"cause-{tag}",
                                       "owner_email": f"dev@{tag}.test", "restrictions": (hold,), "members": (),
                                       "keys": (key,), "billing": billing})
        teams.append(team)
    app.platform.load(Seed(teams=tuple(teams), model_policy=app.platform.model_policy()))
    return reason, teams


def ticket(team: Team, *, verified: bool = True) -> dict[str, Any]:
    """The team's customer writes in (from the team's own e-mail when `verified`)."""
    tid = str(uuid.uuid4().int)[:12]
    return {"version": "0", "id": str(uuid.uuid4()), "source": "unblock.tickets",
            "detail-type": "Access Denied Reported", "time": "2027-01-01T00:00:00Z", "region": "us-east-1",
            "account": "123456789012", "resources": [],
            "detail": {"ticket_id": tid, "channel": "web", "subject": "403 on every call",
                       "text": f"Every call from team {team.team_id} to /v1/chat/completions returns 403 "
                               "access_denied.",
                       "requester_email": team.owner_email if verified else f"someone@{uuid.uuid4().hex[:6]}.test",
                       "team_id": team.team_id, "team_slug": None, "key_prefix": None}}


@contextmanager
def topic_messages(app: Any, output: str) -> Iterator[Any]:
    """What is published on the stack's topic (its output's name) from now on: a queue subscribed to it."""
    import boto3

    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"topic-{os.urandom(4).hex()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=app.stack.outputs[output], Protocol="sqs", Endpoint=arn)
    kept: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            kept.extend(json.loads(m["Body"]) for m in batch)
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return list(kept)

    try:
        yield read
    finally:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


def at(day: datetime, minutes: int) -> datetime:
    from datetime import timedelta

    return day + timedelta(minutes=minutes)
