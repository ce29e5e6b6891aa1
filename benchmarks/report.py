"""BENCHMARKS.md from the measurements of one run."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks import coldstart, console, cost, package, recheck
from benchmarks.baseline import Baseline
from benchmarks.common import median, percentile, task_functions, template
from benchmarks.throughput import Throughput

RECHECK_HEADER = (
    "| Pending | Due | Index query items | Cases loaded | Items read by the re-check | Query ConsumedCapacity (moto) "
    "| A Scan would read | `due()` | `recheck_due()` | Actions |\n"
    "|---|---|---|---|---|---|---|---|---|---|")
OUTCOME_ORDER = ["auto_fixed", "customer_action", "escalated", "already_working", "needs_info"]


@dataclass
class Packages:
    now: package.Package
    before: package.Package | None  # None: no baseline


@dataclass
class Before:
    """What the run measured of the layout before issue 17 (benchmarks/baseline.py)."""

    baseline: Baseline
    comparison: cost.Comparison
    cold_path: coldstart.ColdPath
    packages: Packages
    state_types: dict[str, str] = field(default_factory=dict)  # the baseline's ASL: state -> Type

    @property
    def ref(self) -> str:
        return self.baseline.ref

    @property
    def why_not(self) -> str:
        """Why the baseline's traces are missing ('' when they are here)."""
        if not self.baseline.available:
            return f"baseline {self.ref} unavailable: {self.baseline.reason}"
        if self.baseline.error:
            return f"the baseline's CLI failed: {self.baseline.error[:300]}"
        return ""


def _word(met: bool | None) -> str:
    """A target's state, for text that is already bold."""
    if met is None:
        return "not measured (no baseline)"
    return "met" if met else "missed"


def _ok(met: bool | None) -> str:
    return f"**{_word(met)}**" if met is False else _word(met)


def _x(num: float | None, den: float | None) -> str:
    return f"{num / den:.2f}x" if num is not None and den else "-"


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _ms(us_or_ms: float, *, us: bool = False) -> str:
    value = us_or_ms / 1000 if us else us_or_ms
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _usd(x: float) -> str:
    if x < 0:
        return "-" + _usd(-x)
    if x == 0:
        return "$0"
    if x >= 0.01:
        return f"${x:,.3f}"
    return f"${x:.5f}"


def render(info: dict[str, str], cold: coldstart.ColdStart, prices: cost.CostReport, scaling: recheck.Scaling,
           flow: Throughput, before: Before, console_reads: console.ConsoleReads | None = None, *,
           quick: bool = False) -> str:
    parts = [
        _header(info, quick, before),
        _summary(cold, prices, scaling, flow, before),
        _cold(cold, before),
        _package(before.packages, before.ref),
        _cost(prices, before),
        _recheck(scaling),
        _throughput(flow, prices),
        _console(console_reads) if console_reads else "",
    ]
    text = "\n\n".join(p.strip("\n") for p in parts if p) + "\n"
    return splice_console(text, console_reads) if console_reads else text


# --- header and summary --------------------------------------------------------------------
def _header(info: dict[str, str], quick: bool, before: Before) -> str:
    note = "\n> **Quick run** (`--quick`): fewer repetitions; not the figures of record.\n" if quick else ""
    if before.why_not:
        note += f"\n> **No baseline**: {before.why_not}. The targets measured against it are not measured.\n"
    return f"""# Benchmarks

Written by `make bench` (`python -m benchmarks.run`, code in `benchmarks/`); every figure below comes from
one run, and where a baseline fits, it was measured in that same run and each figure is given as a
ratio to it, so that runs on different machines compare.
{note}
| | |
|---|---|
| Date | {info['date']} |
| Machine | {info['cpus']} CPUs ({info['cpu']}), {info['platform']} |
| Python | {info['python']} |
| Load average (1/5/15 min) | before {info['load']}, after {info.get('load_after', '')} |
| Duration of the run | {info.get('elapsed', '?')} |

The embedded stack is the local one (`unblock_dev.local`): template.yaml and the real ASL on moto, handlers
called in-process. Absolute times on it are this machine's and moto's; the ratios, counts and prices
are what carries over to AWS.

"Before" is the layout before issue 17 (one cold start per role, fewer states, a lighter package):
commit {before.ref}, nine workflow functions and the Powertools Tracer. Its tree is extracted from git
history (`git archive {before.ref}`) and measured in this same run: its handler modules with its own
requirements and template, and its own CLI on the same scenario events (`benchmarks/baseline.py`)."""


