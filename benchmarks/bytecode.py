"""8. Cold start with and without bytecode in the package (issue 36 item 6).

Lambda unpacks a function's zip into /var/task, which is read-only: a module without a .pyc there is
compiled from source on every cold start (Python cannot write the .pyc it made). `sam build` now ships the
bytecode (tools/lambda-build/Makefile). Measured here as Lambda starts a function:
- two task roots, each a copy (not links) of what the zip holds: the unblock package and the wheels of
  functions/requirements.txt; `without`: sources only (what SAM's Python builder shipped), `with`: compiled as
  the Makefile compiles them (this machine's python3.11, unchecked-hash);
- boto3 and its dependencies (Lambda's own, compiled as the runtime ships them) in a third folder both use;
- `python -S` (no site-packages), PYTHONPATH = task root + runtime folder, PYTHONDONTWRITEBYTECODE=1 (the
  read-only /var/task: nothing compiled is kept), the function's environment from template.yaml;
- per handler module: the import, and the import + first use (`_READY` of section 1: observability,
  composition, boto3's DynamoDB resource), wall time, median of `runs`, the two layouts interleaved.

    python -m benchmarks.bytecode [--runs N]    # this section alone, into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.coldstart import _READY, RUNTIME_PACKAGES, closure, handler_modules, lambda_env
from benchmarks.common import FUNCTIONS, ROOT, log, median, template

SECTION = "## 8. Cold start: bytecode in the package"
MODULES = ("unblock.handlers.webhook", "unblock.handlers.fix", "unblock.handlers.diagnose", "unblock.handlers.console")


@dataclass
class Figure:
    module: str
    imported_us: dict[str, list[int]] = field(default_factory=lambda: {"without": [], "with": []})
    ready_us: dict[str, list[int]] = field(default_factory=lambda: {"without": [], "with": []})


def _copy_dists(requirements: list[str], into: Path) -> None:
    """The installed distributions the requirements pull in, copied (no __pycache__) into `into`."""
    for dist in closure(requirements).values():
        tops = {f.parts[0] for f in dist.files or [] if f.parts and not f.parts[0].startswith("..")}
        for top in tops - {"__pycache__", "bin"}:
            src = Path(str(dist.locate_file(top)))
            dst = into / top
            if dst.exists() or not src.exists():
                continue
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dst)


def _compile(root: Path) -> None:
    ok = compileall.compile_dir(str(root), quiet=2, force=True, workers=0,
                                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if not ok:
        raise RuntimeError(f"compileall failed under {root}")


def _requirements() -> list[str]:
    return [line.split("#")[0].strip() for line in (FUNCTIONS / "requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()]


def _layouts(base: Path) -> dict[str, Path]:
    runtime = base / "runtime"
    runtime.mkdir()
    _copy_dists(RUNTIME_PACKAGES, runtime)
    _compile(runtime)  # the Lambda runtime's boto3 is compiled
    roots = {}
    for name in ("without", "with"):
        root = roots[name] = base / name
        root.mkdir()
        shutil.copytree(FUNCTIONS / "unblock", root / "unblock", ignore=shutil.ignore_patterns("__pycache__"))
        _copy_dists(_requirements(), root)
    _compile(roots["with"])
    roots["runtime"] = runtime
    return roots


def _run(module: str, env: dict[str, str]) -> tuple[int, int]:
    proc = subprocess.run([sys.executable, "-S", "-c", _READY.format(module=module)], env=env,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"first use of {module} failed:\n{proc.stderr[-2000:]}")
    imported, ready = (int(x) for x in proc.stdout.split())
    return imported, ready


def measure(runs: int = 9) -> list[Figure]:
    doc = template()
    first_fn = {m: fns[0] for m, fns in handler_modules(doc).items()}
    figures = [Figure(m) for m in MODULES if m in first_fn]
    with tempfile.TemporaryDirectory(prefix="unblock-bytecode-") as tmp:
        roots = _layouts(Path(tmp))
        envs = {}
        for fig in figures:
            for name in ("without", "with"):
                env = lambda_env(doc, first_fn[fig.module], roots[name])
                env.update(PYTHONPATH=os.pathsep.join([str(roots[name]), str(roots["runtime"])]),
                           PYTHONDONTWRITEBYTECODE="1")
                envs[fig.module, name] = env
        for fig in figures:  # once each, untimed: the file system's caches, not Python's
            for name in ("without", "with"):
                _run(fig.module, envs[fig.module, name])
        for _ in range(runs):
            for fig in figures:
                for name in ("without", "with"):
                    imported, ready = _run(fig.module, envs[fig.module, name])
                    fig.imported_us[name].append(imported)
                    fig.ready_us[name].append(ready)
    for fig in figures:
        log(f"bytecode: {fig.module} import {median(fig.imported_us['without']) / 1000:.0f} -> "
            f"{median(fig.imported_us['with']) / 1000:.0f} ms, first use {median(fig.ready_us['without']) / 1000:.0f}"
            f" -> {median(fig.ready_us['with']) / 1000:.0f} ms")
    return figures


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def render(figures: list[Figure], runs: int, load: str = "") -> str:
    def ms(values: list[int]) -> str:
        return f"{median(values) / 1000:.0f} ms"

    rows = ["| Handler module | import, sources only | import, with bytecode | import + first use, sources only | "
            "import + first use, with bytecode | saved per cold start |", "|---|---|---|---|---|---|"]
    for f in figures:
        saved = median(f.ready_us["without"]) - median(f.ready_us["with"])
        rows.append(f"| `{f.module}` | {ms(f.imported_us['without'])} | **{ms(f.imported_us['with'])}** | "
                    f"{ms(f.ready_us['without'])} | **{ms(f.ready_us['with'])}** | {saved / 1000:.0f} ms |")
    return "\n".join([
        SECTION, "",
        f"Written by `python -m benchmarks.bytecode` (`benchmarks/bytecode.py`; `make bench` runs it): wall time, "
        f"median of {runs} runs each, the two layouts interleaved (load average {load or _load()} on "
        f"{os.cpu_count()} CPUs shared with other work: the absolute times are this machine's, the ratio is the "
        f"point), Python {sys.version.split()[0]} `-S` with only "
        "what a deployed function has on its path (the task root's copy of the unblock package and the wheels of "
        "functions/requirements.txt, and Lambda's compiled boto3), nothing written back (`PYTHONDONTWRITEBYTECODE`, "
        "as on the read-only /var/task). \"Sources only\" is what SAM's Python builder shipped: every cold start "
        "compiled the package and its dependencies; \"with bytecode\" is what `sam build` ships now "
        "(tools/lambda-build/Makefile: python3.11, the runtime's magic number, unchecked-hash). First use: "
        "the import plus what the first invocation loads before any I/O (section 1's `_READY`).", "",
        *rows, "",
        "The package grows by its bytecode (DiagnoseFunction's `sam build` folder: 14 MB -> 21 MB unzipped, "
        "3.8 MB -> 6.6 MB zipped with deflate), far below Lambda's 250 MB; a cold start reads the .pyc instead of "
        "compiling "
        "the source, and each function's first invocation is faster by the last column.",
    ])


def update(path: Path, section: str) -> None:
    """Replace this section of BENCHMARKS.md (or add it at the end); the rest stays as it was."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n"), text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bytecode", description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    before = _load()
    figures = measure(args.runs)
    update(args.out, render(figures, args.runs, f"{before} before, {_load()} after"))
    log(f"wrote {SECTION[3:]} into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
