"""Shared by the benchmark modules: paths, the template, small statistics."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"
TEMPLATE = ROOT / "template.yaml"


def use_functions_path() -> None:
    """Make `import unblock` and `import tests.support` work when run as a script."""
    for p in (str(FUNCTIONS), str(ROOT)):
        if p not in sys.path:
            sys.path.insert(0, p)


use_functions_path()


def template(path: Path = TEMPLATE) -> dict[str, Any]:
    """template.yaml as the embedded stack reads it (this tree's, or another tree's by path)."""
    from unblock_dev.local.template import load_template

    return load_template(path)


def functions(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> properties of every AWS::Serverless::Function, in template order."""
    return {lid: res.get("Properties", {}) for lid, res in doc["Resources"].items()
            if res["Type"] == "AWS::Serverless::Function"}


def task_functions(doc: dict[str, Any]) -> list[str]:
    """The functions the state machines invoke as tasks (their DefinitionSubstitutions' `!GetAtt X.Arn`)."""
    out: list[str] = []
    for res in doc["Resources"].values():
        if res["Type"] != "AWS::Serverless::StateMachine":
            continue
        for value in (res.get("Properties", {}).get("DefinitionSubstitutions") or {}).values():
            target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
            if isinstance(target, list) and str(target[0]) not in out:
                out.append(str(target[0]))
    return out


def memory_mb(doc: dict[str, Any], logical_id: str) -> int:
    """A function's MemorySize: its own, else Globals/Function, else the SAM default (128)."""
    props = functions(doc)[logical_id]
    globals_fn = doc.get("Globals", {}).get("Function", {})
    return int(props.get("MemorySize", globals_fn.get("MemorySize", 128)))


def architecture(doc: dict[str, Any], logical_id: str) -> str:
    props = functions(doc)[logical_id]
    globals_fn = doc.get("Globals", {}).get("Function", {})
    return str((props.get("Architectures") or globals_fn.get("Architectures") or ["x86_64"])[0])


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def percentile(xs: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not xs:
        return float("nan")
    ordered = sorted(xs)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return float(ordered[k])


_PROGRESS = os.fdopen(os.dup(2), "w")  # progress lines survive quiet_stdout()


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=_PROGRESS, flush=True)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Powertools Metrics prints EMF to stdout, and Logger writes to stderr: keep the bench output readable.

    Both are swapped at the file-descriptor level so that moto's execution threads are covered too.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for fd in (saved_out, saved_err, devnull):
            os.close(fd)
