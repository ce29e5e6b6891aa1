"""Powertools Logger, Tracer and Metrics shared by every handler (one service: unblock).

Logs go to stderr so that `unblock run --json` keeps stdout for its one JSON object;
on Lambda both streams reach CloudWatch Logs.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="unblock", logger_handler=logging.StreamHandler(sys.stderr))
metrics = Metrics(namespace="Unblock", service="unblock")


class LazyTracer:
    """The Powertools Tracer, built on the first traced invocation instead of at import.

    Building a Tracer imports the X-Ray SDK and patches botocore, which imports botocore: a
    cold start pays it in the handler's import otherwise (BENCHMARKS.md, cold start). The
    Tracer is built before the handler body runs, and X-Ray patches botocore's client class,
    so every AWS call of the invocation is traced as before; any other attribute is the Tracer's.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._tracer: Tracer | None = None
        self._lock = threading.Lock()

    def get(self) -> Tracer:
        if self._tracer is None:
            with self._lock:
                if self._tracer is None:
                    self._tracer = Tracer(**self._options)
        return self._tracer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    def capture_lambda_handler(self, lambda_handler: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """`Tracer.capture_lambda_handler`, with the Tracer built on the first call."""
        if lambda_handler is None:
            return functools.partial(self.capture_lambda_handler, **kwargs)
        handler = lambda_handler
        traced: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def decorate(event: Any, context: Any, **kw: Any) -> Any:
            nonlocal traced
            if traced is None:
                traced = self.get().capture_lambda_handler(handler, **kwargs)
            return traced(event, context, **kw)

        return decorate


tracer = LazyTracer(service="unblock")
