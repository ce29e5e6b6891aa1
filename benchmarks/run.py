"""`make bench`: run every benchmark and write BENCHMARKS.md at the repository root.

    python -m benchmarks.run            # the full run (a few minutes on 2 cores)
    python -m benchmarks.run --quick    # fewer repetitions, for trying the harness
    python -m benchmarks.run --only console   # one piece alone: its section of BENCHMARKS.md is replaced
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import ROOT, log, template


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": sys.version.split()[0] + f" ({platform.python_implementation()})",
        "platform": platform.platform(),
        "load": load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (not for the record)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--only", choices=["console"], help="run one piece and replace its section of --out")
    args = parser.parse_args(argv)
    if args.only == "console":
        return _console_only(args.out, quick=args.quick)
    runs, reps, tickets = (2, 1, 30) if args.quick else (5, 2, 200)

    from benchmarks import baseline, coldstart, console, cost, package, recheck, report, throughput
    from benchmarks.common import EVENTS
    from benchmarks.embedded import Recorder, start_app

    info = machine()
    t0 = time.perf_counter()
    log(f"machine: {info['cpus']} CPUs, Python {info['python']}, load {info['load']}")
    with baseline.extracted() as before:
        packages = report.Packages(package.measure(baseline.CURRENT.requirements()),
                                   package.measure(before.tree.requirements()) if before.tree else None)
        cold = coldstart.measure(runs, before.tree, before.ref)
        app = start_app()
        try:
            rec = Recorder(app.stack)
            first = cost.measure(app, rec, reps)
            flow = throughput.run(app, rec, tickets, names=first.played())
        finally:
            app.close()
        # a stack of its own: 10,000 cases in moto's tables would slow every later query there (moto serves a
        # query by walking the table), and the cases of the runs above would add to the pending ones
        app = start_app()
        try:
            scaling = recheck.measure(app)
        finally:
            app.close()
        app = start_app()  # the console's cases in a table of their own too
        try:
            console_reads = console.measure(app, runs=3 if args.quick else 9)
        finally:
            app.close()
        # the baseline's own CLI on the same events (nothing else is timed meanwhile)
        baseline.transitions(before, first.played(), first.teams(), EVENTS)
        before_types = cost.state_types(before.tree.template(), before.tree.root) if before.tree else {}
    prices = cost.report(first.runs, template(), flow.calls)
    comparison = cost.compare(first.runs, before)
    path = coldstart.cold_path(cold, prices.auto_fix_functions(),
                               comparison.before_auto_fix_functions() or baseline.BASELINE_AUTO_FIX_FUNCTIONS)
    info["elapsed"] = f"{time.perf_counter() - t0:.0f} s"
    info["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else ""
    old = report.Before(before, comparison, path, packages, before_types)
    previous = args.out.read_text() if args.out.exists() else ""
    args.out.write_text(report.render(info, cold, prices, scaling, flow, old, console_reads, quick=args.quick))
    from benchmarks import proactive  # its section on a stack of its own (`python -m benchmarks.proactive` alone)

    proactive.update(args.out, proactive.render(*proactive.measure()))
    args.out.write_text(report.keep_suite_section(previous, args.out.read_text()))  # section 7, measured by hand
    from benchmarks import bytecode  # section 8: the package with and without its bytecode

    bytecode.update(args.out, bytecode.render(bytecode.measure(runs), runs))  # the load average: at the end
    from benchmarks import month  # section 9: a simulated month of one misfiring rule (two stacks of its own)

    proactive.update(args.out, month.render(*month.measure()), month.SECTION)
    log(f"wrote {args.out} in {info['elapsed']}")
    return 0


def _console_only(out: Path, *, quick: bool) -> int:
    from benchmarks import console, report
    from benchmarks.embedded import start_app

    t0 = time.perf_counter()
    app = start_app()
    try:
        reads = console.measure(app, runs=3 if quick else 9)
    finally:
        app.close()
    out.write_text(report.splice_console(out.read_text() if out.exists() else "", reads))
    log(f"wrote section 5 of {out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
