"""2. Cost per case: state transitions and Lambda invocations per outcome, priced at AWS list prices.

Every scenario event in events/ runs through the embedded stack (template.yaml + the real ASL on
moto), one case at a time on a freshly seeded sandbox. Per case:
- state transitions and workflow Lambda invocations from the execution history (the Result trace);
- every Lambda call, including the intake (IntakeFunction or WebhookFunction) and the
  NotifyFunction delivering the reply, timed in-process around LocalStack._dispatch, with the
  workflow step it served (one function serves several states: DiagnoseFunction.open_case, ...);
- an escalated case is taken to its end with a staff decision (resolve), so that its price
  includes the states after the human queue.

Beside each, the same event's trace on the layout before issue 17 (benchmarks/baseline.py).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.baseline import Baseline, CliRun
from benchmarks.common import ROOT, architecture, log, median, memory_mb, quiet_stdout, template
from benchmarks.embedded import Call, Recorder, load_event, reseed, scenario_names

TARGET_AUTO_FIX_TRANSITIONS = 9  # issue 17 (today 12); every other outcome: no more than today
TARGET_FUNCTIONS_PER_PATH = 3  # distinct Lambda functions on any path through the state machine


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
    functions: list[str] = field(default_factory=list)  # distinct workflow functions (Result trace)
    team_id: str | None = None

    @property
    def to_verified_ms(self) -> float | None:
        """Submit to the end of the fix step whose verification closes the case as auto_fixed."""
        verified = [c for c in self.calls if c.verified]
        return (verified[0].end - self.t_submit) * 1000 if verified else None

    @property
    def handler_ms(self) -> float:
        return sum(c.ms for c in self.calls)


@dataclass
class OutcomeCost:
    outcome: str
    cases: int
    transitions: float
    invocations: dict[str, float]  # call key (function, or function.step) -> invocations per case
    requests_usd: float
    compute_usd: float
    transitions_usd: float
    compute_usd_at_100ms: float
    path: list[str]
    functions: list[str]  # the distinct workflow functions of the most common path
    max_functions: int  # the most distinct workflow functions of any case of this outcome

    @property
    def total_usd(self) -> float:
        return self.transitions_usd + self.requests_usd + self.compute_usd

    @property
    def lambda_invocations(self) -> float:
        return sum(self.invocations.values())


@dataclass
class CostReport:
    runs: list[CaseRun]
    durations_ms: dict[str, float]  # call key (function, or function.step) -> median in-process duration
    samples: dict[str, int]
    memory: dict[str, int]  # call key -> the function's MemorySize
    by_outcome: dict[str, OutcomeCost]
    state_types: dict[str, str]
    prices: Prices = PRICES
    skipped: dict[str, str] = field(default_factory=dict)  # sample -> why it could not be played here

    def played(self) -> list[str]:
        """The samples this report's cases come from (the later sections play these too)."""
        return list(dict.fromkeys(r.event for r in self.runs))

    @property
    def auto_fix(self) -> OutcomeCost | None:
        return self.by_outcome.get("auto_fixed")

    @property
    def max_auto_fix_transitions(self) -> int:
        return max((r.transitions for r in self.runs if r.outcome == "auto_fixed"), default=0)

    @property
    def target_met(self) -> bool:
        fixed = [r for r in self.runs if r.outcome == "auto_fixed"]
        return bool(fixed) and self.max_auto_fix_transitions <= TARGET_AUTO_FIX_TRANSITIONS

    @property
    def max_functions(self) -> int:
        return max((len(r.functions) for r in self.runs), default=0)

    @property
    def functions_target_met(self) -> bool:
        return bool(self.runs) and self.max_functions <= TARGET_FUNCTIONS_PER_PATH

    def auto_fix_functions(self) -> list[str]:
        """The distinct functions auto-fixed cases invoke (all of them, in first-use order)."""
        out: list[str] = []
        for r in self.runs:
            if r.outcome == "auto_fixed":
                out += [fn for fn in r.functions if fn not in out]
        return out

    def teams(self) -> dict[str, str | None]:
        return {r.event: r.team_id for r in self.runs}


