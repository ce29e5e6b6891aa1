"""What each of the embedded stack's moto speed-ups pays (tools/unblock_dev/local/moto_patches.py).

    python -m benchmarks.moto_speedups [ROUNDS]     # prints a table; docs/architecture.md keeps the figures

One workload, each configuration in a fresh process (moto's patches stay for a process): start the
embedded stack, then run eight sample tickets through the workflow one after the other
(auto-fixed, customer_action, escalated, needs_info). Measured: the process's CPU time (user + sys,
its threads included: moto runs executions in threads), which a loaded machine disturbs far less
than wall time, and the wall time. Configurations: every speed-up on, every one off, and each one
off alone (what that one pays is its row against "all on"). Best of ROUNDS (default 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

TICKETS = ("ticket-stale-billing-hold.json", "ticket-key-not-propagated.json", "ticket-expired-card.json",
           "ticket-fraud-review.json", "ticket-no-team.json", "ticket-two-fixes.json",
           "ticket-entitlement-off.json", "ticket-high-risk-hold.json")


def workload() -> dict[str, float]:
    from unblock_dev.local.app import LocalApp
    from unblock_dev.local.stack import ROOT

    cpu, wall = time.process_time(), time.perf_counter()
    app = LocalApp.from_seed_file()
    started = time.process_time() - cpu
    for name in TICKETS:
        app.run(json.loads((ROOT / "events" / name).read_text()))
    out = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "start_cpu": started}
    app.close()
    return out


def measure(switch: str) -> dict[str, float]:
    env = {**os.environ, "UNBLOCK_MOTO_SPEEDUPS": switch}
    done = subprocess.run([sys.executable, "-m", "benchmarks.moto_speedups", "--one"], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:] == ["--one"]:
        print(json.dumps(workload()))
        return
    from unblock_dev.local.moto_patches import SPEEDUPS

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    configs = {"all on": "1", "all off": "0"} | {
        f"without {name}": ",".join(n for n in SPEEDUPS if n != name) for name in SPEEDUPS}
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for label, switch in configs.items():
            got = measure(switch)
            kept = best.get(label)
            best[label] = got if kept is None or got["cpu"] < kept["cpu"] else kept
    base = best["all on"]["cpu"]
    print("| configuration | CPU s (start) | vs all on | wall s |\n|---|---|---|---|")
    for label, got in best.items():
        print(f"| {label} | {got['cpu']:.2f} ({got['start_cpu']:.2f}) | {got['cpu'] - base:+.2f} s "
              f"({got['cpu'] / base:.2f}x) | {got['wall']:.2f} |")


if __name__ == "__main__":
    main()