def _summary(cold: coldstart.ColdStart, prices: cost.CostReport, scaling: recheck.Scaling,
             flow: Throughput, before: Before) -> str:
    worst = cold.worst
    max_tr = prices.max_auto_fix_transitions
    fx = prices.auto_fix
    a, b = scaling.points[0], scaling.points[-1]
    verified = flow.verified_ms
    fixed_closed = [t.latency_ms for t in flow.tickets if t.to_verified_ms is not None]
    comp, cp, pk = before.comparison, before.cold_path, before.packages
    ref = before.ref
    per_outcome = ", ".join(f"{o.outcome} {o.now_functions}" for o in _ordered(comp.outcomes()))
    per_outcome += f"; the state machine names {len(task_functions(template()))} in all"
    before_fns = comp.before_max_functions
    before_tr = comp.before_auto_fix_transitions
    others = [o for o in _ordered(comp.outcomes()) if o.outcome != "auto_fixed"]
    others_now = ", ".join(f"{o.outcome} {o.now_transitions}" for o in others)
    others_before = ", ".join(f"{o.outcome} {o.before_transitions}" for o in others) if comp.available else "-"
    tr_met = prices.target_met and (comp.others_not_more is not False)
    pk_before = (f"{_mb(pk.before.size)}, botocore {'in it' if pk.before.botocore else 'not in it'}"
                 if pk.before else "-")
    rows = [
        ("Distinct Lambda functions on a path (the most of any case)", f"**{prices.max_functions}** ({per_outcome})",
         f"{before_fns if before_fns is not None else '-'} ({ref})", _x(prices.max_functions, before_fns),
         f"<= {cost.TARGET_FUNCTIONS_PER_PATH}", _ok(prices.functions_target_met)),
        ("State transitions, auto-fixed case", f"**{max_tr}**", f"{before_tr if before_tr is not None else '-'} ({ref})",
         _x(max_tr, before_tr), f"<= {cost.TARGET_AUTO_FIX_TRANSITIONS}", _ok(prices.target_met)),
        ("State transitions, every other outcome (the most of its cases)", others_now, others_before,
         "-", "each event <= before", _ok(comp.others_not_more)),
        ("Dependencies in the zip, unzipped (functions/requirements.txt closure)",
         f"**{_mb(pk.now.size)}**, botocore {'in it' if pk.now.botocore else 'not in it'}", pk_before,
         _x(pk.now.size, pk.before.size if pk.before else None),
         f"<= {package.TARGET_MB:g} MB, no botocore", _ok(pk.now.target_met)),
        ("Cold path of an auto-fixed case (import + first use, summed over its functions)",
         f"**{_ms(cp.now_us, us=True)}** ({len(cp.now)} functions)",
         f"{_ms(cp.before_us or 0, us=True)} ({len(cp.before)} functions)" if cp.before else "-",
         _x(cp.now_us, cp.before_us), f"<= {coldstart.TARGET_COLD_PATH}x", _ok(cp.target_met)),
        ("Cold start: slowest handler import", f"{_ms(worst.median_us, us=True)} (`{worst.module}`)",
         f"`import boto3` {_ms(cold.baseline.median_us, us=True)}", f"{cold.ratio(worst):.2f}x",
         f"<= {coldstart.TARGET_RATIO}x", _ok(cold.target_met)),
        ("Cost of 1,000 auto-fixed cases", _usd(fx.total_usd * 1000) if fx else "-",
         f"transitions alone {_usd(fx.transitions_usd * 1000)}" if fx else "-",
         f"{fx.total_usd / fx.transitions_usd:.3f}x" if fx else "-", "-", "-"),
        ("Re-check reads, 10,000 vs 1,000 pending (100 due)", f"{b.recheck_reads} items",
         f"{a.recheck_reads} items at 1,000", f"{scaling.ratio('recheck_reads'):.2f}x", "~1.0x",
         _ok(scaling.target_met)),
        (f"Throughput, {len(flow.tickets)} tickets", f"{flow.cases_per_minute:.0f} cases/min, "
         f"p50 {_ms(flow.latency(50))}, p95 {_ms(flow.latency(95))}",
         f"handler time p50 {_ms(flow.handler(50))}", f"{flow.latency(50) / flow.handler(50):.1f}x", "-", "-"),
        ("Ticket event to verified fix", f"p50 {_ms(percentile(verified, 50))}, p95 {_ms(percentile(verified, 95))}"
         f" (n={len(verified)})", f"same cases closed, p50 {_ms(percentile(fixed_closed, 50))}",
         f"{percentile(verified, 50) / percentile(fixed_closed, 50):.2f}x", "-", "-"),
    ]
    lines = ["## Summary", "", "| Measure | Figure | Baseline (same run) | Ratio | Target | |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    over = [f for f in cold.handlers if cold.ratio(f) > coldstart.TARGET_RATIO]
    if over:
        lines += ["", "Handlers over the import line, with their largest direct imports (ms, one run): " + "; ".join(
            f"`{f.module}` {cold.ratio(f):.2f}x ({', '.join(f'`{n}` {c / 1000:.0f}' for n, c in f.top[:3])})"
            for f in sorted(over, key=lambda f: -f.median_us)) + "."]
    near = [f for f in cold.handlers if 0.9 * coldstart.TARGET_RATIO <= cold.ratio(f) <= coldstart.TARGET_RATIO]
    if near:
        lines += ["", "Within 10% of the import line: " + ", ".join(
            f"`{f.module}` {cold.ratio(f):.2f}x" for f in sorted(near, key=lambda f: -f.median_us))
            + ". On a machine under other load a run can put these either side of the line; the column "
              "\"Before\" in section 1 (the baseline's module of the same name, measured next to it) tells a "
              "change of this tree from the noise."]
    if cp.target_met is False:
        heavy = sorted(cp.now, key=lambda t: -t[2])
        lines += ["", "Cold path over the line; its functions, heaviest first: " + ", ".join(
            f"{fn} {_ms(us, us=True)}" for fn, _, us in heavy) + " (their largest imports in section 1)."]
    if not tr_met and prices.target_met:
        lines += ["", "Auto-fixed cases meet their target, but some other event takes more transitions than before "
                      "(section 2)."]
    if comp.differing:
        lines += ["", "Outcome not the same on both layouts (their transitions do not compare one to one): "
                  + ", ".join(f"`{e.event}` {e.before.outcome if e.before else '?'} before, {e.now.outcome} now"
                              for e in comp.differing) + "."]
    return "\n".join(lines)


def _ordered(outcomes: list[cost.OutcomeCompare]) -> list[cost.OutcomeCompare]:
    rank = {o: i for i, o in enumerate(OUTCOME_ORDER)}
    return sorted(outcomes, key=lambda o: (rank.get(o.outcome, len(rank)), o.outcome))


# --- 1. cold start -------------------------------------------------------------------------
def _cold(cold: coldstart.ColdStart, before: Before) -> str:
    rows = []
    for f in sorted(cold.handlers, key=lambda f: -f.median_us):
        top = ", ".join(f"`{n}` {c / 1000:.0f}" for n, c in f.top[:3])
        same = cold.before.imports.get(f.module) if cold.before else None
        was = f"{cold.ratio(same):.2f}x" if same and same.runs_us else "-"
        rows.append(f"| `{f.module}` | {', '.join(f.functions)} | {_ms(f.median_us, us=True)} | "
                    f"**{cold.ratio(f):.2f}x** | {was} | {_ms(f.ready_median_us, us=True)} | {top} |")
    packages = ", ".join(cold.layout_packages)
    return f"""## 1. Cold start: handler import vs `import boto3`

Each handler module named in template.yaml (every `AWS::Serverless::Function` `Handler`), imported in a
fresh interpreter with `python -X importtime -c "import <module>"`: the sum of the cumulative
microseconds of the top-level imports it triggers, median of {cold.runs} runs, each run next to a run of
the baseline `import boto3` (median {_ms(cold.baseline.median_us, us=True)}). Target: no handler above
{coldstart.TARGET_RATIO}x the baseline: **{_word(cold.target_met)}**.

The interpreter starts as Lambda starts it: `-S` with an import path of the code plus the deployed
packages only ({packages}; the packages of functions/requirements.txt with their dependencies, and the
runtime's boto3), and Lambda's environment (`LAMBDA_TASK_ROOT`, the function's variables from
template.yaml), so that Powertools behaves as deployed. The development venv is not used for this
figure: it also holds openai, moto, httpx, requests and the X-Ray SDK, none of which a deployed function
has.

| Handler module | Functions | Import (median) | vs boto3 | Before ({before.ref}) | Import + first use \
| Largest imports (ms, one run) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

"Before" is the baseline tree's handler module of the same name, where it has one, measured the same
way in the same loop (its own requirements and template), against the same `import boto3` runs.

"Import + first use" is wall time (no `-X importtime`) for the import followed by what every step
handler's first invocation loads before its first request: boto3 with the DynamoDB resource
(`unblock.composition`), and on a tree that has one, the Powertools Tracer (the baseline's `LazyTracer`
built it on the first invocation: the X-Ray SDK, which patches botocore). Median of {cold.runs} runs. It is
the honest companion of the import figure: imports deferred to first use leave the Init phase, but the
first invocation still pays for what it uses. `unblock.composition` builds each adapter, and imports
its module, on first use, so a handler's import holds only what its steps share; the webhook and
notify handlers stay closest to the line, as what they import (Powertools' event handler and batch
utilities, the intake's models and redaction patterns, the help-desk adapters) is what their first
request uses.

{_cold_path(cold, before)}"""


def _cold_path(cold: coldstart.ColdStart, before: Before) -> str:
    cp = before.cold_path

    def rows(path: list[tuple[str, str, float]], figure: Any) -> list[str]:
        return [f"| {fn} | `{module}` | {_ms(figure(module).import_wall_median_us, us=True)} | "
                f"{_ms(us, us=True)} |" for fn, module, us in path]

    now = rows(cp.now, cold.figure)
    now.append(f"| **{len(cp.now)} functions** | | | **{_ms(cp.now_us, us=True)}** |")
    if cp.before and cold.before is not None:
        old = rows(cp.before, cold.before.figure)
        old.append(f"| **{len(cp.before)} functions** | | | **{_ms(cp.before_us or 0, us=True)}** |")
        old_table = f"""Before ({before.ref}, its own requirements and template; its task functions' modules measured in turn
with this tree's, so that both see the same load):

| Function | Handler module | Import (wall) | Import + first use |
|---|---|---|---|
{chr(10).join(old)}
"""
        per_fn_now = cp.now_us / len(cp.now)
        per_fn_before = (cp.before_us or 0) / len(cp.before)
        verdict = (f"**{_x(cp.now_us, cp.before_us)}** the baseline's (target <= {coldstart.TARGET_COLD_PATH}x: "
                   f"**{_word(cp.target_met)}**). Per function, a cold start costs {_x(per_fn_now, per_fn_before)} "
                   f"what it did ({_ms(per_fn_now, us=True)} against {_ms(per_fn_before, us=True)}, the mean over "
                   f"each path): the gain is the number of cold starts, {len(cp.before)} to {len(cp.now)}. A shared "
                   "function also starts warm for the later steps of the same case once one of its steps ran.")
    else:
        old_table = f"Before: not measured ({before.why_not or 'no baseline tree'}).\n"
        verdict = "not compared (no baseline)."
    return f"""### The cold path of an auto-fixed case

Each distinct function an execution invokes starts cold once when no warm container of it is free (a
first case, a burst, after an idle spell): the cold path is the sum, over the distinct functions an
auto-fixed case invokes (the Result trace's `lambda_functions`), of that function's "import + first use"
above. This tree:

| Function | Handler module | Import (wall) | Import + first use |
|---|---|---|---|
{chr(10).join(now)}

{old_table}
Cold path: {_ms(cp.now_us, us=True)} against {_ms(cp.before_us, us=True) if cp.before_us else '-'}: {verdict}"""


def _package(pk: Packages, ref: str) -> str:
    def table(p: package.Package) -> str:
        rows = [f"| {d.name} | {d.version} | {d.size / 1e6:.2f} |" + (" **a second botocore** |"
                                                                      if d.name.lower() == "botocore" else " |")
                for d in p.dists]
        rows.append(f"| **total** | | **{p.mb:.1f}** | |")
        return "| Distribution | Version | Unzipped (MB) | |\n|---|---|---|---|\n" + "\n".join(rows)

    before = (f"Before ({ref}: `{'`, `'.join(pk.before.requirements)}`):\n\n{table(pk.before)}" if pk.before
              else "Before: not measured (no baseline).")
    ratio = f" ({_x(pk.now.size, pk.before.size)} the baseline's {pk.before.mb:.1f} MB)" if pk.before else ""
    return f"""## 1b. The functions' package: dependencies unzipped

What `sam build` puts in each function's zip besides the code: functions/requirements.txt with every
dependency pip resolves (pip does not know the runtime has boto3 and botocore, so anything that depends
on botocore ships a second copy), resolved from the installed distributions, each one's files as its
RECORD lists them, unzipped, without `__pycache__`. The wheels are this machine's; Lambda's arm64
wheels of the compiled ones (pydantic-core) differ by a few percent. Target: at most
{package.TARGET_MB:g} MB with no botocore: **{_word(pk.now.target_met)}**, {pk.now.mb:.1f} MB{ratio}.

This tree (`{'`, `'.join(pk.now.requirements)}`):

{table(pk.now)}

{before}

The Powertools Tracer needed the X-Ray SDK (`aws-lambda-powertools[tracer]`), which requires botocore
and wrapt: the baseline's package carried a second botocore. Lambda's `Tracing: Active` (template.yaml)
still traces every invocation without it."""


# --- 2. cost -------------------------------------------------------------------------------
def _cost(r: cost.CostReport, before: Before) -> str:
    p = r.prices
    durations = []
    for key in sorted(r.durations_ms, key=lambda f: -r.durations_ms[f]):
        ms = r.durations_ms[key]
        durations.append(f"| {key} | {ms:.1f} | {r.samples[key]} | {r.memory[key]} | "
                         f"{r.memory[key] / 1024 * cost.billed_seconds(ms):.5f} |")
    outcome_rows = []
    for name in [o for o in OUTCOME_ORDER if o in r.by_outcome] + [o for o in r.by_outcome if o not in OUTCOME_ORDER]:
        o = r.by_outcome[name]
        wf = median([x.workflow_invocations for x in r.runs if x.outcome == name])
        outcome_rows.append(
            f"| {name} | {o.cases} | {o.transitions:.1f} | {wf:.0f} | {o.max_functions} | {o.lambda_invocations:.1f} | "
            f"{_usd(o.transitions_usd * 1000)} | {_usd(o.requests_usd * 1000)} | {_usd(o.compute_usd * 1000)} | "
            f"**{_usd(o.total_usd * 1000)}** | "
            f"{_usd((o.transitions_usd + o.requests_usd + o.compute_usd_at_100ms) * 1000)} |")
    comp = before.comparison
    paths = []
    for oc in _ordered(comp.outcomes()):
        now, old = oc.path(), oc.path(before=True)
        most = f"; at most {oc.now_functions} on any case of it" if oc.now_functions > len(oc.path_functions()) else ""
        paths.append(f"- {oc.outcome}\n  - now ({len(now)} states; {', '.join(oc.path_functions())}{most}): "
                     f"{' > '.join(now)}")
        if old:
            fns = oc.path_functions(before=True)
            most = (f"; at most {oc.before_functions} on any case of it"
                    if (oc.before_functions or 0) > len(fns) else "")
            paths.append(f"  - before ({len(old)} states; {len(fns)} functions{most}): {' > '.join(old)}")
    per_event = []
    for e in comp.events:
        b = e.before
        arrow = (lambda x, y: f"{x} → {y}") if b else (lambda x, y: f"- → {y}")  # noqa: E731
        outcome = e.now.outcome if (b is None or e.same_outcome) else f"{b.outcome} → **{e.now.outcome}**"
        ok = "" if b is None or e.not_more else " **more**"
        per_event.append(
            f"| `{e.event}` | {outcome} | {arrow(b.transitions if b else '-', e.now.transitions)}{ok} | "
            f"{arrow(b.invocations if b else '-', e.now.workflow_invocations)} | "
            f"{arrow(len(b.functions) if b else '-', len(e.now.functions))} | {len(e.now.calls)} |")
    control_note = _control_note(comp)
    fixed = r.auto_fix
    share = fixed.transitions_usd / fixed.total_usd if fixed else 0.0
    choice = sum(1 for s in fixed.path if r.state_types.get(s) == "Choice") if fixed else 0
    max_tr = r.max_auto_fix_transitions
    before_tr = comp.before_auto_fix_transitions
    return f"""## 2. Cost per case, and the states before and after

Every scenario in events/ (each with a fresh ticket id, on a freshly seeded sandbox), run through the
embedded stack; an escalated case is finished with a staff decision (`resolve`) so that its price
includes the states after the human queue. State transitions and workflow invocations come from the
execution history (the Result trace: each state entered, plus one per retry, and the distinct functions
invoked); the Lambda calls outside the workflow (IntakeFunction or WebhookFunction, and NotifyFunction
delivering the reply from the outbox) are counted from the calls themselves.

Prices: AWS list prices, region **{p.region}**, free tiers ignored: Step Functions Standard
**${p.transition_per_1k} per 1,000 state transitions**; Lambda **${p.request_per_1m:.2f} per 1M requests** and
**${p.gb_second:.10f} per GB-second ({p.architecture})**, duration billed per 1 ms. Memory sizes from template.yaml;
durations are the median in-process duration of each handler, per workflow step where one function serves
several, over every call of this run (the cost scenarios and the throughput run).

| Function (step) | Median duration (ms) | Calls | Memory (MB) | GB-s per call |
|---|---|---|---|---|
{chr(10).join(durations)}

In-process durations understate Lambda's: no network round trip to DynamoDB, SQS or Step Functions
(moto answers in the same process), no cold starts (Init is billed too), no X-Ray. The last column of
the next table prices every invocation at 100 ms billed instead, as a pessimistic bound.

| Outcome | Cases run | State transitions | Workflow Lambda calls | Distinct functions | All Lambda calls \
| Transitions /1,000 | Requests /1,000 | Compute /1,000 | **Total /1,000 cases** | Total at 100 ms/call |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(outcome_rows)}

Paths (most common per outcome) and the distinct functions they invoke, now and before ({before.ref}, its
own CLI on the same events):
{chr(10).join(paths)}

Per scenario, before ({before.ref}) → now:

| Event | Outcome | Transitions | Workflow Lambda calls | Distinct functions | All Lambda calls (now) |
|---|---|---|---|---|---|
{chr(10).join(per_event)}

{control_note}

**Targets: an auto-fixed case in at most {cost.TARGET_AUTO_FIX_TRANSITIONS} state transitions: {_word(r.target_met)}**
({max_tr}; before {before_tr if before_tr is not None else '-'}); **every other event in no more transitions than
before: {_word(comp.others_not_more)}**; **at most {cost.TARGET_FUNCTIONS_PER_PATH} distinct functions on any path:
{_word(r.functions_target_met)}** ({r.max_functions}; before {comp.before_max_functions or '-'}).
State transitions are {share:.0%} of an auto-fixed case's price, so states, not milliseconds, are
what to cut; of the {len(fixed.path) if fixed else 0} states of the auto-fix path, {choice} are Choice states,
billed like any other.

{_done(r, before)}

An Express workflow would be priced per request and duration instead of per transition, but it cannot
wait on `.waitForTaskToken` for staff (up to 14 days here), so only the diagnosis part could move to a
nested Express workflow.

Not per case: the re-check schedule runs the RecheckFunction every 15 minutes (2,880 invocations in 30
days whatever the case count), and each pending case costs its share of that function's time on each
pass; a re-check that re-runs the workflow (`rerun`) pays another workflow's transitions."""


def _control_note(comp: cost.Comparison) -> str:
    """How the baseline's CLI runs were made, and whether this tree's CLI, run the same way, agrees with the
    cost runs above (if it does, the way of running changes nothing that is compared)."""
    b = comp.baseline
    if not comp.available:
        return f"Before: not measured ({b.reason or b.error or 'no baseline'})."
    agree = [e for e in comp.events if e.control is not None]
    same = [e for e in agree if (e.control.outcome, e.control.transitions, e.control.functions)  # type: ignore[union-attr]
            == (e.now.outcome, e.now.transitions, e.now.functions)]
    groups = "; ".join(", ".join(f"`{ev}`" for ev in g) for g in b.groups)
    verdict = (f"this tree's CLI, run the same way, gives the same outcome, transitions and functions as the cost "
               f"runs above for {len(same)} of {len(comp.events)} events")
    if len(same) < len(comp.events):
        verdict += " (not: " + ", ".join(f"`{e.event}`" for e in agree if e not in same) + ")"
    return (f"The baseline's figures are its own CLI's (`python -m unblock_dev.cli run <events> --json --decide "
            f"resolve`, run from the extracted tree), one process per group of events with no team twice in a "
            f"group, since the CLI does not reseed the sandbox between events ({len(b.groups)} groups: {groups}). "
            f"As a control, {verdict}.")


def _done(r: cost.CostReport, before: Before) -> str:
    """What issue 17 did to the paths, each change with the states it took out of the measured auto-fix path."""
    comp = before.comparison
    fixed = comp.outcome("auto_fixed")
    if fixed is None or not comp.available:
        return "What was done (issue 17): not compared (no baseline traces)."
    old, now = fixed.path(before=True), fixed.path()
    gone = [s for s in old if s not in now]
    types = before.state_types
    p = r.prices

    def row(change: str, states: list[str], extra: str = "") -> str:
        taken = [s for s in states if s in gone]
        calls = sum(1 for s in taken if types.get(s) == "Task")
        usd = len(taken) * p.transition_per_1k / 1000 + calls * p.request_per_1m / 1e6
        return (f"| {change} | {', '.join(taken) or '-'} | {-len(taken):+d} | {-calls:+d} | {extra or '-'} | "
                f"{_usd(usd * 1000)} |")

    cp, pk = before.cold_path, before.packages
    rows = [
        row("The decision goes with the third check: CheckRestrictions (DiagnoseFunction, step "
            "`check_restrictions`) decides over the three findings in the same invocation; Decide stays only "
            "for a restrictions check that failed after retries", ["Decide"]),
        row("The verification goes with the fix: ApplyFixes (FixFunction, step `fix`) applies, then verifies in "
            "the same invocation; one Choice (Verified) follows instead of FixesApplied and Verified",
            ["FixesApplied", "Verify"]),
        row("Nine workflow functions become three, by what each may touch: DiagnoseFunction reads the platform, "
            "FixFunction changes it, OutcomeFunction writes the outcome (each task names its `step`)", [],
            f"distinct functions {fixed.before_functions} → {fixed.now_functions}; cold path "
            f"{_x(cp.now_us, cp.before_us)}"),
        row("No Powertools Tracer (Lambda's `Tracing: Active` traces each invocation)", [],
            f"package {pk.before.mb:.1f} → {pk.now.mb:.1f} MB, second botocore gone" if pk.before else ""),
    ]
    measured = (fixed.before_transitions or 0) - fixed.now_transitions
    listed = sum(1 for s in gone if s in ("Decide", "FixesApplied", "Verify"))
    other = [s for s in gone if s not in ("Decide", "FixesApplied", "Verify")]
    added = [s for s in now if s not in old]
    tail = ""
    if other or added or measured != listed:
        tail = (f" The measured paths also differ in: {', '.join(other) or 'nothing else'} gone, "
                f"{', '.join(added) or 'nothing'} added ({measured} transitions fewer in all).")
    left = []
    if "TeamKnown" in now and "Route" in now:
        left.append("TeamKnown folded into Route (the diagnosis answers needs_info for an unknown team): 1 transition")
    if "OpenCase" in now:
        left.append("OpenCase done by the intake before StartExecution (it already validates and redacts): "
                    "1 transition and 1 Lambda call")
    checks = [s for s in now if s.startswith("Check") and r.state_types.get(s) == "Task"]
    if len(checks) > 1:
        left.append(f"{', '.join(checks)} as one Task (one invocation runs them in turn): {len(checks) - 1} "
                    f"transitions and {len(checks) - 1} calls, at the price of the per-check retry and catch that "
                    "separate states give")
    still = ("What could still go from the auto-fix path, each on its own (not done): " + "; ".join(left) + "."
             if left else "")
    return f"""What was done (issue 17), against the auto-fix path measured before: {len(old)} states before,
{len(now)} now ({fixed.before_transitions} → {fixed.now_transitions} transitions, {fixed.before_calls} →
{fixed.now_calls} workflow Lambda calls, {fixed.before_functions} → {fixed.now_functions} distinct functions).
Savings per 1,000 auto-fixed cases at the prices above (transitions and requests; compute moves with the work,
which stays the same).{tail}

| Change | States gone from the auto-fix path | Transitions | Lambda calls | Also | Saves per 1,000 cases |
|---|---|---|---|---|---|
{chr(10).join(rows)}

{still}"""


# --- 3. re-check scaling ------------------------------------------------------------------
def _recheck(s: recheck.Scaling) -> str:
    rows = []
    for p in s.points:
        actions = ", ".join(f"{k} {v}" for k, v in sorted(p.actions.items()))
        rows.append(f"| {p.pending:,} | {p.due} | {p.query_items} | {p.cases_loaded} | **{p.recheck_reads}** | "
                    f"{p.capacity:g} | {p.scan_items:,} | {p.due_s * 1000:,.0f} ms | {p.recheck_s * 1000:,.0f} ms | "
                    f"{actions} |")
    return f"""## 3. Re-check scaling: 1,000 and 10,000 pending cases, 100 due

Cases put straight into the cases table through `DynamoCaseStore.create` (its own item: `pending` and
`next_check_at` place a case in the sparse `pending-by-next-check` index; the puts go through a batch
writer, no workflow runs): 100 due (next check in the past) and the rest in the future, all waiting for
the customer of team `{s.team_id}` ({', '.join(s.codes)}), so the re-check backs the due ones off and
they stay pending. Then another 9,000 future and 100 due cases: 10,000 pending, 100 due. Measured on
the store's `due()` and on the domain function `unblock.domain.recheck.recheck_due` (batch 100, as the
RecheckFunction), through a table wrapper that counts the items each request returns.

{RECHECK_HEADER}
{chr(10).join(rows)}

**Ratio 10,000 / 1,000 of the items the re-check reads: {s.ratio('recheck_reads'):.2f}x (target ~1.0):
{_word(s.target_met)}.** The index query returns the due cases only, each with its document (the index
projects it, so no case is loaded separately), whatever the number waiting; a Scan would read {s.ratio('scan_items'):.0f}x more at 10,000. The times grow
({s.ratio('due_s'):.2f}x for `due()`, {s.ratio('recheck_s'):.2f}x for the whole pass) because moto serves an
index query by walking every item of the table in memory; DynamoDB reads only the index entries
the key condition selects, so on AWS the time follows the items read. ConsumedCapacity as moto
reports it is not DynamoDB's figure: on DynamoDB the query reads the 100 due index entries with their case
documents (one read unit per 4 KB, eventually consistent), at any size."""


# --- 4. throughput -------------------------------------------------------------------------
def _throughput(flow: Throughput, prices: cost.CostReport) -> str:
    by_event: dict[str, list[Any]] = defaultdict(list)
    for t in flow.tickets:
        by_event[t.event].append(t)
    rows = []
    for ev, ts in sorted(by_event.items()):
        counts = Counter(t.outcome or "?" for t in ts)
        outcome = next(iter(counts)) if len(counts) == 1 else ", ".join(f"{k} {v}" for k, v in counts.most_common())
        rows.append(f"| `{ev}` | {outcome} | {len(ts)} | {percentile([t.latency_ms for t in ts], 50):,.0f} | "
                    f"{percentile([t.handler_ms for t in ts], 50):,.0f} |")
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(flow.outcomes.items()))
    if flow.lift_capped:
        outcomes += (f" ({flow.lift_capped} of the escalations: the hourly cap on automatic risk-hold lifts, "
                     f"`MAX_AUTO_LIFTS_PER_HOUR`, was reached. Every ticket runs at its event's own time, so the "
                     f"whole run, the cost runs before it included, falls in one hour of the cap)")
    verified = flow.verified_ms
    to_fix = f"**{_ms(percentile(verified, 50))} / {_ms(percentile(verified, 95))}**"
    seq = [r.to_verified_ms for r in prices.runs if r.to_verified_ms is not None]
    return f"""## 4. Throughput: {len(flow.tickets)} tickets through the embedded stack

One process, one stack reused: the scenario events of events/ in turn (each with a fresh ticket id),
one case at a time, the sandbox reseeded before each (not timed). A case's time runs from handing the
event to the intake until its last step returned (the OutcomeFunction's `close` step, or its `escalate`
step when the case waits on staff),
read from the in-process calls rather than by polling. Outcomes: {outcomes}.

| | |
|---|---|
| Cases per minute | **{flow.cases_per_minute:.0f}** ({len(flow.tickets)} in {flow.wall_s:.1f} s) |
| Per case, p50 / p95 | **{_ms(flow.latency(50))} / {_ms(flow.latency(95))}** |
| Handler time per case, p50 / p95 (baseline) | {_ms(flow.handler(50))} / {_ms(flow.handler(95))} |
| Per case vs its handler time, p50 | {flow.latency(50) / flow.handler(50):.1f}x |
| Ticket event to verified fix, p50 / p95 (auto-fixed cases, n={len(verified)}) | {to_fix} |
| Same, in the cost runs above (n={len(seq)}) | {_ms(percentile(seq, 50))} / {_ms(percentile(seq, 95))} |

| Event | Outcome | Tickets | p50 per case (ms) | p50 handler time (ms) |
|---|---|---|---|---|
{chr(10).join(rows)}

Most of a case's time here is the embedded Step Functions interpreter (moto, in threads of this
process), not the handlers: from the intake returning to the `open_case` step starting alone takes
{_ms(median(flow.start_gaps_ms))} (median). On AWS the state transitions of a Standard workflow and
Lambda's invocation overhead take their own time, and a cold start adds the figures of section 1;
the handler time is the part this code controls. The help-desk reply follows from the outbox."""


