"""Benchmarks for unblock (`make bench`): cold start, cost per case, re-check scaling, throughput.

Nothing here runs under `make test`; `python -m benchmarks.run` writes BENCHMARKS.md.
"""
