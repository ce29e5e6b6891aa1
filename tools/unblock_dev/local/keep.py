"""Everything the embedded stack holds, written out as files for audit (`unblock run ... --keep DIR`).

After a run, DIR holds:

    tables/<table>.jsonl          every item of every DynamoDB table (as Scan returns it)
    queues/<queue>.jsonl          every message of every SQS queue and dead-letter queue, read from
                                  moto's backend: nothing is received, so nothing is consumed, made
                                  invisible or counted towards a redrive
    executions/<name>.json        each execution: DescribeExecution and its whole history
    logs.jsonl                    the lines the functions wrote during the run: Powertools log lines at
                                  the functions' own level (INFO) whatever the terminal shows, and the
                                  metric (EMF) lines, as CloudWatch Logs would keep them
    helpdesk.jsonl                what unblock sent to the sandbox help desk (replies, user look-ups)
    output.txt                    what the command printed
    manifest.json                 how many of each were written

Nothing here is secret by design: the run's every sink, side by side, so anyone can grep it.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from unblock_dev.local.stack import ACCOUNT, REGION

if TYPE_CHECKING:
    from unblock_dev.local.app import LocalApp

__all__ = ["RunRecording", "keep_stack"]


class RunRecording:
    """The log and metric lines the functions write while it is started (all threads of the process)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._handler: logging.Handler | None = None

    def add(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def start(self) -> RunRecording:
        from unblock.observability import logger

        recording = self

        class Lines(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                recording.add(self.format(record))

        self._handler = Lines()
        self._handler.setFormatter(logger.registered_formatter)
        logger._logger.addHandler(self._handler)  # beside Powertools' own stderr handler: the same JSON lines
        return self

    def stop(self) -> None:
        from unblock.observability import logger

        if self._handler is not None:
            logger._logger.removeHandler(self._handler)
            self._handler = None

    def tee(self, stream: TextIO) -> TextIO:
        """`stream`, also recording every line written to it (Powertools prints metrics to stdout)."""
        return _Tee(stream, self)  # type: ignore[return-value] # a text stream, all print() needs


class _Tee(io.TextIOBase):
    def __init__(self, inner: TextIO, recording: RunRecording) -> None:
        self._inner, self._recording = inner, recording
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            if line:
                self._recording.add(line)
        return self._inner.write(text)

    def flush(self) -> None:
        self._inner.flush()


def keep_stack(app: LocalApp, directory: Path, recording: RunRecording | None = None, output: str = "", *,
               executions_since: datetime | None = None) -> dict[str, int]:
    """Write everything the app's stack holds under `directory` (created); returns the counts written.
    `executions_since` leaves out the executions started before it (a test's shared stack)."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = {"tables": 0, "items": 0, "queues": 0, "messages": 0, "executions": 0, "history_events": 0,
              "log_lines": 0, "helpdesk_requests": 0}
    _tables(directory / "tables", counts)
    _queues(directory / "queues", counts)
    _executions(app, directory / "executions", counts, executions_since)
    lines = list(recording.lines) if recording is not None else []
    (directory / "logs.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    counts["log_lines"] = len(lines)
    sent = [{"kind": "posted", **p} for p in app.helpdesk.posted] + [
        {"kind": "looked_up", "path": path} for path in app.helpdesk.looked_up]
    _jsonl(directory / "helpdesk.jsonl", sent)
    counts["helpdesk_requests"] = len(sent)
    (directory / "output.txt").write_text(output, encoding="utf-8")
    (directory / "manifest.json").write_text(json.dumps(counts, indent=1) + "\n", encoding="utf-8")
    return counts


def _jsonl(path: Path, rows: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, default=str, ensure_ascii=False) + "\n" for row in rows),
                    encoding="utf-8")


def _tables(directory: Path, counts: dict[str, int]) -> None:
    import boto3

    ddb = boto3.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        items = [item for page in ddb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
        _jsonl(directory / f"{table}.jsonl", items)
        counts["tables"] += 1
        counts["items"] += len(items)


def _queues(directory: Path, counts: dict[str, int]) -> None:
    """Every message, visible or in flight, read from moto's SQS backend: a ReceiveMessage would
    count towards each queue's redrive (five peeks and a reply would move to the outbox DLQ)."""
    from moto.sqs.models import sqs_backends

    for name, queue in sorted(sqs_backends[ACCOUNT][REGION].queues.items()):
        with queue._messages_lock:
            messages = list(queue._messages)
        rows = [{"MessageId": m.id, "Body": m.body, "MessageAttributes": m.message_attributes,
                 "SentTimestamp": m.sent_timestamp, "ApproximateReceiveCount": m.approximate_receive_count}
                for m in messages]
        _jsonl(directory / f"{name}.jsonl", rows)
        counts["queues"] += 1
        counts["messages"] += len(rows)


def _executions(app: LocalApp, directory: Path, counts: dict[str, int], since: datetime | None) -> None:
    sfn = app.client.sfn
    directory.mkdir(parents=True, exist_ok=True)
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            for execution in page["executions"]:
                if since is not None and execution["startDate"] < since:
                    continue
                arn = execution["executionArn"]
                events: list[Any] = []
                kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
                while True:
                    history = sfn.get_execution_history(**kwargs)
                    events += history["events"]
                    if not history.get("nextToken"):
                        break
                    kwargs["nextToken"] = history["nextToken"]
                described = {k: v for k, v in sfn.describe_execution(executionArn=arn).items()
                             if k != "ResponseMetadata"}
                (directory / f"{execution['name']}.json").write_text(
                    json.dumps({"execution": described, "history": events}, default=str, ensure_ascii=False,
                               indent=1), encoding="utf-8")
                counts["executions"] += 1
                counts["history_events"] += len(events)
