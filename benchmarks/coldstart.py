"""1. Cold start: the import cost of each handler module in a fresh interpreter, against `import boto3`.

Each figure is `python -X importtime -c "import <module>"` in a new process: the sum of the
cumulative microseconds of the top-level imports it triggers (the interpreter's own start-up
imports excluded), median of several runs, interleaved with the `import boto3` baseline so
that both see the same machine load.

The interpreter runs as Lambda would start it, not as the development venv would:
- the import path holds only what a deployed function has: the code (functions/), the
  packages of functions/requirements.txt and their dependencies, and boto3 with its
  dependencies (the Lambda Python runtime's). The venv also holds openai, moto, httpx,
  requests and dev tools, and the X-Ray SDK patches every one of those it can import
  (`patch_all`), which a deployed function never pays;
- the environment is Lambda's: LAMBDA_TASK_ROOT (the X-Ray SDK and Powertools Tracer then act
  as on Lambda: tracing on, no sampling poller), AWS_LAMBDA_FUNCTION_NAME, the region, and the
  function's variables from template.yaml.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import FUNCTIONS, functions, log, median, template

BASELINE = "boto3"
TARGET_RATIO = 1.5
RUNTIME_PACKAGES = ["boto3"]  # the Lambda Python runtime ships boto3 (and botocore, s3transfer, jmespath, ...)
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


@dataclass
class ImportFigure:
    module: str
    functions: list[str]
    runs_us: list[int] = field(default_factory=list)
    ready_us: list[int] = field(default_factory=list)  # import + what the first invocation loads (no I/O)
    top: list[tuple[str, int]] = field(default_factory=list)  # largest direct imports of one run

    @property
    def median_us(self) -> float:
        return median(self.runs_us)

    @property
    def ready_median_us(self) -> float:
        return median(self.ready_us)


@dataclass
class ColdStart:
    baseline: ImportFigure
    handlers: list[ImportFigure]
    runs: int
    layout_packages: list[str]
    python: str

    def ratio(self, fig: ImportFigure) -> float:
        return fig.median_us / self.baseline.median_us

    @property
    def worst(self) -> ImportFigure:
        return max(self.handlers, key=lambda f: f.median_us)

    @property
    def target_met(self) -> bool:
        return all(self.ratio(f) <= TARGET_RATIO for f in self.handlers)


def handler_modules(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Handler module -> the functions that use it, from every AWS::Serverless::Function Handler."""
    out: dict[str, list[str]] = {}
    for lid, props in functions(doc).items():
        module = str(props["Handler"]).rsplit(".", 1)[0]
        out.setdefault(module, []).append(lid)
    return out


