"""One module per `unblock` subcommand: each exposes `register(subparsers)` (its parser, with
`func` set to its run function) and that run function, `cmd_<name>(args, out) -> exit status`.
`unblock gateway` and `unblock platform serve` register from their servers' modules."""
