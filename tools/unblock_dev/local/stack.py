"""The embedded local stack: template.yaml and the .asl.json files, run on moto in this process.

Tables, queues, functions and state machines are created from what template.yaml says
(names derive from the logical ids, keys, indexes and substitutions are read from it).
moto's Step Functions interpreter runs the real ASL; every Lambda invoke reaches
`LambdaSimpleBackend.invoke`, which is patched here to call the handler the template
names, in-process, with Lambda's error shape so Retry/Catch match on the exception class.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unblock.ports import Clock
from unblock_dev.local import moto_patches
from unblock_dev.local.moto_patches import PAYLOAD_LIMIT
from unblock_dev.local.template import Resolver, load_template
from unblock_dev.local.timings import Timings

SAMPLE_SECRET = "unblock-sample-secret"  # noqa: S105 - the local stack's known test value, signs events/
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[3]
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FakeContext:
    """The parts of Lambda's context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 30_000)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


@dataclass
class Invocation:
    function: str
    ok: bool
    error_type: str | None = None
    step: str | None = None  # the workflow step a shared function served (the task's `step`)


class LocalStack:
    """One embedded stack; start it once per process (or test session) and reuse it."""

    def __init__(self, template: Path | None = None, *, stack_name: str = "unblock-local",
                 parameters: dict[str, str] | None = None, timings: Timings | None = None) -> None:
        self.template_path = template or ROOT / "template.yaml"
        self.template = load_template(self.template_path)
        self.stack_name = stack_name
        self.resolver = Resolver(self.template, parameters or {}, stack_name, REGION, ACCOUNT)
        self.handlers: dict[str, str] = {}  # function name -> "module.function"
        self.outputs: dict[str, str] = {}
        self.invocations: list[Invocation] = []
        # how long the state machines wait (local/timings.py): the caller's, else UNBLOCK_TEST_TIMINGS, else the ASL's
        self.timings = timings if timings is not None else Timings.from_env()
        self.definitions: dict[str, str] = {}  # state machine ARN -> its definition as the template loads it
        # errors to raise first, by function logical id or "<logical id>.<step>" (one workflow step)
        self.faults: dict[str, list[Exception]] = {}
        self.task_functions: set[str] = set()  # functions the state machines invoke as tasks (payload limit)
        self._mock: Any = None
        self._saved_invoke: Any = None
        self._lock = threading.Lock()
        self.activity = ACTIVITY
        self._lambda: Any = None  # one client for the invokes (a client per call costs ~10 ms on moto)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> LocalStack:
        moto_patches.before_moto_import()
        from moto import mock_aws
        from moto.awslambda_simple.models import LambdaSimpleBackend

        for var, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                           "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}.items():
            os.environ[var] = value
        os.environ.pop("AWS_PROFILE", None)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                      "lambda": {"use_docker": False}})
        self._mock.start()
        self._saved_invoke = LambdaSimpleBackend.invoke
        stack = self

        def invoke(backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                   response_headers: Any) -> bytes:
            return stack._dispatch(function_name, body, response_headers)

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
        self.patches = moto_patches.apply()  # moto as AWS behaves, and (UNBLOCK_MOTO_SPEEDUPS) doing less
        ended_executions_tick()
        self._create()
        fresh_adapters()
        return self

    def stop(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        if self._mock is not None:
            LambdaSimpleBackend.invoke = self._saved_invoke  # type: ignore[method-assign]
            self._mock.stop()
            self._mock = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- resources -------------------------------------------------------------------------
    def _resources(self, *types: str) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for logical_id, res in self.template["Resources"].items():
            if res["Type"] in types and ("Condition" not in res or self.resolver.condition(res["Condition"])):
                out.append((logical_id, res.get("Properties", {})))
        return out

    def _name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def _create(self) -> None:
        import boto3

        r = self.resolver
        ddb: Any = boto3.client("dynamodb")
        sqs: Any = boto3.client("sqs")
        iam, lam, sfn = boto3.client("iam"), boto3.client("lambda"), boto3.client("stepfunctions")

        for lid, props in self._resources("AWS::DynamoDB::Table"):
            name = props.get("TableName") or self._name(lid)
            kwargs: dict[str, Any] = {
                "TableName": name, "KeySchema": props["KeySchema"],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            if props.get("SSESpecification"):
                kwargs["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
            ddb.create_table(**kwargs)
            r.refs[lid] = name
            r.attrs[(lid, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"

        queues = self._resources("AWS::SQS::Queue")
        for lid, props in queues:
            name = props.get("QueueName") or self._name(lid)
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            r.refs[lid] = url
            r.attrs[(lid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            r.attrs[(lid, "QueueName")] = name
        for lid, props in queues:
            attrs = {k: json.dumps(r.resolve(v)) if isinstance(v, dict) else str(r.resolve(v))
                     for k, v in props.items() if k in ("RedrivePolicy", "VisibilityTimeout", "MessageRetentionPeriod")}
            if attrs:
                sqs.set_queue_attributes(QueueUrl=r.refs[lid], Attributes=attrs)

        sns: Any = boto3.client("sns")
        for lid, _props in self._resources("AWS::SNS::Topic"):
            name = self._name(lid)
            r.refs[lid] = sns.create_topic(Name=name)["TopicArn"]
            r.attrs[(lid, "TopicName")] = name

        ssm: Any = boto3.client("ssm")
        for lid, props in self._resources("AWS::SSM::Parameter"):  # the run-time mode
            name = str(r.resolve(props["Name"])) if "Name" in props else self._name(lid)
            ssm.put_parameter(Name=name, Value=str(r.resolve(props["Value"])), Type=props.get("Type", "String"),
                              **({"AllowedPattern": props["AllowedPattern"]} if "AllowedPattern" in props else {}))
            r.refs[lid] = name

        secrets: Any = boto3.client("secretsmanager")
        for lid, props in self._resources("AWS::SecretsManager::Secret"):
            # generated secrets get the sample value locally, so the signed samples in events/ verify
            value = props.get("SecretString") or SAMPLE_SECRET
            r.refs[lid] = secrets.create_secret(Name=self._name(lid), SecretString=value)["ARN"]

        events: Any = boto3.client("events")
        for lid, props in self._resources("AWS::Events::EventBus"):
            name = str(r.resolve(props["Name"])) if "Name" in props else self._name(lid)
            arn = events.create_event_bus(Name=name)["EventBusArn"]
            r.refs[lid], r.attrs[(lid, "Arn")], r.attrs[(lid, "Name")] = name, arn, name
            if props.get("Policy"):
                events.put_permission(EventBusName=name, Policy=json.dumps(r.resolve(props["Policy"])))

        functions = self._resources("AWS::Serverless::Function")
        machines = self._resources("AWS::Serverless::StateMachine")
        for lid, props in functions:
            name = self._name(lid)
            r.refs[lid] = name
            r.attrs[(lid, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            if "FunctionUrlConfig" in props:
                r.attrs[(f"{lid}Url", "FunctionUrl")] = f"https://{name.lower()}.lambda-url.{REGION}.on.aws/"
        for lid, props in machines:
            name = str(r.resolve(props["Name"])) if "Name" in props else self._name(lid)
            r.refs[lid] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
            r.attrs[(lid, "Name")] = name
            r.attrs[(lid, "Arn")] = r.refs[lid]

        role = iam.create_role(RoleName=f"{self.stack_name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr("README", "handlers run in-process from functions/")
        globals_fn = self.template.get("Globals", {}).get("Function", {})
        env: dict[str, str] = {}
        for lid, props in functions:
            merged = {**globals_fn.get("Environment", {}).get("Variables", {}),
                      **props.get("Environment", {}).get("Variables", {})}
            for k, v in r.resolve(merged).items():
                env[k] = str(v)
            self.handlers[r.refs[lid]] = props["Handler"]
            lam.create_function(FunctionName=r.refs[lid], Runtime=props.get("Runtime", globals_fn.get("Runtime")),
                                Role=role, Handler=props["Handler"], Code={"ZipFile": code.getvalue()})
        os.environ.update(env)  # one process: the union of every function's environment
        for lid, props in functions:  # the rules, on the bus each names (none: the account's default bus)
            for event_name, spec in (props.get("Events") or {}).items():
                if spec.get("Type") != "EventBridgeRule":
                    continue
                rule = r.resolve(spec.get("Properties", {}))
                bus = rule.get("EventBusName", "default")
                events.put_rule(Name=f"{lid}{event_name}", EventBusName=bus, EventPattern=json.dumps(rule["Pattern"]))
                target: dict[str, Any] = {"Id": lid, "Arn": r.attrs[(lid, "Arn")]}
                if "DeadLetterConfig" in rule:
                    target["DeadLetterConfig"] = rule["DeadLetterConfig"]
                if "RetryPolicy" in rule:
                    target["RetryPolicy"] = rule["RetryPolicy"]
                events.put_targets(Rule=f"{lid}{event_name}", EventBusName=bus, Targets=[target])

        for lid, props in machines:
            self.task_functions |= {v["Fn::GetAtt"][0] for v in props.get("DefinitionSubstitutions", {}).values()
                                    if isinstance(v, dict) and "Fn::GetAtt" in v}
            definition = (self.template_path.parent / props["DefinitionUri"]).read_text()
            for key, value in r.resolve(props.get("DefinitionSubstitutions", {})).items():
                definition = definition.replace("${" + key + "}", str(value))
            self.definitions[r.refs[lid]] = definition
            sfn.create_state_machine(name=r.attrs[(lid, "Name")], definition=self.timings.apply(definition),
                                     roleArn=role, type=props.get("Type", "STANDARD"))

        self.outputs = {name: str(r.resolve(out["Value"])) for name, out in self.template.get("Outputs", {}).items()
                        if "Condition" not in out or r.condition(out["Condition"])}

    @contextmanager
    def retimed(self, timings: Timings) -> Iterator[None]:
        """Executions started in this block wait as `timings` say (over the stack's own); those already
        running keep theirs (Step Functions snapshots the definition at StartExecution)."""
        import boto3

        sfn = boto3.client("stepfunctions")
        for arn, definition in self.definitions.items():
            sfn.update_state_machine(stateMachineArn=arn, definition=self.timings.over(timings).apply(definition))
        try:
            yield
        finally:
            for arn, definition in self.definitions.items():
                sfn.update_state_machine(stateMachineArn=arn, definition=self.timings.apply(definition))

    # --- Lambda dispatch -------------------------------------------------------------------
    def logical_id(self, function_name: str) -> str:
        return function_name.removeprefix(f"{self.stack_name}-")

    def _dispatch(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        name = function_name.split(":function:")[-1].split(":")[0]
        handler_path = self.handlers[name]
        module_name, func_name = handler_path.rsplit(".", 1)
        handler: Handler = getattr(importlib.import_module(module_name), func_name)
        event = json.loads(body) if body else {}
        lid = self.logical_id(name)
        step = event.get("step") if isinstance(event, dict) and isinstance(event.get("step"), str) else None
        size = len(body if isinstance(body, bytes) else str(body or "").encode())
        task = lid in self.task_functions  # Step Functions' limit; a direct invoke has Lambda's own (6 MB)
        try:
            if task and size > PAYLOAD_LIMIT:  # the state's input: Step Functions refuses it before Lambda runs
                raise DataLimitExceeded(f"the input to {lid} is {size} bytes; at most {PAYLOAD_LIMIT}")
            with self._lock:
                pending = self.faults.get(f"{lid}.{step}") or self.faults.get(lid)
                fault = pending.pop(0) if pending else None
            if fault is not None:
                raise fault
            with acting_as(lid):
                result = json.dumps(handler(event, FakeContext(function_name=name))).encode()
            if task and len(result) > PAYLOAD_LIMIT:  # the state's output (the task's result)
                raise DataLimitExceeded(f"the result of {lid} is {len(result)} bytes; at most {PAYLOAD_LIMIT}")
        except Exception as err:  # noqa: BLE001 - reported to Step Functions exactly as Lambda would
            kind = "States.DataLimitExceeded" if isinstance(err, DataLimitExceeded) else type(err).__name__
            self.invocations.append(Invocation(lid, ok=False, error_type=kind, step=step))
            self.activity.tick()
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": kind, "errorMessage": str(err)[:1000], "stackTrace": []}).encode()
        self.invocations.append(Invocation(lid, ok=True, step=step))
        self.activity.tick()  # what the function wrote is there: waiters look again
        return result

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function through the Lambda API, as EventBridge or a Function URL would."""
        import boto3

        if self._lambda is None:
            self._lambda = boto3.client("lambda")
        resp = self._lambda.invoke(FunctionName=self.resolver.refs[logical_id], Payload=json.dumps(event).encode())
        payload = json.loads(resp["Payload"].read() or b"null")
        if resp.get("FunctionError"):
            raise InvocationFailed(payload.get("errorType", "Error"), payload.get("errorMessage", ""))
        return payload


class DataLimitExceeded(Exception):
    """Reported to the state machine as `States.DataLimitExceeded`, as AWS does."""


class StackActivity:
    """A count of what happened on the embedded stack (a function returned, an execution ended), so a
    wait looks again at once instead of on a timer (staff.poll with `changes`)."""

    def __init__(self) -> None:
        self._moved = threading.Condition()
        self._count = 0

    def tick(self) -> None:
        with self._moved:
            self._count += 1
            self._moved.notify_all()

    def mark(self) -> int:
        with self._moved:
            return self._count

    def wait_after(self, mark: int, timeout: float) -> None:
        """Until something happened after `mark` was taken, or `timeout` seconds."""
        with self._moved:
            self._moved.wait_for(lambda: self._count != mark, timeout)


ACTIVITY = StackActivity()  # one stack per process: moto's state is the process's


_running = threading.local()


def running_function() -> str | None:
    """The template logical id of the function acting in this thread (its handler runs, or the event
    source mapping polls with its role), else None."""
    return getattr(_running, "function", None)


@contextmanager
def acting_as(logical_id: str) -> Iterator[None]:
    """Calls made in this block are made by `logical_id` (with its role, on AWS)."""
    previous = running_function()
    _running.function = logical_id
    try:
        yield
    finally:
        _running.function = previous


def fresh_adapters(clock: Clock | None = None) -> None:
    """Point the composition root at this process's (moto) environment: drop the adapters it
    built before, and with `clock`, make `composition.clock()` answer that (movable) clock."""
    from unblock import composition

    for value in vars(composition).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    if clock is not None:
        composition.clock = lambda: clock  # type: ignore[assignment]


def ended_executions_tick() -> None:
    """Tick ACTIVITY when an execution ends (moto's worker reflects its status, then returns), so a
    wait for the end sees it at once. Idempotent."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    terminated = BaseExecutionWorkerCommunication.terminated
    if getattr(terminated, "_unblock_tick", False):
        return

    def ticking(self: Any) -> None:
        try:
            terminated(self)
        finally:
            ACTIVITY.tick()

    ticking._unblock_tick = True  # type: ignore[attr-defined]
    BaseExecutionWorkerCommunication.terminated = ticking  # type: ignore[method-assign]


class InvocationFailed(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
