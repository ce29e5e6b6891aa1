"""unblock on the embedded stack: seed the sandbox, submit trigger events, read results."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unblock.domain.cases import Case
from unblock.domain.models import Result
from unblock.domain.platform_model import Seed, load_seed_text
from unblock_dev.clock import FixedClock
from unblock_dev.helpdesk import SandboxHelpDesk
from unblock_dev.local.stack import ROOT, InvocationFailed, LocalStack, acting_as, fresh_adapters
from unblock_dev.local.wiring import Wiring
from unblock_dev.staff import StackClient, poll

DEFAULT_SEED = ROOT / "events" / "platform.json"
HELPDESK_PARAMETERS = {"ZendeskApiEmail": "unblock@sandbox.test", "DiscourseApiUsername": "unblock",
                       "ZendeskApiTokenSecretName": "unblock-local/zendesk-api-token",
                       "DiscourseApiKeySecretName": "unblock-local/discourse-api-key"}


class BadEvent(ValueError):
    """The trigger event cannot be processed; the message names the problem."""


class OpensNoCase(Exception):  # noqa: N818 - what happened, not an error: a ping, an edit, a comment
    """The delivery was taken and opens no case (a Discourse ping, `post_edited`, `topic_created`, a
    Zendesk comment event); `answer` is what the function answered, `status` its HTTP status."""

    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(f"opens no case: the function answered {status} {json.dumps(answer)}")
        self.status, self.answer = status, answer


def event_kind(event: Any) -> str:
    if not isinstance(event, dict):
        raise BadEvent("event must be a JSON object")
    if "detail-type" in event:
        return "ticket"
    if "report" in event:
        return "staff"
    if "headers" in event and "body" in event:
        headers, body, path = event["headers"], event["body"], event.get("path", "")
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise BadEvent('webhook sample: "headers" must be an object of header name -> string value')
        if not isinstance(body, dict | str | bytes):
            raise BadEvent('webhook sample: "body" must be a JSON object (the payload) or a string (the raw body)')
        if not isinstance(path, str):
            raise BadEvent('webhook sample: "path" must be a string (/zendesk or /discourse)')
        return "webhook"
    raise BadEvent("unrecognized event: expected a normalized ticket event (with detail-type), a StartExecution "
                   'input ({"report": ...}, like events/staff-manual.json) or a webhook sample ({"headers", "body"})')


def event_time(event: dict[str, Any]) -> datetime | None:
    """When the report was made: the event's time, or a signed webhook's timestamp."""
    raw = event.get("time")
    if isinstance(event.get("headers"), dict):
        headers = {k.lower(): v for k, v in event["headers"].items()}
        body: dict[str, Any] = event["body"] if isinstance(event.get("body"), dict) else {}
        raw = headers.get("x-zendesk-webhook-signature-timestamp") or body.get("time")
        post = body.get("post")
        if raw is None and isinstance(post, dict):
            raw = post.get("created_at")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


class LocalApp:
    """One embedded stack, seeded once; events run against it one after another."""

    def __init__(self, seed: Seed | None = None, *, now: datetime | None = None,
                 parameters: dict[str, str] | None = None) -> None:
        from unblock import composition

        self.clock = FixedClock(now or datetime.now(UTC))
        # the sandbox help desk answers the user lookups (and takes the replies) unless the
        # caller points the stack at help desks of its own
        self.helpdesk = SandboxHelpDesk.from_file().start()
        parameters = {**HELPDESK_PARAMETERS, "ZendeskApiUrl": self.helpdesk.url,
                      "DiscourseApiUrl": self.helpdesk.url, **(parameters or {})}
        self.stack = LocalStack(parameters=parameters).start()
        self.wiring = Wiring.from_template(self.stack.template)
        self._helpdesk_credentials(parameters)
        fresh_adapters(self.clock)
        self.client = StackClient(self.stack.outputs, self.clock)
        self.platform = composition.platform()
        self.client.platform = self.platform
        self.client.changes = self.stack.activity  # waits look again when a function returns or an execution ends
        if seed is not None:
            self.seed(seed)

    @property
    def console(self) -> StackClient:
        """The old name of `client` (it is not the staff console): kept while this round's branches move over."""
        return self.client

    @classmethod
    def from_seed_file(cls, path: Path | None = None, **kwargs: Any) -> LocalApp:
        return cls(load_seed_text((path or DEFAULT_SEED).read_text()), **kwargs)

    def seed(self, seed: Seed) -> None:
        self.platform.load(seed)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.stack.stop()
        self.helpdesk.stop()

    def _helpdesk_credentials(self, parameters: dict[str, str]) -> None:
        """The help-desk API credentials the template names but does not create (an operator's)."""
        import boto3

        secrets = boto3.client("secretsmanager")
        for name in (parameters["ZendeskApiTokenSecretName"], parameters["DiscourseApiKeySecretName"]):
            secrets.create_secret(Name=name, SecretString="sandbox-helpdesk-token")

    # --- triggers --------------------------------------------------------------------------
    def submit(self, event: dict[str, Any]) -> str:
        """Hand a trigger event to the intake, as EventBridge or StartExecution would; returns the case id."""
        kind = event_kind(event)
        if kind == "ticket" and event.get("source") == "unblock.gateway":  # a denial signal: its own rule
            return self._signal(event)
        logical = self.wiring.webhooks if kind == "webhook" else self.wiring.ticket_events
        payload = event if kind != "webhook" else webhook_request(event)
        try:
            out = self._deliver(payload) if kind == "ticket" else self.stack.invoke(logical, payload)
        except InvocationFailed as err:
            raise BadEvent(f"{err.error_type}: {err.message}") from err
        if kind == "webhook":
            body = json.loads(out.get("body") or "{}")
            if out.get("statusCode", 500) >= 300:
                raise BadEvent(f"webhook refused ({out.get('statusCode')}): {body.get('error', body)}")
            if not isinstance(body, dict) or "case_id" not in body:
                raise OpensNoCase(int(out.get("statusCode", 200)), body if isinstance(body, dict) else {"body": body})
            return str(body["case_id"])
        if out.get("error"):
            raise BadEvent(f"{out['error']} (kept, redacted, on the intake dead-letter queue: `unblock replay` "
                           "re-drives it once the cause is fixed)")
        if "case_id" not in out:
            raise OpensNoCase(200, out)
        return str(out["case_id"])

    def _signal(self, event: dict[str, Any]) -> str:
        out = self.put_event(event)
        if out.get("error"):
            raise BadEvent(f"{out['error']} (kept, redacted, on the intake dead-letter queue: `unblock replay` "
                           "re-drives it once the cause is fixed)")
        if "case_id" not in out:  # below the thresholds, or not a refusal by the team's state
            raise OpensNoCase(200, out)
        return str(out["case_id"])

    def put_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An event on the stack's event bus: the function whose rule matches its source gets it, as
        EventBridge would deliver it; returns what that function answered."""
        logical = self.wiring.denial_signals if event.get("source") == "unblock.gateway" else self.wiring.ticket_events
        out: dict[str, Any] = self.stack.invoke(logical, event)
        return out

    def _deliver(self, event: dict[str, Any]) -> Any:
        """What EventBridge and Lambda do with a ticket event on the intake bus: an asynchronous invoke,
        retried as the function's EventInvokeConfig says; one that still fails goes, as Lambda's
        on-failure record, to the destination queue the template names (`unblock replay`)."""
        import uuid

        failures = self.wiring.ticket_failures
        attempts = 1 + failures.retries
        for _ in range(attempts):
            try:
                return self.stack.invoke(self.wiring.ticket_events, event)
            except InvocationFailed as err:
                failed = err
        if failures.queue is None:
            raise failed
        record = {"version": "1.0", "timestamp": self.clock.now().isoformat(),
                  "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetriesExhausted",
                                     "functionArn": self.stack.resolver.attrs[(self.wiring.ticket_events, "Arn")]
                                     + ":$LATEST", "approximateInvokeCount": attempts},
                  "requestPayload": event,
                  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                  "responsePayload": {"errorType": failed.error_type, "errorMessage": failed.message}}
        self.client.sqs.send_message(QueueUrl=self.stack.resolver.refs[failures.queue], MessageBody=json.dumps(record))
        raise BadEvent(f"{failed.error_type}: {failed.message} (after {failures.retries} retries the event is kept "
                       "on the intake's failed-events queue: `unblock replay` re-drives it)")

    def run(self, event: dict[str, Any], timeout: float = 120.0, *, at: datetime | None = None) -> Result:
        """Run one event; the clock is `at`, else the event's own time, else where it stands."""
        if (at := at or event_time(event)) is not None:
            self.clock.set(at)
        case_id = self.submit(event)
        return self.client.result(self.wait(case_id, timeout))

    def wait(self, case_id: str, timeout: float = 120.0) -> Case:
        return self.client.wait(case_id, timeout)

    def decide(self, case_id: str, decision: str, actor: str = "staff:local", timeout: float = 60.0) -> Result:
        """A staff decision, then wait until the execution ends or waits on staff again."""
        old = self.client.decide(case_id, decision, actor)  # type: ignore[arg-type]
        return self.client.result(self.client.wait(case_id, timeout, after_token=old.task_token))

    def decide_incident(self, incident_id: str, decision: str, actor: str = "staff:local", note: str | None = None,
                        include: tuple[str, ...] = (), timeout: float = 120.0,
                        include_unverified: tuple[str, ...] = ()) -> tuple[Any, list[Result]]:
        """A bulk decision on an incident, then wait until every member it decided (or started) ends or
        waits on staff again; returns the decision (with each member's outcome) and their Results."""
        tokens = {}  # the waits the decision resumes: wait for what comes after them
        for m in self.client.incidents.members(incident_id):
            case = self.client.store.get(m.case_id)
            tokens[m.case_id] = case.task_token if case is not None else None
        record = self.client.decide_incident(incident_id, decision, actor, note, include,  # type: ignore[arg-type]
                                             include_unverified=include_unverified)
        results = []
        for o in record.outcomes:
            if o.result in ("decided", "started", "pending"):
                case = self.client.wait(o.case_id, timeout, after_token=tokens.get(o.case_id))
                results.append(self.client.result(case))
        return record, results

    @contextmanager
    def mode(self, mode: str, actor: str = "staff:local") -> Iterator[None]:
        """The stack switched to `mode` (as an admin would: audited) for the block, then back."""
        was = self.client.mode()
        self.client.switch_mode(mode, actor)
        try:
            yield
        finally:
            self.client.switch_mode(was, actor)

    def recheck(self) -> dict[str, Any]:
        """One pass of the scheduled re-check, invoked as EventBridge Scheduler would."""
        result: dict[str, Any] = self.stack.invoke(self.wiring.schedule, {"source": "aws.scheduler",
                                                                       "time": self.clock.now().isoformat()})
        return result

    def deliver_replies(self, max_rounds: int = 10) -> dict[str, int]:
        """What the SQS event source mapping does: outbox batches to the NotifyFunction, deleting
        what it delivered and leaving its reported failures for a later receive."""
        mapping = self.wiring.outbox
        url = str(self.stack.resolver.refs[mapping.queue])
        arn = self.stack.resolver.attrs[(mapping.queue, "Arn")]
        sqs = self.client.sqs
        counts = {"delivered": 0, "failed": 0}
        for _ in range(max_rounds):
            with acting_as(mapping.function):  # the mapping polls with the function's role
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=mapping.batch_size,
                                               VisibilityTimeout=0, AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}
                       for m in messages]
            out = self.stack.invoke(mapping.function, {"Records": records})
            failed = {f["itemIdentifier"] for f in out.get("batchItemFailures", [])}
            for m in messages:
                if m["MessageId"] in failed:
                    counts["failed"] += 1
                else:
                    with acting_as(mapping.function):
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    counts["delivered"] += 1
            if failed:
                break  # the rest waits for the next poll, as the visibility timeout would make it
        return counts

    def wait_for(self, case_id: str, done: Callable[[Case], bool], timeout: float = 60.0) -> Case:
        """Poll the case until `done(case)` holds (executions run in moto's threads)."""

        def reached() -> Case | None:
            case = self.client.store.get(case_id)
            return case if case is not None and done(case) else None

        return poll(reached, timeout, f"case {case_id} did not reach the expected state", self.stack.activity)


def webhook_request(sample: dict[str, Any]) -> dict[str, Any]:
    """A webhook sample ({"headers", "body"}) as the Lambda Function URL event it arrives as."""
    body = sample["body"]
    if isinstance(body, bytes):  # exact bytes, as signed: Function URLs pass non-text bodies in base64
        import base64

        raw, encoded = base64.b64encode(body).decode("ascii"), True
    else:
        raw = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        encoded = False
    if "path" not in sample:
        names = {k.lower() for k in sample["headers"]}
        sample = sample | {"path": "/zendesk" if any(n.startswith("x-zendesk") for n in names) else "/discourse"}
    headers = {k.lower(): v for k, v in sample["headers"].items()}
    path = sample["path"]
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "local", "domainName": "local.lambda-url.on.aws",
            "domainPrefix": "local", "requestId": "local", "routeKey": "$default", "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 0,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": headers.get("user-agent", "")},
        },
        "body": raw, "isBase64Encoded": encoded,
    }
