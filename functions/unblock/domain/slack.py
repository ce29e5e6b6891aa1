"""Staff decide from Slack (DESIGN.md "Modes, undo and staff in Slack"): the Block Kit alert with its
buttons, the interactivity request's signature, the `block_actions` payload, and what the message
is updated to. Pure: the HTTP and the secrets are the adapters'.

Formats (Slack's documentation): a request carries `X-Slack-Request-Timestamp` and
`X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}" with the signing secret>`;
the body is form-encoded with one field, `payload`, a JSON `block_actions` object (`user`,
`actions[{action_id, block_id, value}]`, `response_url`, ...). A button may carry a `confirm`
object (title, text, confirm, deny), which Slack shows before it sends the click. A link button (one
with a `url`, "Open in the console") opens its link in the browser and still posts a `block_actions`
payload (the action carries its `url`); Slack wants a 200 for it too, or it shows a warning.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from unblock.domain.limits import InputRejected, check_json_text
from unblock.domain.models import StaffDecisionName
from unblock.domain.staff_alerts import StaffAlert

MAX_SKEW = 300  # seconds: an older (or replayed) request is refused
MAX_BODY = 64 * 1024
ACTION_PREFIX = "unblock_"
LINK_ACTION = "unblock_open"  # the "Open in the console" link button: its click only opens the link
DECISIONS: dict[str, StaffDecisionName] = {f"{ACTION_PREFIX}{d}": d for d in ("approve", "resolve", "reject")}


class SlackRequestRefused(ValueError):
    """Not a request Slack signed now (no, a wrong or an old signature), or not one unblock reads."""


class SlackRequestMalformed(ValueError):
    """A signed request unblock cannot read: past a size or depth limit (answered 400, nothing parsed)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, body: bytes, sent: str | None, now: float) -> None:
    """Slack's v0 signature over the raw body, the timestamp within five minutes (a replay is refused)."""
    if not secret:
        raise SlackRequestRefused("no signing secret configured")
    if not timestamp or not timestamp.isdigit():
        raise SlackRequestRefused("missing X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW:
        raise SlackRequestRefused("X-Slack-Request-Timestamp is more than 5 minutes off: refused as a replay")
    if not sent or not hmac.compare_digest(signature(secret, timestamp, body).encode(), sent.encode()):
        raise SlackRequestRefused("X-Slack-Signature does not match")


@dataclass(frozen=True)
class SlackAction:
    """One button click, as the verified request says it."""

    user_id: str
    user_name: str
    decision: StaffDecisionName
    case_id: str
    response_url: str
    # the proposal the clicked alert showed (`Case.proposal_id`); None: a button that names none
    proposal: str | None = None

    @property
    def actor(self) -> str:
        return f"slack:{self.user_id}" + (f" ({self.user_name})" if self.user_name else "")


def parse_action(form: dict[str, list[str]]) -> SlackAction | None:
    """The click from a `block_actions` payload (the form-encoded body's one `payload` field, decoded by
    the handler); None for a click on a link button (nothing to decide: Slack opened the link);
    SlackRequestRefused otherwise."""
    try:
        [raw] = form["payload"]
    except (ValueError, KeyError) as err:
        raise SlackRequestRefused("the body has no JSON `payload` field") from err
    try:  # measured before it is parsed: a deep nesting never reaches the parser (RecursionError)
        check_json_text(raw.encode("utf-8", errors="surrogatepass"), "the Slack payload", MAX_BODY)
    except InputRejected as err:
        raise SlackRequestMalformed(str(err)) from err
    try:
        payload: Any = json.loads(raw)
    except (ValueError, KeyError) as err:
        raise SlackRequestRefused("the body has no JSON `payload` field") from err
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise SlackRequestRefused("not a block_actions payload")
    user, actions, url = payload.get("user") or {}, payload.get("actions") or [], payload.get("response_url")
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    decision = DECISIONS.get(str(action.get("action_id", "")))
    if decision is None and action.get("type") == "button" and isinstance(action.get("url"), str):
        return None
    if decision is None or not isinstance(action.get("value"), str) or not isinstance(user, dict) or not user.get("id"):
        raise SlackRequestRefused("not one of unblock's decision buttons")
    if not isinstance(url, str) or not url.startswith(("https://", "http://127.0.0.1:")):  # https, or loopback
        raise SlackRequestRefused("no https response_url")
    case_id, proposal = _button_target(action["value"])
    return SlackAction(user_id=str(user["id"])[:40], user_name=str(user.get("username") or user.get("name") or "")[:80],
                       decision=decision, case_id=case_id, response_url=url, proposal=proposal)


def button_value(case_id: str, proposal: str | None) -> str:
    """What a decision button carries: the case and the proposal it was drawn from (Slack: <= 2000 chars)."""
    return json.dumps({"case_id": case_id[:200], "proposal": proposal}, separators=(",", ":"))


def _button_target(value: str) -> tuple[str, str | None]:
    """The case and proposal a button names; an older button's bare case id names no proposal."""
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError as err:
            raise SlackRequestRefused("not one of unblock's decision buttons") from err
        case_id, proposal = (data.get("case_id"), data.get("proposal")) if isinstance(data, dict) else (None, None)
        if not isinstance(case_id, str) or not (proposal is None or isinstance(proposal, str)):
            raise SlackRequestRefused("not one of unblock's decision buttons")
        return case_id[:200], proposal[:64] if proposal else None
    return value[:200], None


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": text[:3000]}


def _button(label: str, decision: str, alert: StaffAlert, style: str | None = None,
            confirm: dict[str, Any] | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": _text("plain_text", label),
                              "action_id": ACTION_PREFIX + decision,
                              "value": button_value(alert.case_id, alert.proposal)}
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def alert_message(alert: StaffAlert) -> dict[str, Any]:
    """The alert as a Block Kit message: what waits, the Approve / Resolve / Reject buttons, the console link.
    Each button names the case and the proposal it shows (`button_value`): a click decides that proposal
    or nothing ("this case changed: see the latest alert"), so only the one Approve button whose proposal
    lifts a risk hold can lift it, and that one asks for confirmation first."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _text("mrkdwn", alert.text)}]
    buttons = []
    if alert.proposed_fixes:
        confirm = None
        if "lift_risk_hold" in alert.proposed_fixes:
            confirm = {"title": _text("plain_text", "Lift the risk hold?"),
                       "text": _text("mrkdwn", f"Approving lifts the risk hold on team `{alert.team_id}` "
                                               f"(case `{alert.case_id}`). Requests will be served again."),
                       "confirm": _text("plain_text", "Lift it"), "deny": _text("plain_text", "Cancel"),
                       "style": "danger"}
        buttons.append(_button(f"Approve: {', '.join(alert.proposed_fixes)}"[:75], "approve", alert,
                               "primary", confirm))
    buttons += [_button("Resolve (mended by hand)", "resolve", alert),
                _button("Reject", "reject", alert, "danger")]
    if alert.link:
        buttons.append({"type": "button", "text": _text("plain_text", "Open in the console"), "url": alert.link,
                        "action_id": LINK_ACTION})
    if alert.kind == "escalated":  # a re-queue alert is about a case already shown with buttons
        blocks.append({"type": "actions", "block_id": f"unblock:{alert.case_id}"[:255], "elements": buttons})
    return {"text": alert.text, "blocks": blocks}  # text: the notification's and a client's without blocks


def decided_message(action: SlackAction, outcome: str) -> dict[str, Any]:
    """The alert updated in place: who decided, and what followed."""
    line = f"*{action.decision.capitalize()}* by <@{action.user_id}>: {outcome}"
    return {"replace_original": True, "text": f"Case {action.case_id}: {action.decision} by {action.actor}",
            "blocks": [{"type": "section", "text": _text("mrkdwn", f"Case `{action.case_id}`\n{line}")}]}


def refused_message(action: SlackAction, why: str) -> dict[str, Any]:
    """A decision that could not be taken (stale, already decided): said in the thread, the message kept."""
    return {"response_type": "in_channel", "replace_original": False,
            "text": f"Case {action.case_id}: {action.decision} by <@{action.user_id}> was not applied: {why}"}


def not_allowed_message() -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False,
            "text": "You are not allowed to decide unblock cases from Slack. Ask an operator to add you, "
                    "or decide in the staff console."}
