"""Powertools Logger, Tracer and Metrics shared by every handler (one service: unblock).

Logs go to stderr so that `unblock run --json` keeps stdout for its one JSON object;
on Lambda both streams reach CloudWatch Logs.
"""

from __future__ import annotations

import logging
import sys

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="unblock", logger_handler=logging.StreamHandler(sys.stderr))
tracer = Tracer(service="unblock")
metrics = Metrics(namespace="Unblock", service="unblock")
