"""1. Cold start: the import cost of each handler module in a fresh interpreter, against `import boto3`,
and the cold path of an auto-fixed case against the layout before issue 17 (benchmarks/baseline.py).

Each figure is `python -X importtime -c "import <module>"` in a new process: the sum of the
cumulative microseconds of the top-level imports it triggers (the interpreter's own start-up
imports excluded), median of several runs, interleaved with the `import boto3` baseline so
that both see the same machine load.

The interpreter runs as Lambda would start it, not as the development venv would:
- the import path holds only what a deployed function has: the code (functions/), the
  packages of functions/requirements.txt and their dependencies, and boto3 with its
  dependencies (the Lambda Python runtime's). The venv also holds openai, moto, httpx,
  requests and dev tools, and the X-Ray SDK (the baseline's Tracer) patches every one of those
  it can import (`patch_all`), which a deployed function never pays;
- the environment is Lambda's: LAMBDA_TASK_ROOT (the X-Ray SDK and Powertools Tracer, where a
  tree still has them, then act as on Lambda: tracing on, no sampling poller),
  AWS_LAMBDA_FUNCTION_NAME, the region, and the function's variables from template.yaml.

The cold path is the sum, over the distinct functions an auto-fixed case invokes, of each one's
"import + first use" (each distinct function is a cold start of its own): this tree's three
against the baseline's eight, both measured here, interleaved.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.baseline import CURRENT, Tree
from benchmarks.common import functions, log, median, task_functions

BASELINE = "boto3"
TARGET_RATIO = 1.5
TARGET_COLD_PATH = 0.4  # the cold path of an auto-fixed case, as a ratio to the baseline's
RUNTIME_PACKAGES = ["boto3"]  # the Lambda Python runtime ships boto3 (and botocore, s3transfer, jmespath, ...)
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


@dataclass
class ImportFigure:
    module: str
    functions: list[str]
    runs_us: list[int] = field(default_factory=list)
    ready_us: list[int] = field(default_factory=list)  # import + what the first invocation loads (no I/O)
    import_wall_us: list[int] = field(default_factory=list)  # the import alone in those runs (wall time)
    top: list[tuple[str, int]] = field(default_factory=list)  # largest direct imports of one run

    @property
    def median_us(self) -> float:
        return median(self.runs_us)

    @property
    def ready_median_us(self) -> float:
        return median(self.ready_us)

    @property
    def import_wall_median_us(self) -> float:
        return median(self.import_wall_us)


@dataclass
class Before:
    """The baseline tree's task-function handler modules, import + first use (wall time)."""

    ref: str
    figures: list[ImportFigure]
    module_of: dict[str, str]  # function -> handler module
    layout_packages: list[str]
    # the handler modules of the same name in both trees (intake, webhook, ...): import, -X importtime
    imports: dict[str, ImportFigure] = field(default_factory=dict)

    def figure(self, module: str) -> ImportFigure:
        return next(f for f in self.figures if f.module == module)


@dataclass
class ColdStart:
    baseline: ImportFigure
    handlers: list[ImportFigure]
    runs: int
    layout_packages: list[str]
    python: str
    module_of: dict[str, str] = field(default_factory=dict)  # function -> handler module
    before: Before | None = None  # the baseline tree (None: unavailable)

    def figure(self, module: str) -> ImportFigure:
        return next(f for f in self.handlers if f.module == module)

    def ratio(self, fig: ImportFigure) -> float:
        return fig.median_us / self.baseline.median_us

    @property
    def worst(self) -> ImportFigure:
        return max(self.handlers, key=lambda f: f.median_us)

    @property
    def target_met(self) -> bool:
        return all(self.ratio(f) <= TARGET_RATIO for f in self.handlers)

    def path(self, fns: list[str]) -> list[tuple[str, str, float]]:
        """(function, handler module, import + first use in us) for each distinct function, this tree."""
        return [(fn, self.module_of[fn], self.figure(self.module_of[fn]).ready_median_us) for fn in fns]

    def path_before(self, fns: list[str]) -> list[tuple[str, str, float]]:
        """The same on the baseline tree."""
        assert self.before is not None
        b = self.before
        return [(fn, b.module_of[fn], b.figure(b.module_of[fn]).ready_median_us) for fn in fns]


@dataclass
class ColdPath:
    """The cold path of an auto-fixed case, this tree against the baseline."""

    now: list[tuple[str, str, float]]
    before: list[tuple[str, str, float]] | None  # None: no baseline

    @property
    def now_us(self) -> float:
        return sum(us for _, _, us in self.now)

    @property
    def before_us(self) -> float | None:
        return sum(us for _, _, us in self.before) if self.before else None

    @property
    def ratio(self) -> float | None:
        b = self.before_us
        return self.now_us / b if b else None

    @property
    def target_met(self) -> bool | None:
        r = self.ratio
        return None if r is None else r <= TARGET_COLD_PATH


def cold_path(cold: ColdStart, fns_now: list[str], fns_before: list[str] | None) -> ColdPath:
    before = cold.path_before(fns_before) if cold.before is not None and fns_before else None
    return ColdPath(cold.path(fns_now), before)