def state_types(doc: dict[str, Any] | None = None, root: Path = ROOT) -> dict[str, str]:
    """State name -> Type, from the state machine definition that template.yaml names (this tree's, or
    another tree's template and root)."""
    doc = doc if doc is not None else template()
    out: dict[str, str] = {}
    for res in doc["Resources"].values():
        if res["Type"] == "AWS::Serverless::StateMachine":
            uri = res["Properties"].get("DefinitionUri")
            if isinstance(uri, str):
                definition = json.loads((root / uri).read_text())
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
    event = load_event(name, helpdesk=app.helpdesk)
    if (at := event_time(event)) is not None:
        app.clock.set(at)
    mark = rec.mark()
    t_submit = time.perf_counter()
    case_id = app.submit(event)
    case = app.wait(case_id)
    result = app.client.result(case)
    queued: list[str] = []
    if case.status == "awaiting_staff" and staff_decision:
        queued = list(result.trace.states)
        result = app.decide(case_id, staff_decision)
    app.deliver_replies()
    return CaseRun(name, case_id, str(result.outcome), list(result.trace.states), result.trace.state_transitions,
                   result.trace.lambda_invocations, rec.since(mark), t_submit, queued,
                   list(result.trace.lambda_functions), result.team_id)


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
        per_fn = Counter(c.key for r in rs for c in r.calls)
        invocations = {fn: k / n for fn, k in per_fn.items()}
        transitions = sum(r.transitions for r in rs) / n
        gb_s = sum(k * memory[fn] / 1024 * billed_seconds(durations[fn]) for fn, k in invocations.items())
        gb_s_100 = sum(k * memory[fn] / 1024 * 0.1 for fn, k in invocations.items())
        common = Counter(tuple(r.states) for r in rs).most_common(1)[0][0]
        fns = next(r.functions for r in rs if tuple(r.states) == common)
        out[outcome] = OutcomeCost(
            outcome=outcome, cases=n, transitions=transitions, invocations=invocations,
            requests_usd=sum(invocations.values()) * prices.request_per_1m / 1e6,
            compute_usd=gb_s * prices.gb_second,
            transitions_usd=transitions * prices.transition_per_1k / 1000,
            compute_usd_at_100ms=gb_s_100 * prices.gb_second,
            path=list(common),
            functions=list(fns),
            max_functions=max(len(r.functions) for r in rs),
        )
    return out


def measure(app: Any, rec: Recorder, reps: int = 2, extra_calls: list[Call] | None = None,
            names: list[str] | None = None) -> CostReport:
    """Every scenario sample `reps` times; a sample the embedded stack refuses (BadEvent) or takes without
    opening a case (OpensNoCase: it needs something this stack lacks) is skipped with a line saying why,
    never a crash of the whole run."""
    from unblock_dev.local.app import BadEvent, OpensNoCase

    doc = template()
    t0 = time.perf_counter()
    runs: list[CaseRun] = []
    skipped: dict[str, str] = {}
    with quiet_stdout():
        for _ in range(reps):
            for name in names if names is not None else scenario_names():
                if name in skipped:
                    continue
                try:
                    runs.append(run_case(app, rec, name))
                except (BadEvent, OpensNoCase) as err:
                    skipped[name] = str(err)
                    log(f"cost: skipped {name}: not a case on the embedded stack ({err})")
    log(f"cost: {len(runs)} cases in {time.perf_counter() - t0:.0f}s" + (f", {len(skipped)} samples skipped"
                                                                           if skipped else ""))
    out = report(runs, doc, extra_calls or [])
    out.skipped = skipped
    return out


def report(runs: list[CaseRun], doc: dict[str, Any], extra_calls: list[Call]) -> CostReport:
    by_fn: dict[str, list[float]] = defaultdict(list)
    function_of: dict[str, str] = {}
    for c in [*(c for r in runs for c in r.calls), *extra_calls]:
        if c.ok:
            by_fn[c.key].append(c.ms)
            function_of[c.key] = c.function
    durations = {key: median(v) for key, v in by_fn.items()}
    memory = {key: memory_mb(doc, function_of[key]) for key in durations}
    archs = {architecture(doc, function_of[key]) for key in durations}
    if archs != {PRICES.architecture}:
        log(f"cost: functions run on {sorted(archs)}, priced as {PRICES.architecture}")
    return CostReport(runs, durations, {fn: len(v) for fn, v in by_fn.items()}, memory,
                      price(runs, durations, memory), state_types())


