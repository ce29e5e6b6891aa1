"""template.yaml, the ASL and the handlers agree: what moto runs here is what `sam deploy` ships."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import pytest

from tests.support import ROOT
from unblock_dev.local.template import load_template

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
MACHINES = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::StateMachine"}


def _asl(machine: dict) -> str:
    return (ROOT / machine["Properties"]["DefinitionUri"]).read_text()


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_handler_imports(logical_id):
    module_name, func = FUNCTIONS[logical_id]["Properties"]["Handler"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), func)
    assert callable(handler)


@pytest.mark.parametrize("machine_id", sorted(MACHINES))
def test_every_substitution_is_defined_and_every_lambda_exists(machine_id):
    machine = MACHINES[machine_id]
    subs = machine["Properties"]["DefinitionSubstitutions"]
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", _asl(machine)))
    assert used == set(subs), f"used but undefined: {used - set(subs)}; defined but unused: {set(subs) - used}"
    for name, value in subs.items():
        if name.endswith("FunctionArn"):
            target = value["Fn::GetAtt"][0]
            assert target in FUNCTIONS, f"{name} names {target}, which template.yaml does not define"


@pytest.mark.parametrize("machine_id", sorted(MACHINES))
def test_the_state_machine_may_invoke_exactly_the_functions_it_names(machine_id):
    machine = MACHINES[machine_id]
    named = {v["Fn::GetAtt"][0] for k, v in machine["Properties"]["DefinitionSubstitutions"].items()
             if k.endswith("FunctionArn")}
    allowed = {p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in machine["Properties"]["Policies"]
               if isinstance(p, dict) and "LambdaInvokePolicy" in p}
    assert named == allowed


def test_a_check_that_never_answers_becomes_the_contract_finding():
    from unblock.domain.models import CHECKS, Finding

    for machine in MACHINES.values():
        states = json.loads(_asl(machine))["States"]
        for check in CHECKS:
            catch = states[f"Check{check.capitalize()}"]["Catch"][0]
            unavailable = states[catch["Next"]]
            # billing and key land at $.<check>; restrictions in $.diagnosis, where its plan goes too
            assert catch["ResultPath"] == unavailable["ResultPath"] in (f"$.{check}", "$.diagnosis")
            params = dict(unavailable["Parameters"].get(check, unavailable["Parameters"]))
            params["evidence"] = {k.removesuffix(".$"): "PlatformUnavailable" for k in params["evidence"]}
            finding = Finding.model_validate(params)
            assert (finding.check, finding.code, finding.disposition) == (check, f"{check}.unavailable", "escalate")


def test_asl_is_jsonpath_with_a_catch_on_every_task():
    for machine in MACHINES.values():
        definition = json.loads(_asl(machine))
        assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"
        for name, state in definition["States"].items():
            if state["Type"] == "Task":
                assert state.get("Catch"), f"task {name} has no Catch: a failure would end the case silently"
                assert state.get("Retry"), f"task {name} has no Retry"


LAMBDA_TRANSIENT = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                    "Lambda.ClientExecutionTimeoutException"}


def test_every_task_retries_lambdas_transient_errors_with_backoff():
    """AWS's recommendation for Lambda tasks in Step Functions (issue 13.11)."""
    for machine in MACHINES.values():
        for name, state in json.loads(_asl(machine))["States"].items():
            if state["Type"] != "Task":
                continue
            retriers = [r for r in state.get("Retry", []) if set(r["ErrorEquals"]) >= LAMBDA_TRANSIENT]
            assert retriers, f"task {name} does not retry {sorted(LAMBDA_TRANSIENT)}"
            r = retriers[0]
            assert r["MaxAttempts"] >= 3 and r.get("BackoffRate", 2.0) >= 2.0 and r["IntervalSeconds"] >= 1, name
            assert r.get("JitterStrategy") == "FULL", name
            # the first retrier that names an error is the one applied: none before it takes them
            first = next(i for i, x in enumerate(state["Retry"]) if LAMBDA_TRANSIENT & set(x["ErrorEquals"]))
            assert state["Retry"][first] is r, name