def handler_modules(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Handler module -> the functions that use it, from every AWS::Serverless::Function Handler."""
    out: dict[str, list[str]] = {}
    for lid, props in functions(doc).items():
        module = str(props["Handler"]).rsplit(".", 1)[0]
        out.setdefault(module, []).append(lid)
    return out


# --- the deployment layout ----------------------------------------------------------------
def closure(requirements: list[str]) -> dict[str, Any]:
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


def lambda_layout(into: Path, tree: Tree = CURRENT) -> list[str]:
    """Symlink what a deployed function can import into `into`; returns 'name==version' of each package."""
    dists = closure(tree.requirements() + RUNTIME_PACKAGES)
    for dist in dists.values():
        tops = {f.parts[0] for f in dist.files or [] if f.parts and not f.parts[0].startswith("..")}
        for top in tops - {"__pycache__", "bin"}:
            src = Path(str(dist.locate_file(top)))
            if src.exists() and not (into / top).exists():
                (into / top).symlink_to(src)
    return sorted(f"{d.metadata['Name']}=={d.version}" for d in dists.values())


def lambda_env(doc: dict[str, Any], logical_id: str, task_root: Path, tree: Tree = CURRENT) -> dict[str, str]:
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
        "PYTHONPATH": os.pathsep.join([str(task_root), str(tree.functions)]),
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
# what a step handler's first invocation loads before its first request (no I/O): the Tracer where the
# tree has one (the baseline's LazyTracer builds the Powertools Tracer, which imports the X-Ray SDK and
# patches botocore), and boto3 with the DynamoDB resource model (unblock.composition._dynamodb).
from unblock import observability
from unblock import composition
tracer = getattr(observability, "tracer", None)
if tracer is not None:
    getattr(tracer, "provider", None)
composition._dynamodb().Table("bench")
t2 = time.perf_counter()
sys.stdout.write(f"{{int((t1 - t0) * 1e6)}} {{int((t2 - t0) * 1e6)}}")
"""


def _ready(fig: ImportFigure, env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-S", "-c", _READY.format(module=fig.module)], env=env,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"first-use of {fig.module} failed:\n{proc.stderr[-2000:]}")
    imported, ready = (int(x) for x in proc.stdout.split())
    fig.import_wall_us.append(imported)
    fig.ready_us.append(ready)


def measure(runs: int = 5, before: Tree | None = None, before_ref: str = "") -> ColdStart:
    """This tree's handler modules (import vs boto3, and import + first use), and where `before` (the
    baseline tree) is given, its task functions' modules (import + first use), interleaved with ours."""
    doc = CURRENT.template()
    modules = handler_modules(doc)
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unblock-lambda-task-")))
        packages = lambda_layout(root)
        first_fn = {m: fns[0] for m, fns in modules.items()}
        envs = {m: lambda_env(doc, fn, root) for m, fn in first_fn.items()}
        base_env = envs[next(iter(envs))]
        startup = _startup_modules(base_env)
        baseline = ImportFigure(BASELINE, [])
        figs = [ImportFigure(m, fns) for m, fns in modules.items()]
        old: Before | None = None
        old_envs: dict[str, dict[str, str]] = {}
        if before is not None:
            old_doc = before.template()
            old_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unblock-lambda-before-")))
            old_packages = lambda_layout(old_root, before)
            old_modules = handler_modules(old_doc)
            module_of = {fn: m for m, fns in old_modules.items() for fn in fns}
            tasks = task_functions(old_doc)
            task_modules = list(dict.fromkeys(module_of[fn] for fn in tasks))
            old = Before(before_ref or before.label,
                         [ImportFigure(m, [fn for fn in old_modules[m] if fn in tasks]) for m in task_modules],
                         module_of, old_packages)
            old_envs = {f.module: lambda_env(old_doc, f.functions[0], old_root, before) for f in old.figures}
            for m in modules:
                if m in old_modules:
                    old.imports[m] = ImportFigure(m, old_modules[m])
                    old_envs.setdefault(m, lambda_env(old_doc, old_modules[m][0], old_root, before))
        # warm the bytecode caches once (a deployed package ships compiled dependencies)
        for fig in [baseline, *figs]:
            _import_cost(fig.module, envs.get(fig.module, base_env), startup)
        for fig in [*old.figures, *old.imports.values()] if old else []:
            _import_cost(fig.module, old_envs[fig.module], startup)
        t0 = time.perf_counter()
        for _ in range(runs):
            for fig in figs:  # interleaved: each handler run sits next to a baseline run
                us, _top = _import_cost(BASELINE, base_env, startup)
                baseline.runs_us.append(us)
                us, top = _import_cost(fig.module, envs[fig.module], startup)
                fig.runs_us.append(us)
                fig.top = top
                if old and (same := old.imports.get(fig.module)):  # the baseline's module of that name, next to it
                    us, top = _import_cost(same.module, old_envs[same.module], startup)
                    same.runs_us.append(us)
                    same.top = top
        t1 = time.perf_counter()
        # import + first use: this tree's modules and the baseline's in turn, so that both see the same load
        pairs = [(f, envs[f.module]) for f in figs]
        old_pairs = [(f, old_envs[f.module]) for f in old.figures] if old else []
        order = [p for pair in itertools.zip_longest(pairs, old_pairs) for p in pair if p is not None]
        for _ in range(runs):
            for fig, env in order:
                _ready(fig, env)
        log(f"cold start: {len(figs)} handler modules x {runs} runs in {t1 - t0:.0f}s; import + first use: "
            f"{len(order)} modules x {runs} runs in {time.perf_counter() - t1:.0f}s")
    module_of = {fn: m for m, fns in modules.items() for fn in fns}
    return ColdStart(baseline, figs, runs, packages, sys.version.split()[0], module_of, old)
