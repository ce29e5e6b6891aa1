"""Every AWS API call each function makes on the embedded stack, recorded for the least-privilege test.

A botocore `provide-client-params` handler sees each call's operation and parameters before they
are sent; the embedded stack says which function is acting in the calling thread (its handler
runs, or its event source mapping polls: `stack.running_function`). Calls made by anything else
(the test, the console, the stack itself) are not recorded.

The handler goes where every client gets it: botocore's built-in handlers (each new session
registers them) and the default boto3 session (its clients are made after this, once the
composition root's cached adapters are dropped); Powertools' parameter providers (the secrets
reader) are dropped too, so they build their clients again with it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from unblock_dev.local.stack import fresh_adapters, running_function

__all__ = ["AwsCall", "CallRecorder", "recording_calls"]

# the parameters that name the resource a call acts on
RESOURCE_PARAMS = ("TableName", "IndexName", "QueueUrl", "QueueName", "stateMachineArn", "executionArn",
                   "SecretId", "FunctionName", "TopicArn", "Name")
EVENT = "provide-client-params"


_SQS_BATCHES = {"SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"}


@dataclass(frozen=True)
class AwsCall:
    function: str  # template logical id
    service: str  # the IAM service prefix (botocore's signing name): dynamodb, sqs, states, ...
    operation: str  # the API operation: GetItem
    params: dict[str, Any] = field(hash=False, compare=False)  # RESOURCE_PARAMS, and the tables of a batch

    @property
    def action(self) -> str:
        """The IAM action the call needs: SQS authorizes its batch calls with the single call's action
        (`ChangeMessageVisibilityBatch` needs `sqs:ChangeMessageVisibility`)."""
        if self.service == "sqs" and self.operation in _SQS_BATCHES:
            return f"sqs:{self.operation.removesuffix('Batch')}"
        return f"{self.service}:{self.operation}"


class CallRecorder:
    def __init__(self) -> None:
        self.calls: list[AwsCall] = []
        self.active = False
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> None:
        """botocore's `provide-client-params` event: `params` (the call's) and `model` (its operation)."""
        function = running_function()
        if not self.active or function is None:
            return
        params: dict[str, Any] = kwargs["params"]
        model = kwargs["model"]
        kept = {k: params[k] for k in RESOURCE_PARAMS if k in params}
        if "RequestItems" in params:  # BatchGetItem, BatchWriteItem
            kept["RequestItems"] = sorted(params["RequestItems"])
        if "TransactItems" in params:  # TransactWriteItems, TransactGetItems: (kind, table) per item
            kept["TransactItems"] = [(kind, item[kind]["TableName"]) for item in params["TransactItems"]
                                     for kind in item]
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        with self._lock:
            self.calls.append(AwsCall(function, service, model.name, kept))


@contextmanager
def recording_calls(*clients: Any) -> Iterator[CallRecorder]:
    """Record the calls made while the block runs (the embedded stack must be started). `clients` made
    before it (the console's, through which the stack's event source mapping polls) are recorded too."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import base
    from botocore.handlers import BUILTIN_HANDLERS

    recorder = CallRecorder()
    entry = (EVENT, recorder)
    BUILTIN_HANDLERS.append(entry)
    session = boto3._get_default_session()._session
    session.register(EVENT, recorder)
    for client in clients:
        client.meta.events.register(EVENT, recorder)
    base.DEFAULT_PROVIDERS.clear()
    fresh_adapters()
    recorder.active = True
    try:
        yield recorder
    finally:
        recorder.active = False
        BUILTIN_HANDLERS.remove(entry)
        session.unregister(EVENT, recorder)
        for client in clients:
            client.meta.events.unregister(EVENT, recorder)
