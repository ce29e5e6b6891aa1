"""Every ticket of the labelled corpus (tests/data/signal_corpus.yaml) through the workflow on the
embedded stack: what the customer saw (Result.signals), which team, the outcome, and a reply a
senior support engineer would send (its must and must-not phrases, and the "Who may act" rules)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import EVENTS
from tests.unit.test_signal_corpus import TICKETS
from unblock.domain.platform_model import load_seed_text

SEED = load_seed_text((EVENTS / "platform.json").read_text())
TEAM_BY_SLUG = {t.slug: t.team_id for t in SEED.teams}
# Never in any reply: internal signals (DESIGN.md "Who may act on which team"), and words a
# quoted error may hold that a reply must not repeat.
NEVER = ["abuse", "fraud", "sanction", "risk score", "risk_score"]


def event_for(ticket: dict[str, Any]) -> dict[str, Any]:
    detail = {"ticket_id": str(uuid.uuid4().int)[:12], "channel": ticket["channel"],
              "subject": ticket.get("subject", ""), "text": ticket.get("text", ""),
              "requester_email": ticket.get("requester_email"), "team_id": None,
              "team_slug": ticket.get("team_slug"), "key_prefix": None}
    if ticket.get("requester_username"):
        detail["requester_username"] = ticket["requester_username"]
    return {"version": "0", "id": str(uuid.uuid4()), "source": "unblock.tickets",
            "detail-type": "Access Denied Reported", "time": "2026-11-26T10:00:00Z", "region": "us-east-1",
            "account": "123456789012", "resources": [], "detail": detail}


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["id"] for t in TICKETS])
def test_ticket_through_the_workflow(app, ticket):
    expect = ticket["expect"]
    result = app.run(event_for(ticket))

    assert set(result.signals) == set(expect["signals"])
    assert result.team_id == (TEAM_BY_SLUG[expect["team"]] if expect["team"] else None)
    assert result.outcome == expect["outcome"], result.customer_reply
    case = app.console.store.get(result.case_id)
    if expect.get("how"):
        assert case.identified_by == expect["how"]
    if expect["team"]:
        # every identified team still gets all three checks, whatever the signals say
        assert [f.check for f in result.findings] == ["billing", "key", "restrictions"]
    else:
        assert result.findings == []
    reply = result.customer_reply or ""
    assert reply, "every ticket gets an answer"
    for phrase in expect.get("reply_must", []):
        assert phrase.lower() in reply.lower(), f"{phrase!r} not in reply:\n{reply}"
    for phrase in [*expect.get("reply_must_not", []), *NEVER]:
        assert phrase.lower() not in reply.lower(), f"{phrase!r} in reply:\n{reply}"
    if ticket["channel"] == "forum":
        # a public reply never names a team id nor asks for one to be posted
        assert "team_" not in reply.replace("starts with team_", "")
        assert "reply with your team id" not in reply.lower()
