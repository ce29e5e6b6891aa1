"""`unblock demo`: every scenario in events/ on one embedded stack, then a staff decision and an incident."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock_dev.inputs import seed_file
from unblock_dev.serving import quiet


def register(subparsers: Any) -> argparse.ArgumentParser:
    demo = subparsers.add_parser("demo", help="run every scenario in events/ and print a summary")
    demo.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    demo.add_argument("--verbose", action="store_true", help="handler logs and metrics on stderr")
    demo.set_defaults(func=cmd_demo)
    return demo


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from unblock_dev.demo import run_demo

    seed, raw = seed_file(args.platform)
    quiet(args)
    return run_demo(out, seed, raw)