# --- the deployment layout ----------------------------------------------------------------
def _closure(requirements: list[str]) -> dict[str, Any]:
    """Installed distributions that the requirements pull in (extras and markers honoured)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    seen: dict[str, tuple[Any, set[str]]] = {}
    stack = [Requirement(r) for r in requirements]
    while stack:
        req = stack.pop()
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue
        prev = seen.get(key)
        if prev is not None and set(req.extras) <= prev[1]:
            continue
        extras = (prev[1] if prev else set()) | set(req.extras)
        seen[key] = (dist, extras)
        for spec in dist.requires or []:
            dep = Requirement(spec)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (extras or {""})):
                stack.append(dep)
    return {k: v[0] for k, v in seen.items()}


def lambda_layout(into: Path) -> list[str]:
    """Symlink what a deployed function can import into `into`; returns 'name==version' of each package."""
    lines = (FUNCTIONS / "requirements.txt").read_text().splitlines()
    reqs = [ln.split("#", 1)[0].strip() for ln in lines]
    dists = _closure([r for r in reqs if r] + RUNTIME_PACKAGES)
    for dist in dists.values():
        tops = {f.parts[0] for f in dist.files or [] if f.parts and not f.parts[0].startswith("..")}
        for top in tops - {"__pycache__", "bin"}:
            src = Path(str(dist.locate_file(top)))
            if src.exists() and not (into / top).exists():
                (into / top).symlink_to(src)
    return sorted(f"{d.metadata['Name']}=={d.version}" for d in dists.values())


def lambda_env(doc: dict[str, Any], logical_id: str, task_root: Path) -> dict[str, str]:
    """The variables Lambda sets, plus the function's own from template.yaml (intrinsics as placeholders)."""
    props = functions(doc)[logical_id]
    variables: dict[str, Any] = {}
    variables.update(doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    variables.update(props.get("Environment", {}).get("Variables", {}))
    env = {k: (v if isinstance(v, str) else f"{logical_id}-{k.lower()}") for k, v in variables.items()}
    env.update({
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
        "LAMBDA_TASK_ROOT": str(task_root), "LAMBDA_RUNTIME_DIR": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": f"unblock-{logical_id}", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 256)),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "_HANDLER": str(props.get("Handler", "")),
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",  # never used: nothing is called
        "PYTHONPATH": os.pathsep.join([str(task_root), str(FUNCTIONS)]),
    })
    return env


# --- measuring -----------------------------------------------------------------------------
def _importtime(code: str, env: dict[str, str]) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) for every import the code triggers; -S: no site-packages."""
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", code], env=env, cwd=tempfile.gettempdir(),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{code!r} failed in the Lambda layout:\n{proc.stderr[-2000:]}")
    rows = []
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    return rows


def _startup_modules(env: dict[str, str]) -> set[str]:
    return {name for _, _, depth, name in _importtime("pass", env) if depth == 0}


def _import_cost(module: str, env: dict[str, str], startup: set[str]) -> tuple[int, list[tuple[str, int]]]:
    rows = _importtime(f"import {module}", env)
    top = [(name, cum) for _, cum, depth, name in rows if depth == 0 and name not in startup]
    direct = sorted(((name, cum) for _, cum, depth, name in rows if depth == 1), key=lambda t: -t[1])
    return sum(cum for _, cum in top), direct[:4]


_READY = """
import time, sys
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
# what a step handler's first invocation loads before its first request (no I/O): the Tracer, boto3
# with the DynamoDB resource model (unblock.composition._dynamodb), pydantic validation of its input.
from unblock import observability
from unblock import composition
getattr(observability.tracer, "provider", None)
composition._dynamodb().Table("bench")
t2 = time.perf_counter()
sys.stdout.write(f"{{int((t1 - t0) * 1e6)}} {{int((t2 - t0) * 1e6)}}")
"""


def _ready(module: str, env: dict[str, str]) -> int:
    proc = subprocess.run([sys.executable, "-S", "-c", _READY.format(module=module)], env=env,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"first-use of {module} failed:\n{proc.stderr[-2000:]}")
    return int(proc.stdout.split()[1])


def measure(runs: int = 5) -> ColdStart:
    doc = template()
    modules = handler_modules(doc)
    with tempfile.TemporaryDirectory(prefix="unblock-lambda-task-") as tmp:
        root = Path(tmp)
        packages = lambda_layout(root)
        first_fn = {m: fns[0] for m, fns in modules.items()}
        envs = {m: lambda_env(doc, fn, root) for m, fn in first_fn.items()}
        base_env = envs[next(iter(envs))]
        startup = _startup_modules(base_env)
        baseline = ImportFigure(BASELINE, [])
        figs = [ImportFigure(m, fns) for m, fns in modules.items()]
        # warm the bytecode caches once (a deployed package ships compiled dependencies)
        for fig in [baseline, *figs]:
            _import_cost(fig.module, envs.get(fig.module, base_env), startup)
        t0 = time.perf_counter()
        for _ in range(runs):
            for fig in figs:  # interleaved: each handler run sits next to a baseline run
                us, _top = _import_cost(BASELINE, base_env, startup)
                baseline.runs_us.append(us)
                us, top = _import_cost(fig.module, envs[fig.module], startup)
                fig.runs_us.append(us)
                fig.top = top
        for fig in figs:
            fig.ready_us = [_ready(fig.module, envs[fig.module]) for _ in range(max(1, runs // 2))]
        log(f"cold start: {len(figs)} handler modules x {runs} runs in {time.perf_counter() - t0:.0f}s")
    return ColdStart(baseline, figs, runs, packages, sys.version.split()[0])

