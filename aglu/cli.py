"""The `aglu` command: one entry point that hands each sub-command to the area that owns it."""

from __future__ import annotations

import importlib
import logging
import sys
import warnings

# sub-command -> (module, function(argv) -> exit code, one-line help). Modules load lazily so that
# `aglu --help` and the layers never pay for Lightning, SciPy or matplotlib.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "train": ("aglu.train.commands", "train_main", "train a model from a YAML config"),
    "eval": ("aglu.train.commands", "eval_main", "evaluate a run folder or checkpoint"),
    "bench": ("aglu.bench.commands", "bench_main", "benchmarks: activation, throughput, latency"),
    "study": ("aglu.bench.study", "study_main", "the long-tail study: variants x seeds"),
    "plot": ("aglu.analysis.commands", "plot_main", "plot activation shapes or learned λ, κ"),
    "analyze": ("aglu.analysis.commands", "analyze_main", "fit distributions to layer inputs"),
}


def _usage() -> str:
    lines = ["usage: aglu COMMAND [options]   (or aglu --version)", "", "commands:"]
    lines += [f"  {name:<9}{help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += ["", "Run `aglu COMMAND --help` for a command's options."]
    return "\n".join(lines)


def _quiet_third_party_noise() -> None:
    """Hide two lines every CPU run printed that say nothing about the run: torch's note that a
    CPU-only machine has no CUDA runtime (when inductor builds a kernel), and a deprecation inside
    Lightning's own code."""
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated")


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``aglu COMMAND ...``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from aglu import __version__

        print(f"aglu {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"aglu: unknown command {name!r}; use one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet_third_party_noise()
    module_name, function_name, _ = COMMANDS[name]
    command = getattr(importlib.import_module(module_name), function_name)
    return int(command(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
