"""IAM least privilege, checked on the CloudFormation that SAM generates from template.yaml."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from tests.support import ROOT
from unblock_dev.local.template import load_template

SCOPED_SERVICES = ("dynamodb:", "sqs:", "secretsmanager:", "states:", "ssm:")


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator builds ARNs for a region
    template = copy.deepcopy(load_template(ROOT / "template.yaml"))
    # what `sam package` does first: local paths become S3 locations
    template["Globals"]["Function"]["CodeUri"] = "s3://unblock-artifacts/code.zip"
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::StateMachine":
            res["Properties"]["DefinitionUri"] = "s3://unblock-artifacts/remediation.asl.json"
    params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    return transform(template, params, _NoManagedPolicies())  # type: ignore[arg-type]


def _branches(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy, or both branches of a conditional one (each deployment gets one of them)."""
    if "Fn::If" in policy:
        _, yes, no = policy["Fn::If"]
        return [p for branch in (yes, no) for p in _branches(branch) if "PolicyDocument" in p]
    return [policy]


def _statements(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every statement of every role and policy, the AWS managed policies attached included."""
    out: list[tuple[str, dict[str, Any]]] = []
    for lid, res in doc["Resources"].items():
        if res["Type"] == "AWS::IAM::Role":
            for policy in (p for entry in res["Properties"].get("Policies", []) for p in _branches(entry)):
                statements = policy["PolicyDocument"]["Statement"]
                out += [(lid, s) for s in (statements if isinstance(statements, list) else [statements])]
            for arn in res["Properties"].get("ManagedPolicyArns", []):
                out += [(lid, s) for s in _managed(_managed_name(arn))]
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements = res["Properties"]["PolicyDocument"]["Statement"]
            out += [(lid, s) for s in (statements if isinstance(statements, list) else [statements])]
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


MANAGED: dict[str, Any] = json.loads((ROOT / "tests" / "data" / "aws_managed_policies.json").read_text())["policies"]


def _managed_name(arn: Any) -> str:
    """`arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole` -> its name."""
    text = arn.get("Fn::Sub", arn) if isinstance(arn, dict) else arn
    assert isinstance(text, str) and ":iam::aws:policy/" in text, f"not an AWS managed policy: {arn}"
    return text.rsplit("/", 1)[-1]


def _managed(name: str) -> list[dict[str, Any]]:
    """An AWS managed policy's statements, from the pinned copy (tests/data/aws_managed_policies.json)."""
    assert name in MANAGED, f"{name} is not in tests/data/aws_managed_policies.json: pin its document there"
    return _as_list(MANAGED[name]["document"]["Statement"])


def test_the_transform_yields_roles_for_every_function_and_the_state_machine(transformed):
    roles = [lid for lid, r in transformed["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    functions = [lid for lid, r in transformed["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    serverless = [lid for lid, r in load_template(ROOT / "template.yaml")["Resources"].items()
                  if r["Type"] == "AWS::Serverless::Function"]
    assert sorted(functions) == sorted(serverless) and len(roles) >= len(functions) + 1
    assert len(_statements(transformed)) > 20


def test_no_statement_allows_every_action(transformed):
    offenders = [(lid, a) for lid, s in _statements(transformed) if s.get("Effect") == "Allow"
                 for a in _as_list(s.get("Action", [])) if a == "*" or a.endswith(":*")]
    assert offenders == []


def test_data_queue_secret_and_workflow_actions_name_their_resources(transformed):
    offenders = []
    for lid, s in _statements(transformed):
        actions = [a for a in _as_list(s.get("Action", [])) if a.lower().startswith(SCOPED_SERVICES)]
        resources = _as_list(s.get("Resource", []))
        if s.get("Effect") == "Allow" and actions and any(r == "*" for r in resources):
            offenders.append((lid, actions))
    assert offenders == [], json.dumps(offenders)


def test_tables_and_queues_are_encrypted_at_rest():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    for lid, res in resources.items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::DynamoDB::Table":
            assert props["SSESpecification"]["SSEEnabled"] is True, lid
        if res["Type"] == "AWS::SQS::Queue":
            assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), lid


# --- every AWS call a function makes, against its role ------------------------------------------
#
# Representative scenarios run on the session's embedded stack while every AWS API call is recorded
# with the function that made it (unblock_dev.local.calls); each call must be allowed by that
# function's execution role in the transformed template, its intrinsics resolved as the embedded
# stack deployed them (table, queue, state machine and secret names and ARNs), policy templates as
# SAM expands them, AWS managed policies from the pinned copy. Functions come from the template.


def _scenarios(app: Any) -> None:
    """Every trigger, every outcome, staff decisions, re-check passes and reply delivery."""
    from datetime import timedelta

    from aws_lambda_powertools.utilities.parameters import base as parameters

    from tests.support import load_event
    from unblock.domain.helpdesks.discourse import discourse_signature
    from unblock.domain.helpdesks.zendesk import zendesk_signature
    from unblock.domain.platform_model import PaymentMethod
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.app import BadEvent
    from unblock_dev.local.stack import SAMPLE_SECRET

    def ticket(name: str) -> Any:
        return app.run(load_event(name))

    fixed = ticket("ticket-stale-billing-hold.json")  # auto_fixed
    _console_revert(app, fixed.case_id)  # staff undo it in the console
    app.decide(ticket("ticket-high-risk-hold.json").case_id, "approve")
    _console(app, ticket("ticket-fraud-review.json").case_id)  # staff work a case in the console
    app.decide(ticket("ticket-fraud-review.json").case_id, "reject")
    _slack_click(app, ticket("ticket-fraud-review.json").case_id)  # staff decide from Slack
    waiting = ticket("ticket-staff-billing-hold.json")  # stays with staff: the re-check heartbeats, re-queues
    mended = ticket("ticket-fraud-review.json")  # staff clear it by hand: the re-check completes the task
    card = ticket("ticket-free-tier-no-card.json")  # customer_action: the customer adds a card
    app.run(load_event("staff-manual.json"))
    ticket("ticket-no-team.json")

    zendesk = load_event("zendesk-ticket-created.json", unique=False)
    number = str(mended.case_id.rsplit(":", 1)[-1])[:6] + "7"
    zendesk["body"]["detail"]["id"] = number
    ts = zendesk["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    zendesk["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(zendesk["body"]),
                                                                          SAMPLE_SECRET, ts)
    app.run(zendesk)
    forum = load_event("discourse-post-created.json", unique=False)
    forum["body"]["post"]["topic_id"] = int(number)
    forum["headers"]["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(forum["body"]),
                                                                         SAMPLE_SECRET)
    app.run(forum)

    # kept on the intake DLQ while the intake is misconfigured, replayed once it is mended
    import unblock.workflow.intake as intake

    url = app.stack.outputs["IntakeDeadLetterQueueUrl"]
    while kept := app.client.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in kept:  # a replay pass takes every kept event: only this one
            app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    def misconfigured(*args: Any) -> Any:
        raise intake.UnprocessableEvent("intake briefly misconfigured")

    to_report, intake.to_report = intake.to_report, misconfigured
    try:
        app.submit(load_event("ticket-expired-card.json"))
    except BadEvent:
        pass
    finally:
        intake.to_report = to_report
    [replayed] = app.client.replay()
    app.wait(replayed.detail)

    # denial signals: one opens a proactive case (a key repair), a later one joins it, a bad one is kept
    from tests.workflow.test_proactive import signal

    window = app.clock.now() - timedelta(minutes=5)
    opened = app.put_event(signal("team_StaffB1ll1ngHo1d00000000", window))  # a staff hold: waits for staff
    app.wait(opened["case_id"])
    app.put_event(signal("team_StaffB1ll1ngHo1d00000000", window + timedelta(minutes=5)))
    app.put_event(signal("team_StaffB1ll1ngHo1d00000000", window, denied=50, total=10))
    app.decide(opened["case_id"], "reject")
    while kept := app.console.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in kept:
            app.console.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    # an execution that died: the diagnosis and the escalation that should catch it fail at once
    app.stack.faults["DiagnoseFunction.check_restrictions"] = [RuntimeError("down")]
    app.stack.faults["OutcomeFunction.escalate"] = [RuntimeError("queue unreachable")]
    died = ticket("ticket-entitlement-off.json")

    team = app.platform.get_team(card.team_id)
    billing = team.billing.model_copy(update={"payment_method": PaymentMethod(status="valid", verified=True)})
    app.platform.replace_team(team.model_copy(update={"billing": billing}))
    fraud = app.platform.get_team(mended.team_id)
    app.platform.replace_team(fraud.model_copy(update={"restrictions": ()}))
    app.clock.advance(timedelta(hours=5))  # past the staff SLA
    actions = app.recheck()["actions"]
    assert actions[card.case_id] == "closed_access_back" and actions[mended.case_id] == "staff_task_completed"
    assert actions[died.case_id] == "rerun" and actions[waiting.case_id] == "requeued"
    app.wait_for(died.case_id, lambda c: c.status == "closed")
    app.clock.advance(timedelta(days=15))  # a case nobody mends closes as stale
    app.recheck()
    # one process, one Powertools cache: the webhook read the help-desk credentials first; a Notify
    # container reads them itself
    parameters.DEFAULT_PROVIDERS.clear()
    while app.deliver_replies(max_rounds=50)["delivered"]:
        pass


def _console(app: Any, case_id: str) -> None:
    """The ConsoleFunction as API Gateway invokes it: the queue, a case and a decision."""
    import json
    from urllib.parse import quote

    from unblock_dev.console_server import http_api_event

    claims = {"sub": "staff-1", "email": "alice@example.test"}
    for path in ("/pages/queue", f"/pages/cases/{quote(case_id, safe='')}", "/pages/metrics"):
        page = app.stack.invoke("ConsoleFunction", http_api_event("GET", path, "", {}, b"", claims))
        assert page["statusCode"] == 200, (path, page.get("body", "")[:300])
    body = json.dumps({"decision": "resolve", "note": "cleared by hand"}).encode()
    done = app.stack.invoke("ConsoleFunction", http_api_event(
        "POST", f"/api/cases/{quote(case_id, safe='')}/decision", "", {"content-type": "application/json"}, body,
        claims))
    assert done["statusCode"] == 200, done.get("body")
    app.wait_for(case_id, lambda c: c.status == "closed")


def _slack_click(app: Any, case_id: str) -> None:
    """The SlackActionsFunction as its Function URL invokes it: a signed Resolve click, decided asynchronously."""
    import os

    from unblock_dev.local.stack import SAMPLE_SECRET
    from unblock_dev.slack import SlackStandIn

    standin = SlackStandIn().start()
    saved = os.environ.get("SLACK_ALLOWED_USERS")
    os.environ["SLACK_ALLOWED_USERS"] = "U0ALICE"
    try:
        event, path = standin.click_request(case_id, "resolve", "U0ALICE", SAMPLE_SECRET,
                                            proposal=app.client.store.get(case_id).proposal_id)
        assert app.stack.invoke("SlackActionsFunction", event)["statusCode"] == 200
        assert standin.responses(path), "the decision was not reported back to Slack"
    finally:
        os.environ["SLACK_ALLOWED_USERS"] = saved or ""
        standin.stop()
    app.wait_for(case_id, lambda c: c.status == "closed")


def _console_revert(app: Any, case_id: str) -> None:
    """The ConsoleFunction reverting a fix: the platform write, the staff alert, the help desk's note."""
    import json
    from urllib.parse import quote

    from unblock_dev.console_server import http_api_event

    body = json.dumps({"note": "the bank asked to keep the hold"}).encode()
    done = app.stack.invoke("ConsoleFunction", http_api_event(
        "POST", f"/api/cases/{quote(case_id, safe='')}/revert", "", {"content-type": "application/json"}, body,
        {"sub": "staff-1", "email": "alice@example.test"}))
    assert done["statusCode"] == 200, done.get("body")


@pytest.fixture(scope="module")
def recorded(stack_app) -> Any:
    """The calls of the scenarios, on the session's stack reseeded as the `app` fixture does."""
    from datetime import UTC, datetime

    from tests.support import EVENTS, out_of_reach
    from unblock.domain.platform_model import load_seed_text
    from unblock_dev.local.calls import recording_calls

    app = stack_app
    app.seed(load_seed_text((EVENTS / "platform.json").read_text()))
    app.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    app.stack.faults.clear()
    out_of_reach(app)  # the scenarios' re-check meets their own cases only
    invoked_before = len(app.stack.invocations)
    with recording_calls(app.client.sqs) as recorder:
        _scenarios(app)
    invoked = {i.function for i in app.stack.invocations[invoked_before:]}
    return app, recorder.calls, invoked


def _arn(service: str, resource: str) -> str:
    from unblock_dev.local.stack import ACCOUNT, REGION

    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _required(call: Any, machines: list[str]) -> list[tuple[str, list[str]]]:
    """What IAM authorizes for a call: (action, the resource ARNs of which one must be allowed)."""
    p = call.params
    if call.service == "dynamodb":
        if "TransactItems" in p:
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            return [(f"dynamodb:{kinds[kind]}", [_arn("dynamodb", f"table/{table}")])
                    for kind, table in p["TransactItems"]]
        tables = p.get("RequestItems") or [p["TableName"]]
        suffix = f"/index/{p['IndexName']}" if "IndexName" in p else ""
        return [(call.action, [_arn("dynamodb", f"table/{t}{suffix}")]) for t in tables]
    if call.service == "sqs":
        name = p["QueueUrl"].rstrip("/").rsplit("/", 1)[-1] if "QueueUrl" in p else p["QueueName"]
        # SQS authorizes SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch by the
        # single-message action (there is no IAM action of the batch's name)
        return [(call.action.removesuffix("Batch"), [_arn("sqs", name)])]
    if call.service == "states":
        arn = p.get("executionArn") or p.get("stateMachineArn")
        return [(call.action, [arn] if arn else machines)]  # a task token: its state machine's
    if call.service == "secretsmanager":
        sid = p["SecretId"]
        return [(call.action, [sid if sid.startswith("arn:") else _arn("secretsmanager", f"secret:{sid}-AbCdEf")])]
    if call.service == "ssm":  # the run-time mode: a parameter by name
        return [(call.action, [_arn("ssm", f"parameter/{p['Name'].lstrip('/')}")])]
    if call.service == "lambda":
        name = p["FunctionName"]
        action = "lambda:InvokeFunction" if call.operation == "Invoke" else call.action  # IAM's name for Invoke
        return [(action, [name if name.startswith("arn:") else _arn("lambda", f"function:{name}")])]
    arns = [v for v in p.values() if isinstance(v, str) and v.startswith("arn:")]  # TopicArn, ...
    return [(call.action, [arn]) for arn in arns] or [(call.action, ["*"])]  # "*": no resource-level permission


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _allows(statements: list[dict[str, Any]], action: str, resources: list[str]) -> bool:
    def matches(s: dict[str, Any]) -> bool:
        return (any(_wildcard(a, action, ignore_case=True) for a in _as_list(s.get("Action", [])))
                and any(_wildcard(r, res) for r in _as_list(s.get("Resource", [])) for res in resources))

    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and "Condition" not in s and matches(s) for s in statements)


def _roles(doc: dict[str, Any], resolver: Any) -> dict[str, list[dict[str, Any]]]:
    """Each function (template logical id) -> its role's statements, as the embedded stack deployed them."""
    resources = doc["Resources"]
    out: dict[str, list[dict[str, Any]]] = {}
    for lid, res in resources.items():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        role_id = res["Properties"]["Role"]["Fn::GetAtt"][0]
        role = resources[role_id]["Properties"]
        statements: list[dict[str, Any]] = []
        for policy in (resolver.resolve(p) for p in role.get("Policies", [])):
            if policy:
                statements += _as_list(policy["PolicyDocument"]["Statement"])
        for arn in role.get("ManagedPolicyArns", []):
            statements += _managed(_managed_name(arn))
        for other in resources.values():
            if other["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in other["Properties"].get("Roles", []):
                statements += _as_list(resolver.resolve(other["Properties"]["PolicyDocument"])["Statement"])
        out[lid] = statements
    return out


def test_every_aws_call_a_function_makes_is_allowed_by_its_role(transformed, recorded):
    app, calls, _ = recorded
    roles = _roles(transformed, app.stack.resolver)
    machines = [app.stack.resolver.refs[lid] for lid, _ in app.stack._resources("AWS::Serverless::StateMachine")]

    denied = sorted({(c.function, action, resources[0]) for c in calls
                     for action, resources in _required(c, machines)
                     if not _allows(roles[c.function], action, resources)})
    assert denied == [], "calls their role does not allow:\n" + "\n".join(map(str, denied))
    assert len(calls) > 100
    assert {c.function for c in calls if c.service == "ssm"} >= {"DiagnoseFunction"}  # the run-time mode's reads


def test_the_recorded_calls_cover_every_function_in_the_template(transformed, recorded):
    """Every function the template defines ran in the scenarios and made AWS calls there: a function
    added to the template needs a scenario above, or its calls go unchecked."""
    _, calls, invoked = recorded
    functions = {lid for lid, r in transformed["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert functions - invoked == set(), "functions no scenario invokes"
    assert functions - {c.function for c in calls} == set(), "functions that made no AWS call"


def _references(node: Any, ids: set[str]) -> set[str]:
    """The logical ids a resource's properties name (Ref, Fn::GetAtt, ${X} and ${X.Attr} in Fn::Sub)."""
    import re

    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text))}
                if isinstance(value, list):
                    found |= _references(value[1], ids)
            else:
                found |= _references(value, ids)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, ids)
    return found & ids


def test_the_deployed_template_has_no_circular_dependency(transformed):
    """CloudFormation refuses a stack whose resources depend on each other in a circle; cfn-lint does
    not see one that goes through SAM's generated resources (an HTTP API's routes and permissions)."""
    resources = transformed["Resources"]
    ids = set(resources)
    graph = {lid: _references(res.get("Properties", {}), ids)
             | set(_as_list(res.get("DependsOn", []))) for lid, res in resources.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(lid: str, path: list[str]) -> list[str] | None:
        state[lid] = 1
        for dep in sorted(graph[lid]):
            if state.get(dep) == 1:
                return [*path[path.index(dep):], dep] if dep in path else [*path, dep]
            if dep not in state and (cycle := visit(dep, [*path, dep])):
                return cycle
        state[lid] = 2
        return None

    for lid in sorted(ids):
        if lid not in state:
            cycle = visit(lid, [lid])
            assert cycle is None, " -> ".join(cycle)
