"""`aglu bench NAME ...`: hands each benchmark to the module that implements it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> (module, function(argv) -> exit code, one-line help). Add a benchmark with one line here.
BENCHMARKS: dict[str, tuple[str, str, str]] = {
    "activation": (
        "aglu.bench.activation",
        "activation_main",
        "one activation, fwd+bwd time, memory",
    ),
    "throughput": ("aglu.bench.throughput", "throughput_main", "training images/s per model"),
    "latency": ("aglu.bench.latency", "latency_main", "batch-1 inference latency per model"),
}


def _usage() -> str:
    lines = ["usage: aglu bench NAME [options]", "", "benchmarks:"]
    lines += [f"  {name:<12}{help_}" for name, (_, _, help_) in BENCHMARKS.items()]
    return "\n".join(lines)


def bench_main(argv: Sequence[str]) -> int:
    """Dispatch ``aglu bench NAME ...``; returns the exit code."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(
            f"aglu bench: unknown benchmark {name!r}; use one of {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    module_name, function_name, _ = BENCHMARKS[name]
    return int(getattr(importlib.import_module(module_name), function_name)(rest) or 0)
