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
import sys
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
from unblock_dev.local.template import Resolver, load_template
from unblock_dev.local.timings import Timings

SAMPLE_SECRET = "unblock-sample-secret"  # noqa: S105 - the local stack's known test value, signs events/
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[3]
PAYLOAD_LIMIT = 256 * 1024  # Step Functions: an execution's input and every state's input and output (bytes)
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
        batch_models_left_unloaded()
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
        serialized_dynamodb_calls()
        payload_limits()
        early_task_results()
        parsed_programs_reused()
        one_client_per_service()
        parsed_json_paths()
        response_methods_listed_once()
        serialized_names_worked_out_once()
        sqs_retention_read_directly()
        heartbeat_timeouts()
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


def batch_models_left_unloaded() -> None:
    """moto's Step Functions interpreter imports Batch's package for one enum of its utils module, and
    the package imports Batch's models and with them EC2's, which read EC2's instance types and list
    its regions at import: half a second of every stack's start, in every test worker and every
    `unblock run`. No state of this template calls Batch: the utils module is loaded here without its
    package's models. A later `import moto.batch` still loads them, and they use this module, but the
    package then has no `utils` attribute (`moto.batch.utils.X` fails; `from moto.batch.utils import X`
    works, and is how moto imports it). Call it before other threads import moto. Idempotent."""
    import importlib.util

    if "moto.batch" in sys.modules or "moto.batch.utils" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    assert spec is not None, "moto has no Batch package"
    sys.modules["moto.batch"] = importlib.util.module_from_spec(spec)  # its path, not its code
    try:
        importlib.import_module("moto.batch.utils")
    finally:
        del sys.modules["moto.batch"]


def payload_limits() -> None:
    """Enforce Step Functions' 256 KiB on StartExecution's input, as AWS does (moto does not);
    `LocalStack._dispatch` enforces it on each Lambda task's input and result. Idempotent."""
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    start = StepFunctionsParserBackend.start_execution
    if getattr(start, "_unblock_limited", False):
        return

    def limited(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                *args: Any, **kwargs: Any) -> Any:
        size = len(str(execution_input or "").encode())
        if size > PAYLOAD_LIMIT:
            raise ValidationException(f"1 validation error detected: Value at 'input' failed to satisfy constraint: "
                                      f"Member must have length less than or equal to {PAYLOAD_LIMIT} (was {size})")
        return start(self, state_machine_arn, name, execution_input, *args, **kwargs)

    limited._unblock_limited = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = limited  # type: ignore[method-assign]


def early_task_results() -> None:
    """Keep a task result that arrives while a waitForTaskToken task's Lambda still runs, as AWS does.

    moto sets up the wait's heartbeat endpoint only once the Lambda has returned, so a SendTaskSuccess
    or SendTaskFailure made meanwhile (an incident's bulk decision reaching a case the moment it waits
    for staff) notifies nothing that is waited on, and the execution hangs until HeartbeatSeconds.
    Here the new endpoint is notified at once when the task already has its result. Idempotent."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, HeartbeatEndpoint

    setup = CallbackEndpoint.setup_heartbeat_endpoint
    if getattr(setup, "_unblock_early", False):
        return

    def keeping(self: Any, heartbeat_seconds: int) -> HeartbeatEndpoint:
        endpoint = setup(self, heartbeat_seconds=heartbeat_seconds)
        if self.get_outcome() is not None:
            endpoint.notify()
        return endpoint

    keeping._unblock_early = True  # type: ignore[attr-defined]
    CallbackEndpoint.setup_heartbeat_endpoint = keeping  # type: ignore[method-assign]


def parsed_programs_reused() -> None:
    """Parse each definition once, not at every execution's start (moto parses the ASL with a pure
    Python ANTLR parser each time: a fifth of a workflow test's CPU). A parsed program keeps its
    evaluation state in the execution's environment, not in itself, but a component draws its heap
    key lazily, so two executions never evaluate the same program object at once: each takes one
    from its definition's pool and gives it back when it ends. Idempotent."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    run = ExecutionWorker._execution_logic
    if getattr(run, "_unblock_pooled", False):
        return
    pools: dict[str, list[Any]] = {}
    lock = threading.Lock()

    def pooled_run(self: Any) -> None:
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            pool = pools.setdefault(definition, [])
            program = pool.pop() if pool else None
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
        self._get_evaluation_entrypoint = lambda: program  # this execution's, for the original logic
        try:
            run(self)
        finally:
            with lock:
                pools[definition].append(program)

    pooled_run._unblock_pooled = True  # type: ignore[attr-defined]
    ExecutionWorker._execution_logic = pooled_run  # type: ignore[method-assign]


def _memoized(module: Any, name: str, maxsize: int | None = None) -> None:
    """`module.name` answers each argument from a cache once it has answered it; a second call (a
    second stack's start) finds it done."""
    import functools

    function = getattr(module, name)
    if getattr(function, "_unblock_cached", False):
        return
    cached = functools.lru_cache(maxsize=maxsize)(function)
    cached._unblock_cached = True  # type: ignore[attr-defined]
    setattr(module, name, cached)


def parsed_json_paths() -> None:
    """moto parses every JSONPath ($.report, $.case.team_id ...) with a new PLY parser each time it
    reads or writes one; a parsed path is not changed by finding or updating, so keep each. Idempotent."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):  # jsonpath_ng.ext's parser, and (ResultPath) jsonpath_ng's own
        _memoized(module, "parse", maxsize=4096)


def response_methods_listed_once() -> None:
    """moto lists a response class's methods (`inspect.getmembers`) at every API call, to find the
    action's method: a percent and a half of a test session's CPU. A class's methods do not change
    while it serves: list each class's once. Idempotent."""
    from moto.core import responses

    _memoized(responses, "method_names_from_class")