# --- 5. console reads ----------------------------------------------------------------------
CONSOLE_HEADING = "## 5. Console reads: items each page reads at 1,000 and 10,000 cases"
CONSOLE_SUMMARY = "| Console reads, 10,000 vs 1,000 cases (worst page of queue, search, closed, incidents)"


def console_summary_row(c: console.ConsoleReads) -> str:
    page, ratio = c.worst
    a, b = c.points[0].pages[page], c.points[-1].pages[page]
    return (f"{CONSOLE_SUMMARY} | {b.read} items ({page}) | {a.read} items at 1,000 | {ratio:.2f}x | "
            f"<= {console.TARGET}x | {_ok(c.target_met)} |")


def _console(c: console.ConsoleReads) -> str:
    a, b = c.points[0], c.points[-1]
    rows = []
    for name in a.pages:
        pa, pb = a.pages[name], b.pages[name]
        ratio = c.ratio(name)
        shown = "every case" if c.contrast(name) else pb.shown
        rows.append(f"| {name} | {shown} | {pa.read:,} | **{pb.read:,}** | {ratio:.2f}x | "
                    f"{pb.scanned:,} | {pb.ms:,.0f} ms |")
    imp = ""
    if c.imports:
        i = c.imports
        imp = f"""

### What the templates cost a cold start

Median of {i.runs} fresh interpreters each (`python -X importtime`, cumulative µs of the module; one render
per interpreter for the pages), load average {c.load or "?"} on {os.cpu_count()} CPUs shared with other work (the
absolute times swing with it from run to run; the shares hold better):

| | |
|---|---|
| `import markupsafe` (the alternative: `Markup(...).format`) | {i.markupsafe_us / 1000:.1f} ms |
| `import jinja2` (with MarkupSafe) | {i.jinja2_us / 1000:.1f} ms |
| `import unblock.handlers.console` (the whole handler, Jinja2 included) | {i.handler_us / 1000:.0f} ms |
| first queue page (environment, macros, base and page compiled) | {i.first_queue_ms:.1f} ms |
| then the first case page (its partials compiled) | {i.first_case_ms:.1f} ms |
| a case page once compiled | {i.warm_case_ms:.1f} ms |

Jinja2 adds {(i.jinja2_us - i.markupsafe_us) / 1000:.0f} ms of import over MarkupSafe alone, about
{(i.jinja2_us - i.markupsafe_us) / i.handler_us:.0%} of the handler's import, and its templates compile once per container on
first use. The console's cold start is a staff member opening a page (no customer waits on it), so the
templates stay on Jinja2 (docs/console.md)."""
    return f"""{CONSOLE_HEADING}

The ConsoleFunction's pages over a cases table of 1,000 and then 10,000 cases (`benchmarks/console.py`):
both sizes show the same ({console.WAITING} cases waiting for staff, a team with 6 cases, one ticket, the
50 most recently closed), the other cases closed for other teams. Items read: what the case store's
queries and reads returned plus what a scan examined, counted by a wrapper of the table.

| Page | Cases shown | Items read at {a.cases:,} | at {b.cases:,} | Ratio | of which scanned | Time at {b.cases:,} (moto) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

**Worst ratio of the pages that list cases (queue, search, closed, incidents): {c.worst[1]:.2f}x ({c.worst[0]};
target at most {console.TARGET}x): {_word(c.target_met)}.** Each is an index query (`by-status`,
`closed-by-outcome`, `by-team`, `by-ticket`, `by-slug`, docs/console.md) that returns the cases it shows
with their documents. Metrics aggregates every case and still scans (up to 2,000 cases), shown for
contrast. Times grow with the table on moto, which serves an index query by walking every item;
DynamoDB reads only the index entries the key selects.{imp}"""


