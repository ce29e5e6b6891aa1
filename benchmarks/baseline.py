"""Today's figure: the layout before issue 17 (commit 8eef764), measured in the same run.

Issue 17 turned the nine workflow functions (OpenCase, CheckBilling, CheckKey, CheckRestrictions,
Decide, ApplyFixes, Verify, Escalate, CloseCase) into three (Diagnose, Fix, Outcome) and dropped the
Powertools Tracer. Its targets are ratios to the layout before, so `make bench` measures that
layout too, on the same machine in the same run: the tree of BASELINE_REF is extracted from git
history (`git archive`) into a temporary directory, and
- its handler modules are imported in a fresh interpreter with its own requirements and template
  (benchmarks/coldstart.py);
- its own CLI (`python -m unblock_dev.cli run <events> --json --decide resolve`) runs the same
  scenario events in a subprocess, for the Result trace of each (state transitions, Lambda
  invocations, the distinct functions).

CI runs on a clean clone, so the history is there; where it is not (a shallow clone, an archive),
the baseline is reported as unavailable and the targets that need it as not measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, TEMPLATE, log, template

BASELINE_REF = "8eef764"
# what an auto-fixed case invoked before issue 17, if the baseline's own traces are not at hand
BASELINE_AUTO_FIX_FUNCTIONS = ["OpenCaseFunction", "CheckBillingFunction", "CheckKeyFunction",
                               "CheckRestrictionsFunction", "DecideFunction", "ApplyFixesFunction",
                               "VerifyFunction", "CloseCaseFunction"]


@dataclass(frozen=True)
class Tree:
    """A source tree of the application: its functions/, template.yaml and requirements."""

    label: str
    root: Path

    @property
    def functions(self) -> Path:
        return self.root / "functions"

    @property
    def template_path(self) -> Path:
        return self.root / TEMPLATE.name

    def requirements(self) -> list[str]:
        lines = (self.functions / "requirements.txt").read_text().splitlines()
        return [r for r in (ln.split("#", 1)[0].strip() for ln in lines) if r]

    def template(self) -> dict[str, Any]:
        return template(self.template_path)


CURRENT = Tree("this tree", ROOT)


@dataclass
class CliRun:
    event: str
    outcome: str
    team_id: str | None
    states: list[str]
    transitions: int
    invocations: int
    functions: list[str]


@dataclass
class Baseline:
    ref: str
    tree: Tree | None  # None: unavailable (see `reason`)
    reason: str = ""
    runs: dict[str, CliRun] = field(default_factory=dict)  # event -> its Result trace on the baseline
    control: dict[str, CliRun] = field(default_factory=dict)  # the same events on this tree's CLI
    groups: list[list[str]] = field(default_factory=list)
    error: str = ""  # the CLI runs failed (the tree itself may still be measured)

    @property
    def available(self) -> bool:
        return self.tree is not None


@contextlib.contextmanager
def extracted(ref: str = BASELINE_REF) -> Iterator[Baseline]:
    """The tree of `ref` in a temporary directory for the duration of the block."""
    with tempfile.TemporaryDirectory(prefix="unblock-baseline-") as tmp:
        reason = _extract(ref, Path(tmp))
        if reason:
            log(f"baseline {ref}: unavailable ({reason})")
            yield Baseline(ref, None, reason)
        else:
            yield Baseline(ref, Tree(ref, Path(tmp)))


def _extract(ref: str, into: Path) -> str:
    """'' when the tree of `ref` is in `into`, else why not."""
    try:
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", "--format=tar", ref],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as err:
        return f"git is not available: {err.strerror}"
    assert archive.stdout is not None
    tar = subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, capture_output=True, check=False)
    archive.stdout.close()
    _, stderr = archive.communicate()
    if archive.returncode != 0:
        return f"`git archive {ref}` failed: {stderr.decode(errors='replace').strip()[:300]}"
    if tar.returncode != 0:
        return f"tar failed: {tar.stderr.decode(errors='replace').strip()[:300]}"
    if not (into / "functions" / "requirements.txt").exists() or not (into / TEMPLATE.name).exists():
        return f"{ref} has no functions/requirements.txt or {TEMPLATE.name}"
    return ""


# --- the baseline's own CLI -------------------------------------------------------------------
def groups_by_team(events: Sequence[str], teams: dict[str, str | None]) -> list[list[str]]:
    """The events in as few groups as can run on one stack each: no team twice in a group.

    The CLI runs its events in order on one stack without reseeding the sandbox: a second case of
    a team that the first one fixed would find nothing to fix. `teams` (event -> team id, from this
    tree's runs) keeps such events apart; an event without a team changes nothing on the platform.
    """
    groups: list[tuple[list[str], set[str]]] = []
    for event in events:
        team = teams.get(event)
        for members, seen in groups:
            if team is None or team not in seen:
                members.append(event)
                if team is not None:
                    seen.add(team)
                break
        else:
            groups.append(([event], {team} if team else set()))
    return [members for members, _ in groups]


def _cli(tree: Tree, events: list[str], events_dir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (tree.functions, tree.root / "tools", tree.root))
    cmd = [sys.executable, "-m", "unblock_dev.cli", "run", *(str(events_dir / e) for e in events),
           "--json", "--decide", "resolve"]
    return subprocess.Popen(cmd, cwd=tree.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _parse(events: list[str], out: str) -> dict[str, CliRun]:
    lines = [ln for ln in out.splitlines() if ln.strip().startswith("{")]
    if len(lines) != len(events):
        raise RuntimeError(f"expected {len(events)} results, got {len(lines)}")
    runs = {}
    for event, line in zip(events, lines, strict=True):
        r = json.loads(line)
        tr = r.get("trace") or {}
        runs[event] = CliRun(event, str(r.get("outcome")), r.get("team_id"), list(tr.get("states", [])),
                             int(tr.get("state_transitions", 0)), int(tr.get("lambda_invocations", 0)),
                             list(tr.get("lambda_functions", [])))
    return runs


def run_cli(trees: Sequence[Tree], groups: list[list[str]], events_dir: Path,
            timeout: float = 1200.0) -> list[dict[str, CliRun]]:
    """Each tree's CLI over every group of events, all subprocesses at once; per tree, event -> trace.

    The events are the files of `events_dir` (this tree's: the same sample events for both)."""
    t0 = time.perf_counter()
    procs = [(i, g, _cli(tree, g, events_dir)) for i, tree in enumerate(trees) for g in groups if g]
    out: list[dict[str, CliRun]] = [{} for _ in trees]
    failures = []
    for i, group, proc in procs:
        try:
            stdout, stderr = proc.communicate(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failures.append(f"{trees[i].label}: timed out after {timeout:.0f} s")
            continue
        if proc.returncode != 0:
            failures.append(f"{trees[i].label}: exit {proc.returncode}: {stderr.strip()[-500:]}")
            continue
        try:
            out[i].update(_parse(group, stdout))
        except (RuntimeError, ValueError) as err:
            failures.append(f"{trees[i].label}: {err}")
    if failures:
        raise RuntimeError("; ".join(failures))
    log(f"baseline CLI: {len(procs)} runs ({', '.join(t.label for t in trees)}) in {time.perf_counter() - t0:.0f}s")
    return out


def transitions(baseline: Baseline, events: list[str], teams: dict[str, str | None], events_dir: Path) -> None:
    """Fill `baseline.runs` (the baseline's CLI) and `baseline.control` (this tree's CLI, the same way)."""
    if baseline.tree is None:
        return
    # a sample added after the baseline may need what the baseline lacks (a help-desk look-up, a new kind of
    # event): the comparison takes the samples the baseline tree has itself, and says which it leaves out
    newer = [e for e in events if not (baseline.tree.root / "events" / e).exists()]
    if newer:
        log(f"baseline {baseline.ref}: skipped {len(newer)} samples it does not have (added since): {', '.join(newer)}")
    events = [e for e in events if e not in newer]
    baseline.groups = groups_by_team(events, teams)
    try:
        baseline.runs, baseline.control = run_cli([baseline.tree, CURRENT], baseline.groups, events_dir)
    except RuntimeError as err:
        baseline.error = str(err)
        log(f"baseline CLI failed: {err}")
