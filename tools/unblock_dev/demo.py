"""`unblock demo`: every scenario in events/ on one embedded stack, then a staff decision, then a
wave of reports about one cause becoming an incident that one staff decision ends.

For each auto-fixed scenario it also shows the customer's own calls through the sandbox
gateway with the real OpenAI SDK and, where node is installed, the AI SDK (`ai` with
`@ai-sdk/gateway`): the exception before, the completion after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TextIO

from unblock.domain.models import Result
from unblock.domain.platform_model import Seed
from unblock_dev.local.app import LocalApp, event_time
from unblock_dev.local.stack import ROOT
from unblock_dev.rendering import render

EVENTS = ROOT / "events"


# follow-ups: each continues a case another sample opens (the conversation demo shows one)
FOLLOW_UPS = {"zendesk-comment-added.json", "discourse-reply-same-author.json", "discourse-same-here.json",
              "discourse-private-reply.json", "ticket-customer-replied.json"}
CONVERSATION = ("discourse-post-no-team.json", "discourse-private-reply.json")


def scenarios() -> list[str]:
    names = sorted(p.name for p in EVENTS.glob("*.json") if p.name != "platform.json" and p.name not in FOLLOW_UPS)
    return [n for n in names if n.startswith(("ticket-", "staff-", "zendesk-", "discourse-"))]


def run_conversation_demo(app: LocalApp, seed: Seed, out: TextIO) -> list[tuple[str, Result]]:
    """A forum post with no team id, unblock's private question, the customer's answer with the team
    id in that private message: one case, fixed (DESIGN.md "Conversations")."""
    app.seed(seed)
    rows: list[tuple[str, Result]] = []
    out.write("== Conversation: " + " -> ".join(CONVERSATION) + "\n")
    for name in CONVERSATION:
        result = app.run(json.loads((EVENTS / name).read_text()))
        rows.append((name, result))
        out.write(f"  {name:<32} {result.case_id:<18} {result.outcome or '-':<10} follow-ups: {result.follow_ups}\n")
    case = app.console.store.get(rows[-1][1].case_id)
    if case is not None:
        out.write(f"  the conversation of {case.case_id} (redacted):\n")
        out.write(f"    customer (public):  {case.report.text[:110]}\n")
        for m in case.conversation:
            out.write(f"    {m.author} ({m.channel}):{' ' * (8 - len(m.author) - len(m.channel))} "
                      f"{' '.join(m.text.split())[:110]}\n")
    return rows


def wave() -> list[str]:
    """events/wave-*.json: five teams held by one automated rule write in (DESIGN.md "Incidents")."""
    return sorted(p.name for p in EVENTS.glob("wave-*.json"))


def run_wave(app: LocalApp, seed: Seed, out: TextIO | None = None) -> list[tuple[str, Result]]:
    """The wave's reports, each at its own time, on the same stack; the incident's members stay waiting."""
    app.seed(seed)
    rows: list[tuple[str, Result]] = []
    for name in wave():
        result = app.run(json.loads((EVENTS / name).read_text()))
        rows.append((name, result))
        if out is not None:
            finding = result.findings[2].code if len(result.findings) == 3 else "-"
            out.write(f"  {name:<30} {result.case_id:<16} {result.outcome or '-':<10} {finding:<24} "
                      f"incident: {result.incident_id or '-'}\n")
    return rows


def _alerts(app: LocalApp, queue: str = "demo-staff-alerts") -> Callable[[], list[str]]:
    """The subjects of what is published on the staff alerts topic from now on (a queue subscribed to it)."""
    import boto3

    sqs, sns = app.client.sqs, boto3.client("sns")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=app.stack.outputs["StaffAlertsTopicArn"], Protocol="sqs", Endpoint=arn)

    def read() -> list[str]:
        subjects = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            subjects += [json.loads(m["Body"]).get("Subject", "") for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return subjects

    return read


def run_incident_demo(app: LocalApp, seed: Seed, out: TextIO, view: CustomerView | None) -> list[tuple[str, Result]]:
    """A wave becomes an incident; one bulk approval, including the held teams that did not write in, ends it."""
    read_alerts = _alerts(app)
    out.write("== a wave: five teams held by one automated rule write in (events/wave-*.json)\n")
    rows = run_wave(app, seed, out)
    incident_id = next((r.incident_id for _, r in rows if r.incident_id), None)
    if incident_id is None:
        out.write("no incident opened\n")
        return rows
    shown = app.client.incident(incident_id)
    assert shown is not None
    cause = shown.incident.cause
    out.write(f"incident {incident_id} opened on the third team's case: {cause.label}\n"
              f"  {shown.teams} teams, {len(shown.members)} cases, {len(shown.waiting)} waiting for staff\n")
    for subject in (s for s in read_alerts() if incident_id in s):
        out.write(f"  staff alerted once: {subject}\n")
    held = shown.held_elsewhere or []
    out.write("  held by the same rule, not written in: "
              f"{', '.join(f'{t.slug} ({t.team_id})' for t in held) or 'none'}\n")
    team = rows[0][1].team_id
    before = view.call(team) if view is not None else None

    include = tuple(t.team_id for t in held)
    out.write(f"\n== one decision: staff approve for the whole incident, including {len(include)} teams that did not "
              "write in\n")
    record, finals = app.decide_incident(incident_id, "approve", actor="staff:demo", include=include,
                                         note="The new-account velocity rule misfired this morning.")
    for o in record.outcomes:
        out.write(f"  {o.case_id:<56} {o.result:<16} {o.detail}\n")
    for r in finals:
        out.write(f"  {r.case_id:<56} {r.outcome or '-':<16} fixes: {','.join(r.fixes_applied) or '-'}   "
                  f"verified: {'yes' if r.verified else 'no'}\n")
    if view is not None:
        out.write(view.show(before, view.call(team)))
    out.write("\nincidents on this stack (unblock incidents):\n")
    for v in app.client.list_incidents():
        out.write(f"  {v.incident.incident_id}  {v.teams} teams, {len(v.members)} cases, {len(v.waiting)} waiting  "
                  f"{v.incident.cause.label}\n")
    return [(f"incident {r.case_id}"[:44], r) for r in finals]


def run_adopt_demo(app: LocalApp, seed: Seed, out: TextIO) -> list[tuple[str, Result]]:
    """Adopting it safely (docs/adopt.md): a shadow run, a revert, and a staff approval from a Slack button."""
    import os

    from unblock.domain import slack
    from unblock.domain.staff_alerts import alert_for
    from unblock_dev.local.stack import SAMPLE_SECRET
    from unblock_dev.slack import SlackStandIn

    rows: list[tuple[str, Result]] = []
    event = json.loads((EVENTS / "ticket-stale-billing-hold.json").read_text())
    app.seed(seed)
    app.clock.set(event_time(event) or app.clock.now())

    out.write("== shadow mode (Mode=shadow): the checks and the decision run, nothing changes, nobody is told\n")
    with app.mode("shadow", actor="staff:demo"):
        shadow = app.run({**event, "detail": {**event["detail"], "ticket_id": "9101"}})
    would = shadow.shadow or {}
    out.write(f"  {shadow.case_id}: would have been {would.get('outcome')} with {', '.join(would.get('fixes', []))}"
              f"; customer reply sent: {shadow.customer_reply is not None}; "
              f"hold still on: {app.platform.get_team(str(shadow.team_id)).billing.hold.active}\n"
              "  staff mark it agree / disagree on its page; the metrics page shows the agreement rate\n")
    rows.append(("shadow: stale billing hold", shadow))

    out.write("\n== undo: the fix applied live, then reverted by staff (unblock revert CASE --note ...)\n")
    fixed = app.run({**event, "detail": {**event["detail"], "ticket_id": "9102"}})
    out.write(f"  {fixed.case_id}: {fixed.outcome}, fixes {', '.join(fixed.fixes_applied)}\n")
    case = app.client.revert(fixed.case_id, "staff:demo", "The customer's bank asked us to keep the hold.")
    hold = app.platform.get_team(str(fixed.team_id)).billing.hold
    out.write(f"  reverted by {case.reverts[-1].actor}: the hold is back ({hold.source}, \"{hold.reason}\")\n")
    rows.append(("revert: clear_billing_hold", app.client.result(case)))

    out.write("\n== Slack: the alert's Approve button, clicked by an allowed user (signed as Slack signs it)\n")
    lift = json.loads((EVENTS / "ticket-high-risk-hold.json").read_text())
    app.seed(seed)
    waiting = app.run({**lift, "detail": {**lift["detail"], "ticket_id": "9103"}})
    message = slack.alert_message(alert_for(app.client.store.get(waiting.case_id), "escalated",  # type: ignore[arg-type]
                                            "http://127.0.0.1:8080/"))
    buttons = [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    out.write(f"  alert for {waiting.case_id}: buttons {' | '.join(buttons)} (Approve asks to confirm the lift)\n")
    standin = SlackStandIn().start()
    saved_users = os.environ.get("SLACK_ALLOWED_USERS")
    os.environ["SLACK_ALLOWED_USERS"] = "U0DEMO"
    try:
        request, path = standin.click_request(waiting.case_id, "approve", "U0DEMO", SAMPLE_SECRET, user_name="demo",
                                              proposal=app.client.store.get(waiting.case_id).proposal_id)  # type: ignore[union-attr]
        answered = app.stack.invoke(app.wiring.slack_actions, request)
        final = app.client.result(app.wait_for(waiting.case_id, lambda c: c.status == "closed"))
        [update] = standin.responses(path) or [{"text": "(no update)"}]
        out.write(f"  Slack got {answered['statusCode']} at once; the message now reads: {update['text']}\n"
                  f"  the case: {final.outcome}, fixes {', '.join(final.fixes_applied) or '-'}\n")
        rows.append(("slack approve: risk hold", final))
    finally:
        os.environ["SLACK_ALLOWED_USERS"] = saved_users or ""
        standin.stop()
    return rows


class CustomerView:
    """The customer's own calls through the sandbox gateway, served on the demo's own stack: the
    OpenAI SDK's chat completion (Python `openai`) beside the AI SDK's generateText (`ai` with
    `@ai-sdk/gateway`, in node; skipped, with one line saying so, where node or the clients are missing)."""

    def __init__(self, app: LocalApp, raw_seed: Any) -> None:
        from unblock_dev.gateway import make_gateway_server, node_clients_missing, seed_secrets, start_in_thread

        # the demo calls only /v1 and /v3/ai (the customer's view); the operator routes keep a token of their own
        self.server = make_gateway_server(app.platform, app.clock)  # type: ignore[arg-type]
        start_in_thread(self.server)
        self.secrets = seed_secrets(raw_seed)
        self.ai_sdk_missing = node_clients_missing()

    def intro(self) -> str:
        return f"AI SDK calls skipped: {self.ai_sdk_missing}\n\n" if self.ai_sdk_missing else ""

    def call(self, team_id: str | None) -> tuple[str | None, str | None]:
        """(the OpenAI SDK's line, the AI SDK's line or None) for the team's test key."""
        from unblock_dev.gateway import ai_sdk_call, sdk_call

        secret = next((s for s in self.secrets.get(team_id or "", {}).values() if s), None)
        if secret is None:
            return None, None
        ai_sdk = None if self.ai_sdk_missing else ai_sdk_call(self.server.root_url, secret)
        return sdk_call(self.server.base_url, secret), ai_sdk

    @staticmethod
    def show(before: tuple[str | None, str | None] | None, after: tuple[str | None, str | None]) -> str:
        before = before or (None, None)
        lines = [f"customer's call before: {before[0]}", f"customer's call after:  {after[0]}"]
        if after[1] is not None:
            lines[1:1] = [f"  AI SDK's call before:  {before[1]}"]
            lines.append(f"  AI SDK's call after:   {after[1]}")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_scenarios(app: LocalApp, seed: Seed, out: TextIO | None = None,
                  view: CustomerView | None = None) -> list[tuple[str, Result]]:
    """Every scenario in events/, each from the seed, on one stack; escalated cases stay waiting."""
    rows: list[tuple[str, Result]] = []
    for name in scenarios():
        event = json.loads((EVENTS / name).read_text())
        app.seed(seed)  # every scenario starts from the seed
        result = app.run(event)
        rows.append((name, result))
        if out is None:
            continue
        out.write(f"== {name}\n")
        render(result, out)
        if view is not None and result.outcome == "auto_fixed":
            after = view.call(result.team_id)
            app.seed(seed)
            before = view.call(result.team_id)
            out.write(view.show(before, after))
        out.write("\n")
    return rows