def splice_console(text: str, c: console.ConsoleReads) -> str:
    """BENCHMARKS.md with section 5 and its summary row replaced (`--only console`), the rest as it was."""
    section = _console(c).strip("\n")
    if CONSOLE_HEADING.split(":")[0] in text:
        start = text.index(CONSOLE_HEADING.split(":")[0])
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end:] if end != -1 else "\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    row = console_summary_row(c)
    lines = text.split("\n")
    at = next((n for n, line in enumerate(lines) if line.startswith(CONSOLE_SUMMARY)), None)
    if at is not None:
        lines[at] = row
    elif "## Summary" in lines:
        n = lines.index("## Summary") + 3  # heading, blank, header row, separator
        while n + 1 < len(lines) and lines[n + 1].startswith("|"):
            n += 1
        lines.insert(n + 1, row)
    return "\n".join(lines)


SUITE_HEADING = "## 7. Test suite: pytest at abd52f6 and on this branch"


def keep_suite_section(previous: str, written: str) -> str:
    """`written` with section 7 of `previous` kept as it was: the suite's time is measured by hand
    (two whole pytest runs back to back, see the section), not by `make bench`."""
    if SUITE_HEADING not in previous or SUITE_HEADING in written:
        return written
    start = previous.index(SUITE_HEADING)
    end = previous.find("\n## ", start + 1)
    section = previous[start:end if end != -1 else len(previous)].strip("\n")
    return written.rstrip("\n") + "\n\n" + section + "\n"

