"""Powertools Logger and Metrics shared by every handler (one service: unblock).

Logs go to stderr so that `unblock run --json` keeps stdout for its one JSON object;
on Lambda both streams reach CloudWatch Logs.

No Powertools Tracer: Lambda's `Tracing: Active` (template.yaml) already traces each
invocation, and the X-Ray SDK the Tracer needs pulls in a second botocore (about 21 MB
unzipped, two thirds of the old package) and a slower first invocation on every cold start
(BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import sys

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="unblock", logger_handler=logging.StreamHandler(sys.stderr))
metrics = Metrics(namespace="Unblock", service="unblock")