def test_a_lapsed_staff_wait_goes_back_to_staff_and_heartbeats_outpace_it():
    """Issue 13.3: the re-check heartbeats a staff case at least every STAFF_MAX_BACKOFF, well
    inside HeartbeatSeconds; a wait that lapses anyway is queued for staff again, never closed."""
    from unblock.workflow.recheck import STAFF_MAX_BACKOFF, backoff

    for machine in MACHINES.values():
        states = json.loads(_asl(machine))["States"]
        waits = {n: s for n, s in states.items() if s.get("Resource", "").endswith(".waitForTaskToken")}
        assert waits
        for name, wait in waits.items():
            assert wait["HeartbeatSeconds"] >= 4 * STAFF_MAX_BACKOFF.total_seconds(), name
            assert max(backoff(n, STAFF_MAX_BACKOFF) for n in range(100)) <= STAFF_MAX_BACKOFF
            lapsed = next(c for c in wait["Catch"] if "States.HeartbeatTimeout" in c["ErrorEquals"])
            target = states[lapsed["Next"]]
            assert target["Type"] == "Pass" and target["Next"] == "Escalate", name


def test_every_staff_wait_handles_a_rejection_and_the_timeout_alike():
    """A failed case waits for staff too (`Failed`): a reject or the 14-day timeout there is a
    closed case with its reply, as after `Escalate`, never `EscalationFailed`."""
    for machine in MACHINES.values():
        states = json.loads(_asl(machine))["States"]
        waits = {n: s for n, s in states.items() if s.get("Resource", "").endswith(".waitForTaskToken")}
        routes = {n: {e: c["Next"] for c in w["Catch"] for e in c["ErrorEquals"]} for n, w in waits.items()}
        assert len(waits) >= 2 and all(r == routes["Escalate"] for r in routes.values()), routes
        assert routes["Escalate"]["StaffRejected"] == "Rejected" and routes["Escalate"]["States.Timeout"] == "TimedOut"


def test_operations_keep_the_audit_trail_alarm_on_errors_and_bound_the_webhook():
    """Issue 13.13: Retain on the cases table and the DLQs, an alarm on every function's Errors and
    on a failing re-check pass, reserved concurrency on the public webhook function."""
    retained = {lid for lid, r in RESOURCES.items()
                if r.get("DeletionPolicy") == "Retain" and r.get("UpdateReplacePolicy") == "Retain"}
    dlqs = {lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue" and lid.endswith("DeadLetterQueue")}
    assert len(dlqs) == 4 and {"CasesTable", *dlqs} <= retained

    alarms = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms
              if a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == "Errors"}
    assert errors == set(FUNCTIONS)
    assert any(a.get("Namespace") == "Unblock" and a.get("MetricName") == "RecheckFailures" for a in alarms)
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)

    assert FUNCTIONS["WebhookFunction"]["Properties"]["ReservedConcurrentExecutions"] > 0
    assert FUNCTIONS["SlackActionsFunction"]["Properties"]["ReservedConcurrentExecutions"] > 0


def _tasks(definition: dict) -> dict[str, tuple[str, dict]]:
    """State name -> (the function substitution it invokes, the payload it sends) for every Task."""
    out = {}
    for name, state in definition["States"].items():
        if state["Type"] != "Task":
            continue
        params = state["Parameters"]
        if state["Resource"].startswith("arn:aws:states:::lambda:invoke"):
            out[name] = (params["FunctionName"], params["Payload"])
        else:
            out[name] = (state["Resource"], params)
    return out


def test_the_workflow_runs_on_three_functions_split_by_what_they_touch():
    """Issue 17: at most three distinct functions on any path, one cold start per role."""
    for machine in MACHINES.values():
        tasks = _tasks(json.loads(_asl(machine)))
        used = {fn.strip("${}").removesuffix("Arn") for fn, _ in tasks.values()}
        assert used == {"DiagnoseFunction", "FixFunction", "OutcomeFunction"}, used
        # only FixFunction may change the platform (write access to the sandbox platform table)
        writers = {fn for fn in used if any("DynamoDBCrudPolicy" in json.dumps(p) and "PlatformTable" in json.dumps(p)
                                            for p in FUNCTIONS[fn]["Properties"]["Policies"])}
        assert writers == {"FixFunction"}, writers
        # OutcomeFunction never reads the platform
        assert "PlatformTable" not in json.dumps(FUNCTIONS["OutcomeFunction"]["Properties"]["Policies"])


