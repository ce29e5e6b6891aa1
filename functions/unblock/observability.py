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
import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="unblock", logger_handler=logging.StreamHandler(sys.stderr))
metrics = Metrics(namespace="Unblock", service="unblock")

# Many invocations publish no metric (a check that found nothing to count, a decision's claim); Powertools
# warns on each as it flushes. Its documentation suppresses the warning with this filter (Metrics,
# "Suppressing warning messages on empty metrics"); functions that count something still publish it.
warnings.filterwarnings("ignore", "No application metrics to publish*")
