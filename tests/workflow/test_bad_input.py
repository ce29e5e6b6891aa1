"""Bad input at every entry gets a clear error that names the problem, and nothing is lost.

The cases are tables; `test_reliability_doc_matches` checks that docs/reliability.md reports
exactly these figures, so the document cannot drift from what is tested.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.support import ROOT, load_event
from unblock.domain.helpdesks.discourse import discourse_signature
from unblock.domain.helpdesks.zendesk import zendesk_signature
from unblock.domain.tickets.webhooks import canonical_body
from unblock_dev import cli
from unblock_dev.commands import decide as decide_cmd
from unblock_dev.commands import replay as replay_cmd
from unblock_dev.local.app import BadEvent, webhook_request
from unblock_dev.local.stack import SAMPLE_SECRET

DOC = ROOT / "docs" / "reliability.md"


# --- the normalized ticket event (EventBridge -> intake) ---------------------------------------
def _ticket(**detail: Any) -> dict[str, Any]:
    event = load_event("ticket-stale-billing-hold.json")
    event["detail"].update(detail)
    return event


def _drop(field: str) -> dict[str, Any]:
    event = load_event("ticket-stale-billing-hold.json")
    del event["detail"][field]
    return event


def _nested(depth: int) -> Any:
    value: Any = "403"
    for _ in range(depth):
        value = [value]
    return value


TICKET_CASES = [
    ("wrong type", _ticket(team_id=42), "detail.team_id"),
    ("wrong type", _ticket(channel=["email"]), "detail.channel"),
    ("wrong type", {**load_event("ticket-expired-card.json"), "time": "yesterday"}, "time"),
    ("missing field", _drop("channel"), "detail.channel: required"),
    ("missing field", _drop("ticket_id"), "detail.ticket_id: required"),
    ("extra field", _ticket(priority="urgent"), "detail.priority: unknown field"),
    ("unknown event type", {**load_event("ticket-expired-card.json"), "detail-type": "Ticket Closed"}, "detail-type"),
    ("unknown event type", {**load_event("ticket-expired-card.json"), "source": "aws.ec2"}, "source"),
    ("oversized event", _ticket(text="403 Forbidden. " * 20_000), "bytes; at most 262144 (256 KiB)"),
    ("too deep", _ticket(text=_nested(100)), "event nests deeper than 32 levels"),
    ("invalid Unicode", _ticket(text="403 \ud800 Forbidden"), "detail.text holds a lone surrogate (U+D800)"),
    ("bad value", _ticket(team_id="team_short"), "detail.team_id"),
    ("bad value", _ticket(key_prefix="sk-not-a-prefix"), "detail.key_prefix"),
]


def _kept(app) -> list[dict]:
    url = app.stack.outputs["IntakeDeadLetterQueueUrl"]
    out = []
    while messages := app.client.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            out.append(json.loads(m["Body"]))
            app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


@pytest.mark.parametrize(("kind", "event", "names"), TICKET_CASES, ids=[f"{k}-{i}" for i, (k, *_ ) in
                                                                         enumerate(TICKET_CASES)])
def test_a_bad_ticket_event_names_the_problem_and_is_kept(app, kind, event, names):
    _kept(app)
    with pytest.raises(BadEvent) as refused:
        app.submit(event)

    assert names in str(refused.value)
    [kept] = _kept(app)
    assert names.split(":")[0] in kept["reason"]
    assert kept["payload"] is not None or kept["payload_truncated"]


def test_an_unknown_team_is_not_an_error_but_a_question(app):
    result = app.run(_ticket(team_id="team_N0SuchTeam00000000000000", text="403", subject="403",
                             requester_email="nobody@nowhere.test"))
    assert result.outcome == "needs_info" and "team ID" in result.customer_reply


# --- webhooks (Function URL -> WebhookFunction) ------------------------------------------------
def _zendesk(body: Any = None, *, raw: bytes | None = None, sign: bool = True, **headers: str) -> dict[str, Any]:
    sample = load_event("zendesk-ticket-created.json", unique=False)
    payload = raw if raw is not None else canonical_body(sample["body"] if body is None else body)
    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    hdrs = dict(sample["headers"])
    if sign:
        hdrs["X-Zendesk-Webhook-Signature"] = zendesk_signature(payload, SAMPLE_SECRET, ts)
    hdrs.update(headers)
    return {"headers": hdrs, "body": payload, "path": "/zendesk"}


def _discourse(body: Any = None, *, raw: bytes | None = None, event: str = "post_created") -> dict[str, Any]:
    sample = load_event("discourse-post-created.json", unique=False)
    payload = raw if raw is not None else canonical_body(sample["body"] if body is None else body)
    hdrs = dict(sample["headers"]) | {"X-Discourse-Event": event,
                                      "X-Discourse-Event-Signature": discourse_signature(payload, SAMPLE_SECRET)}
    return {"headers": hdrs, "body": payload, "path": "/discourse"}


def _zendesk_without(field: str) -> dict[str, Any]:
    body = load_event("zendesk-ticket-created.json", unique=False)["body"]
    del body["detail"][field]
    return _zendesk(body)


WEBHOOK_CASES = [
    ("malformed JSON", "zendesk", _zendesk(raw=b'{"type": "zen:event-type:ticket.created", '), 400, "not valid JSON"),
    ("malformed JSON", "discourse", _discourse(raw=b"{post: 1}"), 400, "not valid JSON"),
    ("wrong type", "zendesk", _zendesk(raw=b"[1, 2, 3]"), 400, "not a JSON object"),
    ("wrong type", "discourse", _discourse({"post": "a string"}), 400, "post"),
    ("missing field", "zendesk", _zendesk_without("id"), 400, "detail.id"),
    ("missing field", "discourse", _discourse({"nothing": True}), 400, "post"),
    ("unknown event type", "zendesk", _zendesk({"type": "zen:event-type:ticket.deleted", "detail": {}}), 200,
     "opens no case"),
    ("unknown event type", "discourse", _discourse({"user": {"id": 7, "username": "lena_v"}}, event="user_created"),
     200, "opens no case"),
    ("header lies", "discourse", _discourse({"topic": {"id": 8812, "title": "403"}}, event="post_created"), 200,
     "a Discourse 'topic' delivery, not a post: opens no case"),
    ("oversized body", "zendesk", _zendesk(raw=b" " * (1024 * 1024 + 1)), 413, "body larger than"),
    ("invalid UTF-8", "zendesk", _zendesk(raw=b'{"type": "\xff\xfe"}'), 400, "not valid JSON"),
    ("too deep", "discourse", _discourse(raw=b'{"post":' + b"[" * 5000 + b"]" * 5000 + b"}"), 400,
     "body nests deeper than 32 levels"),
    ("invalid Unicode", "discourse", _discourse(raw=b'{"post": {"id": 1, "raw": "403 \\ud800"}}'), 400,
     "post.raw holds a lone surrogate (U+D800)"),
    ("invalid Unicode", "zendesk", _zendesk(raw=b'{"type": "zen:event-type:ticket.created", "\\udfff": 1}'), 400,
     "a top-level key holds a lone surrogate (U+DFFF)"),
    ("unsigned", "zendesk", _zendesk(sign=False, **{"X-Zendesk-Webhook-Signature": "bm9wZQ=="}), 401,
     "signature does not match"),
    ("unsigned", "discourse", {**_discourse(), "headers": {"X-Discourse-Event": "post_created"}}, 401,
     "missing X-Discourse-Event-Signature"),
    ("unknown route", "zendesk", {**_zendesk(), "path": "/jira"}, 404, ""),
]


@pytest.mark.parametrize(("kind", "source", "sample", "status", "names"), WEBHOOK_CASES,
                         ids=[f"{s}-{k}-{i}" for i, (k, s, *_ ) in enumerate(WEBHOOK_CASES)])
def test_a_bad_webhook_gets_a_json_error_with_the_right_status(app, kind, source, sample, status, names):
    _kept(app)
    response = app.stack.invoke("WebhookFunction", webhook_request(sample))

    assert response["statusCode"] == status
    body = json.loads(response["body"])
    assert names in json.dumps(body)
    kept = _kept(app)
    if status == 400:  # signed, but not what it should be: kept, redacted, for replay
        assert [k["kind"] for k in kept] == [source]
        assert names in kept[0]["reason"]
    else:
        assert kept == []  # unauthenticated, oversized or ignored: nothing of theirs is stored


def test_a_body_marked_base64_that_is_not_is_refused_by_name_and_not_kept(app):
    """Undecodable, so its signature cannot be checked: refused like any unverified delivery."""
    _kept(app)
    request = webhook_request(_zendesk(sign=False)) | {"body": "eyJ0eXBlIjogInplbjp", "isBase64Encoded": True}

    response = app.stack.invoke("WebhookFunction", request)

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "body is marked base64-encoded but is not valid base64"}
    assert _kept(app) == []


def test_an_event_refused_for_a_lone_surrogate_or_its_depth_is_kept_redacted(app):
    """Kept as it came, less its secrets: the surrogate escaped (SQS carries ASCII JSON), what
    nests past the limit replaced by a mark."""
    _kept(app)
    key = "vck_3f9aZZsupersecretvaluethatmustnotleak"
    with pytest.raises(BadEvent, match="lone surrogate"):
        app.submit(_ticket(text=f"my key: {key} \ud800"))
    with pytest.raises(BadEvent, match="deeper than 32 levels"):
        app.submit(_ticket(text=f"my key: {key}", subject=_nested(100)))
    body = {"post": {"id": 1, "topic_id": 2, "raw": f"my key: {key} \udc00"}}
    response = app.stack.invoke("WebhookFunction", webhook_request(_discourse(raw=json.dumps(body).encode())))
    assert response["statusCode"] == 400

    surrogate, deep, delivery = _kept(app)
    assert key not in json.dumps([surrogate, deep, delivery])
    assert surrogate["payload"]["detail"]["text"] == "my key: vck_3f9aZZsu…[REDACTED] \ud800"
    subject = json.dumps(deep["payload"]["detail"]["subject"], ensure_ascii=False)
    assert subject.startswith("[[[") and "[… nested deeper than 32 levels: not kept]" in subject
    assert delivery["payload"]["body"]["post"]["raw"] == "my key: vck_3f9aZZsu…[REDACTED] \udc00"
    assert "post.raw holds a lone surrogate (U+DC00)" in delivery["reason"]


@pytest.mark.parametrize("said", ["post_edited", "ping", "user_created"])
def test_a_new_opening_post_opens_its_case_whatever_the_unsigned_header_says(app, said):
    body = load_event("discourse-post-created.json", unique=False)["body"]
    body["post"]["topic_id"] = int(str(uuid.uuid4().int)[:9])

    result = app.run(_discourse(body, event=said))

    assert result.case_id == f"discourse:{body['post']['topic_id']}"
    assert result.outcome is not None


def test_replaying_a_kept_webhook_that_is_not_json_names_why_and_it_stays_kept_once(app, capsys):
    import io

    _kept(app)
    url = app.stack.outputs["IntakeDeadLetterQueueUrl"]
    for sample in (_zendesk(raw=b'{"type": "zen:event-type:ticket.created", '), _discourse(raw=b"[1, 2]")):
        assert app.stack.invoke("WebhookFunction", webhook_request(sample))["statusCode"] == 400

    out = io.StringIO()
    code = replay_cmd.cmd_replay(cli.build_parser().parse_args(["replay"]), out, client=app.client)

    assert code == 1
    assert out.getvalue().splitlines() == ["still kept  zendesk    body is not valid JSON",
                                           "still kept  discourse  body is not a JSON object",
                                           "0 replayed, 2 still kept"]
    counts = app.client.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    assert sum(int(n) for n in counts["Attributes"].values()) == 2  # each kept once, not once more per replay
    app.client.sqs.purge_queue(QueueUrl=url)  # they would come back in 30 s, into another test


# --- staff: decisions and starts ---------------------------------------------------------------
def test_decide_on_an_unknown_case_is_a_clear_error(app):
    import io

    from unblock_dev.staff import StaffError

    args = cli.build_parser().parse_args(["decide", "zendesk:0", "--resolve"])
    with pytest.raises(StaffError, match="no case 'zendesk:0'"):
        decide_cmd.cmd_decide(args, io.StringIO(), client=app.client)


def test_decide_on_a_closed_case_and_a_reused_token_are_refused(app):
    from unblock_dev.staff import StaffError

    done = app.run(load_event("ticket-stale-billing-hold.json"))
    with pytest.raises(StaffError, match="not waiting for staff \\(status: closed\\)"):
        app.client.decide(done.case_id, "approve", "staff:eve")

    waiting = app.run(load_event("ticket-fraud-review.json"))
    token = app.client.store.get(waiting.case_id).task_token
    app.decide(waiting.case_id, "resolve")
    spent = (app.client.sfn.exceptions.TaskTimedOut, app.client.sfn.exceptions.InvalidToken)
    with pytest.raises(spent):  # the token is spent
        app.client.sfn.send_task_success(taskToken=token, output="{}")


def test_a_staff_start_with_a_bad_report_is_kept(app):
    _kept(app)
    with pytest.raises(BadEvent, match="case_id"):
        app.submit({"report": {"source": "staff", "team_id": "team_Q3xr89YFWHvqTRO0X0bmHkoU"}})
    assert [k["kind"] for k in _kept(app)] == ["report"]


STAFF_LIMIT_CASES = [
    ("oversized", {"note": "called twice. " * 20_000}, "event is"),
    ("too deep", {"facts": {"endpoints": _nested(40)}}, "event nests deeper than 32 levels"),
]


@pytest.mark.parametrize(("kind", "change", "names"), STAFF_LIMIT_CASES, ids=[k for k, *_ in STAFF_LIMIT_CASES])
def test_a_staff_start_past_a_limit_is_named_and_kept(app, kind, change, names):
    _kept(app)
    event = load_event("staff-manual.json")
    event["report"].update(change)
    with pytest.raises(BadEvent, match=names):
        app.submit(event)
    [kept] = _kept(app)
    assert kept["kind"] == "report" and names in kept["reason"]


# --- the CLI: exit status 2 and one line, no traceback -------------------------------------------
CLI_CASES = [
    ("missing file", ["run", "events/no-such-event.json"], "cannot read event"),
    ("malformed JSON", ["run", "{tmp}/broken.json"], "is not valid JSON"),
    ("invalid UTF-8", ["run", "{tmp}/latin1.json"], "is not valid UTF-8"),
    ("unknown event type", ["run", "{tmp}/other.json"], "unrecognized event"),
    ("too deep", ["run", "{tmp}/deep.json"], "deep.json nests deeper than 32 levels"),
    ("too deep", ["run", "events/ticket-no-team.json", "--platform", "{tmp}/deep-seed.json"],
     "deep-seed.json nests deeper than 32 levels"),
    ("oversized file", ["run", "{tmp}/big.json"], "big.json is larger than 2097152 bytes"),
    ("invalid Unicode", ["run", "{tmp}/surrogate.json"], "detail.text holds a lone surrogate (U+D800)"),
    ("wrong type", ["run", "{tmp}/list-headers.json"], '"headers" must be an object'),
    ("bad seed", ["run", "events/ticket-no-team.json", "--platform", "{tmp}/seed.json"], "teams.0.plan"),
    ("bad seed", ["run", "events/ticket-no-team.json", "--platform", "{tmp}/dupes.json"], "duplicate team_id"),
    ("bad argument", ["run", "events/ticket-no-team.json", "--now", "tomorrow"], "--now 'tomorrow'"),
    ("bad argument", ["start", "--team", "acme", "--key", "sk-123"], "is not a key prefix"),
    ("bad argument", ["decide", "zendesk:1", "--approve"], "--stack NAME is required"),
    ("bad argument", ["frobnicate"], "invalid choice"),
    ("bad argument", ["decide", "zendesk:1"], "one of the arguments"),
]


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "broken.json").write_text('{"detail-type": "Access Denied Reported",')
    (tmp_path / "latin1.json").write_bytes('{"text": "Grüße"}'.encode("latin-1"))
    (tmp_path / "other.json").write_text('{"kind": "something else"}')
    (tmp_path / "deep.json").write_text('{"detail-type": ' + "[" * 5000 + "]" * 5000 + "}")
    seed = (ROOT / "events" / "platform.json").read_text().rstrip()
    (tmp_path / "deep-seed.json").write_text(seed[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}")
    (tmp_path / "big.json").write_text(json.dumps({"detail-type": "x", "text": "403 " * 600_000}))
    (tmp_path / "surrogate.json").write_text(json.dumps(_ticket(text="403 \ud800")))
    sample = load_event("zendesk-ticket-created.json", unique=False)
    (tmp_path / "list-headers.json").write_text(json.dumps(sample | {"headers": list(sample["headers"].items())}))
    seed = json.loads((ROOT / "events" / "platform.json").read_text())
    seed["teams"][0]["plan"] = "platinum"
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    seed = json.loads((ROOT / "events" / "platform.json").read_text())
    seed["teams"].append(dict(seed["teams"][0], slug="copy-of-acme"))
    (tmp_path / "dupes.json").write_text(json.dumps(seed))
    return tmp_path


@pytest.mark.parametrize(("kind", "argv", "names"), CLI_CASES, ids=[f"{k}-{i}" for i, (k, *_ ) in
                                                                    enumerate(CLI_CASES)])
def test_cli_bad_input_exits_2_with_one_line(bad_files, capsys, monkeypatch, kind, argv, names):
    monkeypatch.chdir(ROOT)
    code = cli.main([a.replace("{tmp}", str(bad_files)) for a in argv])

    err = capsys.readouterr().err.strip()
    assert code == 2
    assert names in err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("unblock:")]) == 1 or "usage:" in err


# --- the figures -------------------------------------------------------------------------------
def figures() -> str:
    rows = Counter()
    for kind, *_ in TICKET_CASES:
        rows[("normalized ticket event", kind)] += 1
    for kind, source, *_ in WEBHOOK_CASES:
        rows[(f"{source} webhook", kind)] += 1
    for kind, *_ in CLI_CASES:
        rows[("command line", kind)] += 1
    rows[("zendesk webhook", "invalid base64")] += 1
    rows[("staff decide", "unknown case")] += 1
    rows[("staff decide", "closed case")] += 1
    rows[("staff decide", "reused task token")] += 1
    rows[("staff start", "missing field")] += 1
    for kind, *_ in STAFF_LIMIT_CASES:
        rows[("staff start", kind)] += 1
    rows[("normalized ticket event", "unknown team")] += 1
    lines = ["| entry | kind of bad input | cases |", "|---|---|---|"]
    lines += [f"| {entry} | {kind} | {n} |" for (entry, kind), n in sorted(rows.items())]
    lines.append(f"| **all** | | **{sum(rows.values())}** |")
    return "\n".join(lines)


def test_reliability_doc_matches_the_tested_figures():
    text = DOC.read_text()
    table = re.search(r"<!-- bad-input:begin -->\n(.*?)\n<!-- bad-input:end -->", text, re.S)
    assert table, "docs/reliability.md lost its bad-input table markers"
    assert table.group(1).strip() == figures(), "docs/reliability.md is stale; expected:\n" + figures()
