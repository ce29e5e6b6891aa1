"""The embedded stack behind a command: quiet on a terminal, and a server over it for as long as
the command runs (`unblock gateway`, `unblock platform serve`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from unblock.domain.platform_model import Seed
from unblock_dev.inputs import check_port, fail, parse_now
from unblock_dev.local.app import LocalApp


def quiet(args: argparse.Namespace) -> None:
    """Handler logs and EMF metrics are for CloudWatch; on a terminal only warnings, unless --verbose.
    With --keep the functions still log at their own level: the lines go to DIR, not to the terminal."""
    if not getattr(args, "verbose", False):
        from unblock.observability import logger

        if getattr(args, "keep", None):
            logger.registered_handler.setLevel("WARNING")
        else:
            logger.setLevel("WARNING")
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - EMF metrics lines; the result has its own stream


@contextmanager
def serving(args: argparse.Namespace, seed: Seed,
            make_server: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
    """An embedded stack seeded with `seed` and a server on 127.0.0.1:--port over it, for
    `unblock gateway` and `unblock platform serve`; the stack stops when the block ends. The app is
    a LocalApp, typed Any: each server takes the face of it that it serves (the sandbox platform
    with its gateway authentication, the workflow)."""
    check_port(args.port)
    app = LocalApp(seed, now=parse_now(args.now))
    quiet(args)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        try:
            server = make_server(app)
        except OSError as err:
            fail(f"cannot listen on 127.0.0.1:{args.port}: {err.strerror}")
        yield app, server
    finally:
        app.close()
