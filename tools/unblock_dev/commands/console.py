"""`unblock console`: the staff console on 127.0.0.1 over the embedded stack."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, TextIO

from unblock_dev.inputs import check_port, fail, seed_file
from unblock_dev.serving import quiet


def register(subparsers: Any) -> argparse.ArgumentParser:
    console = subparsers.add_parser("console", help="the staff console on 127.0.0.1 over the embedded stack")
    console.add_argument("--port", type=int, default=8790, help="port on 127.0.0.1 (default 8790; 0 = any free)")
    console.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    console.add_argument("--demo", action="store_true",
                         help="first run the demo's scenarios and its wave: escalations and an incident wait")
    console.add_argument("--verbose", action="store_true", help="handler logs and metrics on stderr")
    console.set_defaults(func=cmd_console)
    return console


def cmd_console(args: argparse.Namespace, out: TextIO) -> int:
    """The staff console on 127.0.0.1 over the embedded stack; the first stdout line is the URL to open
    (a one-time sign-in for `staff:local`). Ctrl-C stops it."""
    from unblock_dev.console_server import ConsoleServer
    from unblock_dev.local.app import LocalApp

    check_port(args.port)
    seed, _ = seed_file(args.platform)
    quiet(args)
    app = LocalApp(seed)
    try:
        if args.demo:
            from unblock_dev.demo import run_scenarios, run_wave

            run_scenarios(app, seed)
            run_wave(app, seed)  # an incident: five teams held by one rule, waiting for one decision
            app.seed(seed)  # the escalated teams as they were reported, for staff to decide
        try:
            server = ConsoleServer(app, args.port).start()
        except OSError as err:
            fail(f"cannot listen on 127.0.0.1:{args.port}: {err.strerror}")
        out.write(server.login_url() + "\n")
        out.flush()
        print(f"unblock console on {server.base_url} as staff:local; Ctrl-C stops it", file=sys.stderr)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    finally:
        app.close()
    return 0
