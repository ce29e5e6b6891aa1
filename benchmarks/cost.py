"""2. Cost per case: state transitions and Lambda invocations per outcome, priced at AWS list prices.

Every scenario event in events/ runs through the embedded stack (template.yaml + the real ASL on
moto), one case at a time on a freshly seeded sandbox. Per case:
- state transitions and workflow Lambda invocations from the execution history (the Result trace);
- every Lambda call, including the intake (IntakeFunction or WebhookFunction) and the
  NotifyFunction delivering the reply, timed in-process around LocalStack._dispatch;
- an escalated case is taken to its end with a staff decision (resolve), so that its price
  includes the states after the human queue.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common import ROOT, architecture, log, median, memory_mb, quiet_stdout, template
from benchmarks.embedded import Call, Recorder, load_event, reseed, scenario_names

TARGET_AUTO_FIX_TRANSITIONS = 20


@dataclass(frozen=True)
class Prices:
    region: str = "us-east-1"
    transition_per_1k: float = 0.025  # Step Functions Standard, per 1,000 state transitions
    request_per_1m: float = 0.20  # Lambda, per 1M requests
    gb_second: float = 0.0000133334  # Lambda arm64, per GB-second (first pricing tier)
    architecture: str = "arm64"


PRICES = Prices()


@dataclass
class CaseRun:
    event: str
    case_id: str
    outcome: str
    states: list[str]
    transitions: int
    workflow_invocations: int
    calls: list[Call]
    t_submit: float
    queued_states: list[str] = field(default_factory=list)  # escalated: the path up to the human queue

    def calls_of(self, function: str) -> list[Call]:
        return [c for c in self.calls if c.function == function]

    @property
    def to_verified_ms(self) -> float | None:
        verified = [c for c in self.calls_of("VerifyFunction")
                    if c.ok and isinstance(c.result, dict) and c.result.get("outcome") == "auto_fixed"]
        return (verified[0].end - self.t_submit) * 1000 if verified else None

    @property
    def handler_ms(self) -> float:
        return sum(c.ms for c in self.calls)


@dataclass
class OutcomeCost:
    outcome: str
    cases: int
    transitions: float
    invocations: dict[str, float]  # function -> invocations per case
    requests_usd: float
    compute_usd: float
    transitions_usd: float
    compute_usd_at_100ms: float
    path: list[str]

    @property
    def total_usd(self) -> float:
        return self.transitions_usd + self.requests_usd + self.compute_usd

    @property
    def lambda_invocations(self) -> float:
        return sum(self.invocations.values())


@dataclass
class CostReport:
    runs: list[CaseRun]
    durations_ms: dict[str, float]  # function -> median in-process duration
    samples: dict[str, int]
    memory: dict[str, int]
    by_outcome: dict[str, OutcomeCost]
    state_types: dict[str, str]
    prices: Prices = PRICES

    @property
    def auto_fix(self) -> OutcomeCost | None:
        return self.by_outcome.get("auto_fixed")

    @property
    def target_met(self) -> bool:
        fixed = [r for r in self.runs if r.outcome == "auto_fixed"]
        return bool(fixed) and max(r.transitions for r in fixed) <= TARGET_AUTO_FIX_TRANSITIONS


def state_types() -> dict[str, str]:
    """State name -> Type, from the state machine definition that template.yaml names."""
    doc = template()
    out: dict[str, str] = {}
    for res in doc["Resources"].values():
        if res["Type"] == "AWS::Serverless::StateMachine":
            uri = res["Properties"].get("DefinitionUri")
            if isinstance(uri, str):
                definition = json.loads((ROOT / uri).read_text())
                _collect_states(definition, out)
    return out


def _collect_states(definition: dict[str, Any], out: dict[str, str]) -> None:
    for name, state in definition.get("States", {}).items():
        out[name] = state.get("Type", "?")
        for branch in state.get("Branches", []):
            _collect_states(branch, out)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                _collect_states(state[key], out)


def run_case(app: Any, rec: Recorder, name: str, *, staff_decision: str | None = "resolve") -> CaseRun:
    from unblock_dev.local.app import event_time

    reseed(app)
    event = load_event(name)
    if (at := event_time(event)) is not None:
        app.clock.set(at)
    mark = rec.mark()
    t_submit = time.perf_counter()
    case_id = app.submit(event)
    case = app.wait(case_id)
    result = app.console.result(case)
    queued: list[str] = []
    if case.status == "awaiting_staff" and staff_decision:
        queued = list(result.trace.states)
        result = app.decide(case_id, staff_decision)
    app.deliver_replies()
    return CaseRun(name, case_id, str(result.outcome), list(result.trace.states), result.trace.state_transitions,
                   result.trace.lambda_invocations, rec.since(mark), t_submit, queued)


def billed_seconds(ms: float) -> float:
    return math.ceil(ms) / 1000  # Lambda bills duration in 1 ms steps


def price(runs: list[CaseRun], durations: dict[str, float], memory: dict[str, int],
          prices: Prices = PRICES) -> dict[str, OutcomeCost]:
    grouped: dict[str, list[CaseRun]] = defaultdict(list)
    for r in runs:
        grouped[r.outcome].append(r)
    out: dict[str, OutcomeCost] = {}
    for outcome, rs in grouped.items():
        n = len(rs)
        per_fn = Counter(c.function for r in rs for c in r.calls)
        invocations = {fn: k / n for fn, k in per_fn.items()}
        transitions = sum(r.transitions for r in rs) / n
        gb_s = sum(k * memory[fn] / 1024 * billed_seconds(durations[fn]) for fn, k in invocations.items())
        gb_s_100 = sum(k * memory[fn] / 1024 * 0.1 for fn, k in invocations.items())
        common = Counter(tuple(r.states) for r in rs).most_common(1)[0][0]
        out[outcome] = OutcomeCost(
            outcome=outcome, cases=n, transitions=transitions, invocations=invocations,
            requests_usd=sum(invocations.values()) * prices.request_per_1m / 1e6,
            compute_usd=gb_s * prices.gb_second,
            transitions_usd=transitions * prices.transition_per_1k / 1000,
            compute_usd_at_100ms=gb_s_100 * prices.gb_second,
            path=list(common),
        )
    return out


def measure(app: Any, rec: Recorder, reps: int = 2, extra_calls: list[Call] | None = None) -> CostReport:
    doc = template()
    t0 = time.perf_counter()
    runs: list[CaseRun] = []
    with quiet_stdout():
        for _ in range(reps):
            for name in scenario_names():
                runs.append(run_case(app, rec, name))
    log(f"cost: {len(runs)} cases in {time.perf_counter() - t0:.0f}s")
    return report(runs, doc, extra_calls or [])


def report(runs: list[CaseRun], doc: dict[str, Any], extra_calls: list[Call]) -> CostReport:
    by_fn: dict[str, list[float]] = defaultdict(list)
    for c in [*(c for r in runs for c in r.calls), *extra_calls]:
        if c.ok:
            by_fn[c.function].append(c.ms)
    durations = {fn: median(v) for fn, v in by_fn.items()}
    memory = {fn: memory_mb(doc, fn) for fn in durations}
    archs = {architecture(doc, fn) for fn in durations}
    if archs != {PRICES.architecture}:
        log(f"cost: functions run on {sorted(archs)}, priced as {PRICES.architecture}")
    return CostReport(runs, durations, {fn: len(v) for fn, v in by_fn.items()}, memory,
                      price(runs, durations, memory), state_types())


def savings(report: CostReport) -> list[tuple[str, int, int]]:
    """What could go from the auto-fix path: (change, transitions saved, Lambda calls saved) per case.

    Each row stands on its own; the rows without a negative saving add up. Branching needs Choice
    states (a Task has one Next), so the escalate branch keeps one after the diagnosis and one after
    the verification.
    """
    fixed = report.auto_fix
    if fixed is None:
        return []
    path = fixed.path
    checks = [s for s in path if s.startswith("Check") and report.state_types.get(s) == "Task"]
    out: list[tuple[str, int, int]] = []
    if len(checks) > 1:
        out.append((f"{', '.join(checks)} as one Task: one function runs the three checks, all of them, in turn "
                    "(the evidence is the same)", len(checks) - 1, len(checks) - 1))
        if "Decide" in path:
            out.append(("Decide folded into that Task (a Diagnose step: three checks, then the decision)", 1, 1))
        out.append(("a Parallel state for the three checks instead: faster, not cheaper (the Parallel state is "
                    "one more transition, each branch keeps its own)", -1, 0))
    if "TeamKnown" in path and "Route" in path:
        out.append(("TeamKnown folded into Route: the diagnosis answers needs_info for an unknown team "
                    "(without running the checks), which Route already sends to CloseCase", 1, 0))
    if "ApplyFixes" in path and "Verify" in path:
        merged = 2 if "FixesApplied" in path else 1
        out.append(("ApplyFixes and Verify as one Task (apply, then verify, in one invocation), with one Choice "
                    "after it (escalate or close) instead of FixesApplied and Verified", merged, 1))
    if "OpenCase" in path:
        out.append(("OpenCase done by the intake before StartExecution (it already validates and redacts; the "
                    "execution starts at the diagnosis)", 1, 1))
    return out
