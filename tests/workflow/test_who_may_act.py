"""DESIGN.md "Who may act on which team": identification is not verification.

Strangers can name any team; the checks still run and staff see everything, but only the
consistency repairs apply by themselves and the reply says nothing about the team."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support import load_event

# what the seed holds about lowrisk-labs (risk hold) and acme-projects (stale billing hold)
LOWRISK_FACTS = ["risk", "0.2", "unusual country", "lifted", "hold", "card", "billing", "restriction", "vck_"]


def _as(event: dict[str, Any], email: str | None, channel: str | None = None) -> dict[str, Any]:
    event["detail"]["requester_email"] = email
    if channel:
        event["detail"]["channel"] = channel
    return event


def _held(app: Any, team_id: str) -> bool:
    return any(r.flag == "risk_hold" for r in app.platform.get_restrictions(team_id))


def _says_nothing_about_the_team(reply: str | None) -> None:
    assert reply
    for fact in LOWRISK_FACTS:
        assert fact not in reply.lower(), fact
    assert "member of the team" in reply


def test_a_stranger_naming_a_team_gets_no_lift_and_no_facts(app):
    result = app.run(_as(load_event("ticket-risk-hold-lift.json"), "mallory@elsewhere.test"))

    assert result.team_id == "team_R1skH0ldL1ftab1e00000000"
    assert result.requester_verified is False
    assert [f.code for f in result.findings][2] == "restrictions.risk_hold_liftable"  # staff see the evidence
    assert result.outcome == "escalated"
    assert result.fixes_applied == []
    assert "not verified" in result.escalation["reason"]
    assert result.escalation["proposed_fixes"] == ["lift_risk_hold"]
    assert _held(app, result.team_id)  # nothing was lifted
    _says_nothing_about_the_team(result.customer_reply)

    # staff approve the proposal from the queue: then it is lifted and verified
    approved = app.decide(result.case_id, "approve")
    assert approved.outcome == "auto_fixed" and approved.fixes_applied == ["lift_risk_hold"]
    assert not _held(app, result.team_id)


def test_without_any_email_the_requester_is_not_verified(app):
    result = app.run(_as(load_event("ticket-risk-hold-lift.json"), None))
    assert result.requester_verified is False and result.outcome == "escalated"


def test_a_member_other_than_the_owner_is_verified_case_insensitively(app):
    result = app.run(_as(load_event("ticket-risk-hold-lift.json"), "Lena@LowRisk.test"))
    assert result.requester_verified is True
    assert result.outcome == "auto_fixed" and result.fixes_applied == ["lift_risk_hold"]
    assert "risk hold" in (result.customer_reply or "")  # a member is told what was done


def test_the_owner_is_verified_and_a_team_found_by_the_owners_email_too(app):
    event = _as(load_event("ticket-risk-hold-lift.json"), "ops@lowrisk.test")
    event["detail"]["team_slug"] = None
    event["detail"]["text"] = "Every request is forbidden since this morning."
    result = app.run(event)
    assert result.team_id == "team_R1skH0ldL1ftab1e00000000"
    assert result.requester_verified is True and result.outcome == "auto_fixed"


def test_a_staff_start_is_verified(app):
    event = {"report": {"case_id": f"staff:{uuid.uuid4().hex[:8]}", "source": "staff",
                        "team_id": "team_R1skH0ldL1ftab1e00000000", "requested_by": "staff:test"}}
    result = app.run(event)
    assert result.requester_verified is True and result.outcome == "auto_fixed"


def test_a_stranger_still_gets_the_consistency_repairs(app):
    result = app.run(_as(load_event("ticket-stale-billing-hold.json"), "mallory@elsewhere.test"))
    assert result.requester_verified is False
    assert result.outcome == "auto_fixed" and result.fixes_applied == ["clear_billing_hold"]
    assert "billing" not in (result.customer_reply or "").lower()
    assert "member of the team" in (result.customer_reply or "")


def test_key_of_another_team_and_unknown_key_read_alike(app):
    replies = []
    for prefix, code in (("vck_acme01", "key.wrong_team"), ("vck_zzzz99", "key.not_found")):
        event = _as(load_event("ticket-risk-hold-lift.json"), "ops@lowrisk.test")  # acme's key; nobody's key
        event["detail"]["key_prefix"] = prefix
        result = app.run(event)
        assert result.findings[1].code == code
        steps = [line for line in (result.customer_reply or "").splitlines() if line.startswith("- ")]
        replies.append([s.replace(prefix, "PREFIX") for s in steps])
    assert replies[0] and replies[0] == replies[1]


def test_no_reply_names_a_restrictions_reason_or_score(app):
    for name in ("ticket-high-risk-hold.json", "ticket-fraud-review.json"):
        result = app.run(load_event(name))
        reply = (result.customer_reply or "").lower()
        assert result.outcome == "escalated"
        for word in ("0.72", "0.93", "velocity", "chargeback", "fraud", "abuse", "sanction", "risk score"):
            assert word not in reply, (name, word)


def test_zendesk_requester_verified_through_the_users_api(app):
    verified = app.run(load_event("zendesk-ticket-created.json", unique=False))
    assert verified.requester_verified is True and verified.outcome == "auto_fixed"
    stranger = app.run(load_event("zendesk-ticket-created-unverified.json", unique=False))
    assert stranger.requester_verified is False


def test_a_forum_post_gets_a_general_public_reply_and_the_specifics_privately(app):
    app.helpdesk.posted.clear()
    result = app.run(load_event("discourse-post-created.json", unique=False))
    assert result.requester_verified is True and result.outcome == "auto_fixed"
    assert "risk" not in (result.customer_reply or "").lower()
    assert "private message" in (result.customer_reply or "")
    app.deliver_replies()
    posts = [p["body"] for p in app.helpdesk.posted if p["path"] == "/posts.json"]
    # other tests' replies may still be on the outbox: this topic's poster's private message
    private = [p for p in posts if p.get("archetype") == "private_message" and p.get("target_recipients") == "lena_v"]
    public = [p for p in posts if "topic_id" in p]
    mine = [p for p in private if p["target_recipients"] == "lena_v"]  # other tests' replies may be queued too
    # another test's run of the same sample topic may have left its own message to lena_v queued first
    assert any("risk hold" in p["raw"] for p in mine), mine
    assert public and "risk" not in json.dumps(public).lower()


def test_a_delivery_that_opens_no_case_looks_nobody_up(app):
    """Each Discourse look-up lands in its staff action log: only a post that opens a case is looked up."""
    from unblock.domain.helpdesks.discourse import discourse_signature
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.app import webhook_request
    from unblock_dev.local.stack import SAMPLE_SECRET

    sample = load_event("discourse-post-created.json", unique=False)
    sample["body"]["post"]["post_number"] = 2  # a reply in a topic that has no case: not a new report
    sample["body"]["post"]["topic_id"] = 999999901
    sample["headers"]["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(sample["body"]),
                                                                           SAMPLE_SECRET)
    app.helpdesk.looked_up.clear()
    out = app.stack.invoke("WebhookFunction", webhook_request(sample))
    assert out["statusCode"] == 200 and "ignored" in json.loads(out["body"])
    assert app.helpdesk.looked_up == []

    stranger = app.run(load_event("discourse-post-created-stranger.json", unique=False))
    assert stranger.requester_verified is False
    assert app.helpdesk.looked_up == ["/u/stranger_42/emails.json"]  # the one that opened a case


def test_a_stranger_quoting_another_teams_generation_id_learns_nothing_of_that_team(app):
    # the red team: "not covered by free credits" told a stranger that team's tier and the model refused
    event = load_event("ticket-generation-id-model.json")
    event["detail"].update(requester_email="mallory@elsewhere.test",
                           text="We get a 403. Generation id gen_01K8SKETCHB00KM0DE100000000 if that helps.")

    result = app.run(event)

    assert result.team_id == "team_FreeCred1tsMode100000000" and result.requester_verified is False
    assert "gateway.model_restricted" in result.signals  # staff still see what the request log says
    reply = result.customer_reply.lower()
    for learned in ("free credits", "model", "claude", "anthropic", "tier", "paid", "answered your request"):
        assert learned not in reply, learned
    assert "member of the team" in reply

    owner = load_event("ticket-generation-id-model.json")  # the team's own member is told, as before
    assert "not covered by free credits" in app.run(owner).customer_reply