def test_every_task_names_a_step_its_function_accepts():
    import typing

    from pydantic import TypeAdapter, ValidationError

    from unblock.workflow import models

    accepts = {"DiagnoseFunction": models.DiagnoseInput, "FixFunction": models.FixStep,
               "OutcomeFunction": models.OutcomeInput}
    for machine in MACHINES.values():
        for name, (fn, payload) in _tasks(json.loads(_asl(machine))).items():
            step = payload.get("step")
            assert isinstance(step, str), f"{name} sends no step"
            adapter = TypeAdapter(accepts[fn.strip("${}").removesuffix("Arn")])
            with pytest.raises(ValidationError) as err:  # the step is known: only the other fields are missing
                adapter.validate_python({"step": step})
            assert "union_tag_invalid" not in str(err.value) and "literal_error" not in str(err.value), name
    assert typing.get_args(models.DiagnoseInput)  # a discriminated union


def test_a_private_admin_api_puts_the_functions_that_call_it_in_the_vpc():
    """Issue 22 item 7: optional subnets and security groups; the default deploy is unchanged."""
    from unblock_dev.local.template import Resolver

    resources = TEMPLATE["Resources"]
    callers = {lid for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
               and "PlatformApiTokenSecretName" in json.dumps(r["Properties"].get("Policies", []))}
    # SignalsFunction reads only whether a signal's team exists (issue 35 item 8)
    assert callers == {"DiagnoseFunction", "FixFunction", "RecheckFunction", "ConsoleFunction", "SignalsFunction"}

    def vpc(params: dict[str, str]) -> dict[str, Any]:
        r = Resolver(TEMPLATE, params, "unblock", "us-east-1", "123456789012")
        return {lid: r.resolve(resources[lid]["Properties"].get("VpcConfig")) for lid in callers} | {
            "endpoints": sorted(lid for lid, res in resources.items() if res["Type"] == "AWS::EC2::VPCEndpoint"
                                and r.condition(res["Condition"]))}

    assert vpc({}) == dict.fromkeys(callers) | {"endpoints": []}  # no VPC by default
    assert vpc({"AdminApiSubnetIds": "subnet-1,subnet-2"})["DiagnoseFunction"] is None  # sandbox: no admin API
    private = {"PlatformAdapter": "http", "AdminApiSubnetIds": "subnet-1,subnet-2", "AdminApiSecurityGroupIds": "sg-1"}
    placed = vpc(private)
    assert all(placed[lid] == {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]} for lid in callers)
    assert placed["endpoints"] == []  # the operator's NAT gateway or endpoints
    assert vpc(private | {"AdminApiVpcId": "vpc-1", "AdminApiRouteTableIds": "rtb-1"})["endpoints"] == [
        "DynamoDbEndpoint", "SecretsManagerEndpoint", "SnsEndpoint", "SqsEndpoint", "StatesEndpoint"]
    others = {lid for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"} - callers
    assert all("VpcConfig" not in resources[lid]["Properties"] for lid in others)


def test_every_checkov_check_skipped_in_the_template_says_why():
    """`make checkov` (issue 22 item 7): a failed check is fixed, or skipped on its resource with the reason."""
    skips = [(lid, s) for lid, r in TEMPLATE["Resources"].items()
             for s in (r.get("Metadata", {}).get("checkov", {}).get("skip", []))]
    assert skips and all(re.fullmatch(r"CKV_AWS_\d+", s["id"]) and len(s.get("comment", "")) > 30 for _, s in skips)
    queues = [lid for lid, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::SQS::Queue"]
    assert all(TEMPLATE["Resources"][q]["Properties"]["SqsManagedSseEnabled"] for q in queues)  # what CKV_AWS_27 misses
