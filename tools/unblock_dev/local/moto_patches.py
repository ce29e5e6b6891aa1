"""The embedded stack's patches to moto, each named for what it changes, in two kinds.

FIXES make moto behave as AWS does; without one, a test of that behaviour fails (each docstring
says what, and which test shows it). They are always applied:
- `serialized_dynamodb_calls`: conditional writes atomic, reads never failing mid-write
  (tests/unit/test_store.py, test_incident_grouping.py: concurrent claims, exactly one wins);
- `payload_limits`: Step Functions' 256 KiB on an execution's input (tests/workflow/test_faults.py);
- `early_task_results`: a task result sent while its waitForTaskToken Lambda still runs is kept
  (an incident's bulk decision reaching a case the moment it waits: tests/workflow/test_incidents.py);
- `heartbeat_timeouts`: a lapsed heartbeat is `States.HeartbeatTimeout`, not `States.Timeout`
  (tests/workflow/test_staff_decisions.py: the case goes back to staff, not closed).

SPEEDUPS only make moto do less, with the same answers. They are behind one switch,
`UNBLOCK_MOTO_SPEEDUPS` (default on; `0` turns them all off, a comma-separated list of names
applies only those), so a moto upgrade can be tried without them first. What each pays, measured:
docs/architecture.md "The embedded stack".

Every patch reaches into moto's private code: MOTO_VERSION is the moto they were written against
(pyproject.toml pins it), and tests/contract/test_moto_patches.py fails on any other version.
Each patch is idempotent (a second stack in the process finds it applied).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

MOTO_VERSION = "5.2.5"
PAYLOAD_LIMIT = 256 * 1024  # Step Functions: an execution's input and every state's input and output (bytes)


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
    lock, parsing = threading.Lock(), threading.Lock()

    def pooled_run(self: Any) -> None:
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            pool = pools.setdefault(definition, [])
            program = pool.pop() if pool else None
        if program is None:
            with parsing:  # moto's ASL parser is not thread-safe: two parses at once killed an execution
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


FIXES: tuple[Callable[[], None], ...] = (serialized_dynamodb_calls, payload_limits, early_task_results,
                                         heartbeat_timeouts)
SPEEDUPS: dict[str, Callable[[], None]] = {f.__name__: f for f in (
    batch_models_left_unloaded, parsed_programs_reused, one_client_per_service, parsed_json_paths,
    serialized_names_worked_out_once, sqs_retention_read_directly)}


def speedups(switch: str | None = None) -> list[str]:
    """The speed-ups `UNBLOCK_MOTO_SPEEDUPS` turns on: all by default, none for `0`, else those named
    (an unknown name is an error, not a silent no-op)."""
    value = (os.environ.get("UNBLOCK_MOTO_SPEEDUPS", "1") if switch is None else switch).strip()
    if value.lower() in ("", "1", "on", "all"):
        return list(SPEEDUPS)
    if value.lower() in ("0", "off", "none"):
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    if unknown := [n for n in names if n not in SPEEDUPS]:
        raise ValueError(f"UNBLOCK_MOTO_SPEEDUPS: no speed-up named {', '.join(unknown)}; "
                         f"expected 0, 1 or some of {', '.join(SPEEDUPS)}")
    return names


def before_moto_import() -> None:
    """What must run before moto's Step Functions interpreter is imported (Batch's models left unloaded)."""
    if "batch_models_left_unloaded" in speedups():
        batch_models_left_unloaded()


def apply() -> list[str]:
    """Every fix, and the speed-ups the switch turns on; the names of those applied."""
    for fix in FIXES:
        fix()
    names = speedups()
    for name in names:
        SPEEDUPS[name]()
    return [f.__name__ for f in FIXES] + names