def serialized_names_worked_out_once() -> None:
    """moto's response serializer works out, for each member of each shape of each response, the names
    the value may be under in moto's object (six alias rules, then each in snake case), one object at a
    time: a fifth of a DynamoDB GetItem's CPU on this stack. Those names depend on the object's class
    (not on the instance), the member, its shape and the shape's parent (moto sets it as it walks):
    work them out once for each. Asked each time, as moto does: an object with aliases of its own (a
    Meta class), and an error's members (moto builds an error's shapes anew for each error, so they
    would only fill the cache). Idempotent."""
    from moto.core import serialize
    from moto.core.errors import ErrorShape

    possible = serialize.XFormedAttributePicker.get_possible_keys
    if getattr(possible, "_unblock_cached", False):
        return
    names: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def worked_out(self: Any, context: Any) -> Any:
        obj, shape = context.obj, context.shape
        parent = getattr(shape, "parent", None)
        if (hasattr(obj, "Meta") or self.alias_providers is not serialize.DEFAULT_ALIAS_PROVIDERS
                or isinstance(parent, ErrorShape) or isinstance(shape, ErrorShape)):
            return possible(self, context)
        key = (type(obj), context.key, shape, parent)
        if (found := names.get(key)) is None:
            found = tuple(possible(self, context))
            if len(names) < 20_000:  # a backstop: four tickets through the workflow need 252
                names[key] = found
        return found

    worked_out._unblock_cached = True  # type: ignore[attr-defined]
    serialize.XFormedAttributePicker.get_possible_keys = worked_out  # type: ignore[method-assign]


def sqs_retention_read_directly() -> None:
    """moto builds every attribute of a queue (camel-case names, the redrive policy's JSON) for each
    message a receive looks at, to read one of them, the retention period: with the thousands of
    messages a test session leaves on the human queue, that was most of a receive. Read the one
    attribute. Idempotent."""
    from moto.sqs import models as sqs_models

    check = sqs_models.SQSBackend.is_message_valid_based_on_retention_period
    if getattr(check, "_unblock_direct", False):
        return

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        retention = float(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > sqs_models.unix_time())

    retained._unblock_direct = True  # type: ignore[attr-defined]
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]


def one_client_per_service() -> None:
    """moto's interpreter builds a boto3 client for every Lambda task it runs (~10 ms each on moto);
    keep one per region, service and role (boto3 clients are thread-safe; moto's builder signs with
    fixed test keys whatever the role). Idempotent."""
    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.utils import boto_client

    build = boto_client.boto_client_for
    if getattr(build, "_unblock_shared", False):
        return
    clients: dict[tuple[str, str, bool, str | None], Any] = {}
    lock = threading.Lock()

    def shared(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, bool(botocore_stubber.enabled), getattr(state_credentials, "role_arn", None))
        with lock:
            if key not in clients:
                clients[key] = build(region, service, state_credentials)
            return clients[key]

    shared._unblock_shared = True  # type: ignore[attr-defined]
    boto_client.boto_client_for = shared
    # the task modules imported so far took the builder's name at import; those imported later take `shared`
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser.") and getattr(module, "boto_client_for", None) is build:
            module.boto_client_for = shared  # type: ignore[attr-defined]


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


def heartbeat_timeouts() -> None:
    """Report a lapsed heartbeat of a waitForTaskToken task as `States.HeartbeatTimeout`, as Step
    Functions does. moto raises its HeartbeatTimeoutError, a TimeoutError, which StateTask turns into
    `States.Timeout`: the ASL's Catch would then close the case (TimedOut) where AWS queues it for
    staff again (BackToStaff). Idempotent."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    from_error = StateTaskServiceCallback._from_error
    if getattr(from_error, "_unblock_heartbeat", False):
        return

    def reporting(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, HeartbeatTimeoutError):
            return from_error(self, env=env, ex=ex)
        error = StatesErrorNameType.StatesHeartbeatTimeout
        return FailureEvent(env=env, error_name=StatesErrorName(typ=error), event_type=HistoryEventType.TaskTimedOut,
                            event_details=EventDetails(taskTimedOutEventDetails=TaskTimedOutEventDetails(
                                resourceType=self._get_sfn_resource_type(), resource=self._get_sfn_resource(),
                                error=error.to_name())))  # type: ignore[typeddict-item]

    reporting._unblock_heartbeat = True  # type: ignore[attr-defined]
    StateTaskServiceCallback._from_error = reporting  # type: ignore[method-assign]


_DYNAMODB_LOCK = threading.RLock()


def serialized_dynamodb_calls() -> None:
    """Serialize moto's DynamoDB calls, so writes are atomic and reads never fail, as on DynamoDB:
    moto checks a ConditionExpression and writes without a lock, so concurrent executions (threads
    here) could both pass a condition that AWS lets only one pass; and a query or scan of a table
    with a sort key walks moto's nested item dicts, so a write landing meanwhile fails the read
    ("dictionary changed size during iteration", a 500 to the caller; reproduced with three writers
    and three readers on one hash key). Idempotent; stays for the process."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item",
                 "get_item", "query", "scan", "batch_get_item", "transact_get_items"):
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_unblock_serialized", False):
            continue

        def locked(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with _DYNAMODB_LOCK:
                return _method(self, *args, **kwargs)

        locked._unblock_serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, locked)


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


class InvocationFailed(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