# --- before and after issue 17 (the baseline's CLI traces, benchmarks/baseline.py) ------------------
@dataclass
class EventCompare:
    event: str
    now: CaseRun
    before: CliRun | None
    control: CliRun | None  # this tree's CLI, run the way the baseline's was

    @property
    def same_outcome(self) -> bool:
        return self.before is not None and self.before.outcome == self.now.outcome

    @property
    def not_more(self) -> bool:
        return self.before is not None and self.now.transitions <= self.before.transitions


@dataclass
class OutcomeCompare:
    outcome: str
    events: list[EventCompare]

    @property
    def now_transitions(self) -> int:
        return max(e.now.transitions for e in self.events)

    @property
    def before_transitions(self) -> int | None:
        xs = [e.before.transitions for e in self.events if e.before]
        return max(xs) if xs else None

    @property
    def now_calls(self) -> int:
        return max(e.now.workflow_invocations for e in self.events)

    @property
    def before_calls(self) -> int | None:
        xs = [e.before.invocations for e in self.events if e.before]
        return max(xs) if xs else None

    @property
    def now_functions(self) -> int:
        return max(len(e.now.functions) for e in self.events)

    @property
    def before_functions(self) -> int | None:
        xs = [len(e.before.functions) for e in self.events if e.before]
        return max(xs) if xs else None

    def path(self, before: bool = False) -> list[str]:
        paths = [tuple(e.before.states) for e in self.events if e.before] if before else \
            [tuple(e.now.states) for e in self.events]
        return list(Counter(paths).most_common(1)[0][0]) if paths else []

    def path_functions(self, before: bool = False) -> list[str]:
        """The distinct functions of a case that took the most common path."""
        common = self.path(before)
        for e in self.events:
            run = e.before if before else e.now
            if run is not None and list(run.states) == common:
                return list(run.functions)
        return []

    def function_list(self, before: bool = False) -> list[str]:
        out: list[str] = []
        for e in self.events:
            run = e.before if before else e.now
            if run is not None:
                out += [fn for fn in run.functions if fn not in out]
        return out


@dataclass
class Comparison:
    """Each scenario event on this tree (the cost runs) and on the baseline (its CLI), one run of each."""

    baseline: Baseline
    events: list[EventCompare]

    @property
    def available(self) -> bool:
        return bool(self.baseline.runs)

    def outcomes(self) -> list[OutcomeCompare]:
        grouped: dict[str, list[EventCompare]] = defaultdict(list)
        for e in self.events:
            grouped[e.now.outcome].append(e)
        return [OutcomeCompare(o, es) for o, es in grouped.items()]

    def outcome(self, name: str) -> OutcomeCompare | None:
        return next((o for o in self.outcomes() if o.outcome == name), None)

    @property
    def differing(self) -> list[EventCompare]:
        """Events whose outcome is not the same on both layouts (their transitions do not compare)."""
        return [e for e in self.events if e.before is not None and not e.same_outcome]

    @property
    def others_not_more(self) -> bool | None:
        """Every event that is not auto-fixed in no more transitions than on the baseline (None: no baseline)."""
        if not self.available:
            return None
        return all(e.not_more for e in self.events if e.now.outcome != "auto_fixed" and e.before is not None)

    @property
    def before_auto_fix_transitions(self) -> int | None:
        o = self.outcome("auto_fixed")
        return o.before_transitions if o else None

    @property
    def before_max_functions(self) -> int | None:
        xs = [len(r.functions) for r in self.baseline.runs.values()]
        return max(xs) if xs else None

    def before_auto_fix_functions(self) -> list[str]:
        o = self.outcome("auto_fixed")
        return o.function_list(before=True) if o else []


def compare(runs: list[CaseRun], baseline: Baseline) -> Comparison:
    """The first run of each event here beside the baseline's run of it."""
    first: dict[str, CaseRun] = {}
    for r in runs:
        first.setdefault(r.event, r)
    return Comparison(baseline, [EventCompare(ev, r, baseline.runs.get(ev), baseline.control.get(ev))
                                 for ev, r in sorted(first.items())])