def run_demo(out: TextIO, seed: Seed, raw_seed: Any = None) -> int:
    app = LocalApp(seed)
    view = CustomerView(app, raw_seed) if raw_seed is not None else None
    rows: list[tuple[str, Result]] = []
    try:
        out.write(view.intro() if view is not None else "")
        rows = run_scenarios(app, seed, out, view)
        # the escalation resumed by a staff decision: approve the proposed fix
        # (one a staff-started case escalates too: a finding that needs a person, not an unverified requester)
        escalated = [(n, r) for n, r in rows if r.outcome == "escalated" and r.escalation
                     and r.escalation.get("proposed_fixes") and any(f.disposition == "escalate" for f in r.findings)]
        if escalated:
            name, first = escalated[0]
            app.seed(seed)
            app.clock.set(event_time(json.loads((EVENTS / name).read_text())) or app.clock.now())
            again = app.run({"report": {"case_id": f"{first.case_id}-approval-demo", "source": "staff",
                                        "team_id": first.team_id, "requested_by": "staff:demo"}})
            out.write(f"== {name}, then staff approve: {', '.join(again.escalation['proposed_fixes'])}\n"
                      if again.escalation else "")
            before = view.call(again.team_id) if view else None
            final = app.decide(again.case_id, "approve", actor="staff:demo")
            render(final, out)
            if view is not None:
                out.write(view.show(before, view.call(final.team_id)))
            rows.append((f"{name} + staff approve", final))
        out.write("\n")
        rows += run_conversation_demo(app, seed, out)
        out.write("\n")
        rows += run_incident_demo(app, seed, out, view)
        if view is not None:  # the customers' own calls, through the gateway, are what signals the wave
            from unblock_dev.demo_proactive import run_proactive_demo

            out.write("\n")
            rows += run_proactive_demo(app, seed, out, view, _alerts(app, "demo-proactive-alerts"))
        out.write("\n")
        from unblock_dev.demo_policy import run_policy_demo  # the same rule a week later: closed by policy

        rows += run_policy_demo(app, seed, out)
        out.write("\n")
        rows += run_adopt_demo(app, seed, out)
    finally:
        if view is not None:
            view.close()
        app.close()
    out.write("\nSummary\n")
    out.write(f"{'scenario':<44} {'outcome':<16} {'fixes':<40} {'verified':<8} transitions\n")
    for name, r in rows:
        out.write(f"{name:<44} {r.outcome or '-':<16} {','.join(r.fixes_applied) or '-':<40} "
                  f"{'yes' if r.verified else 'no':<8} {r.trace.state_transitions}\n")
    outcomes = sorted({r.outcome for _, r in rows if r.outcome})
    out.write(f"\noutcomes seen: {', '.join(outcomes)}\n")
    return 0
