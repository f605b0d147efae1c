"""Print the README's result tables, rendered from benchmarks/results/*.json, as markdown.

    python scripts/readme_tables.py activation            # one table
    python scripts/readme_tables.py activation latency    # several, in order

Add a table with one entry in TABLES: the results file's name and a function from its JSON payload
to markdown. ``scripts/update_readme.py`` puts each table between its README markers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def machine_line(payload: dict) -> str:
    """One line saying where and with what the numbers were measured."""
    machine = payload.get("machine", {})
    device = (
        machine.get("gpu") or f"{machine.get('cpu', '?')}, {machine.get('threads', '?')} threads"
    )
    load = machine.get("load_average_1min")
    load_note = f", load average {load:.1f} at the start" if load is not None else ""
    return f"_Measured on {device}, torch {machine.get('torch', '?')}{load_note}._"


def render_activation(payload: dict) -> str:
    from aglu.bench.activation import format_table

    settings = payload.get("settings", {})
    note = (
        f"Median of {settings.get('repeats', '?')} forward + backward passes after "
        f"{settings.get('warmup', '?')} warm-up ones, all cases timed in turns in one process."
    )
    if "lambda" in settings:  # results written since every case got the same parameters
        ranges = settings.get("per_channel_ranges", {})
        per_channel = ", ".join(
            f"{symbol} ~ U({low:g}, {high:g})"
            for symbol, (low, high) in zip(("λ", "κ"), ranges.values(), strict=False)
        )
        note += f" Every AGLU case has λ = {settings['lambda']:g}, κ = {settings['kappa']:g}" + (
            f" (per channel: {per_channel}, one seeded draw)." if per_channel else "."
        )
    return "\n\n".join([format_table(payload["rows"]), f"{note} {machine_line(payload)}"])


def _model_rows(value: str, unit: str) -> Callable[[dict], str]:
    def render(payload: dict) -> str:
        from aglu.bench.throughput import format_rows

        return "\n\n".join([format_rows(payload["rows"], value, unit), machine_line(payload)])

    return render


def render_throughput(payload: dict) -> str:
    """The training-throughput table, then the verdict on issue 5's cost goal when recorded."""
    from aglu.bench.throughput import goal_line

    table = _model_rows("images_per_s", "images/s")(payload)
    goal = payload.get("goal")
    return table if goal is None else f"{table}\n\n{goal_line(goal)}"


# table name -> (results file under benchmarks/results/, renderer of its JSON payload)
TABLES: dict[str, tuple[str, Callable[[dict], str]]] = {
    "activation": ("activation.json", render_activation),
    "activation_conv": ("activation_conv.json", render_activation),  # the issue-5 conv shapes
    "activation_tokens": ("activation_tokens.json", render_activation),  # (N, T, C), channel_dim -1
    "throughput": ("throughput.json", render_throughput),
    "latency": ("latency.json", _model_rows("median_ms", "median ms")),
}


def render(name: str, results: Path = RESULTS) -> str:
    """The markdown of one table; FileNotFoundError names the benchmark that writes it."""
    filename, renderer = TABLES[name]
    path = results / filename
    if not path.is_file():
        benchmark = name.split("_")[0]
        raise FileNotFoundError(f"{path} is missing; run `aglu bench {benchmark}` first")
    return renderer(json.loads(path.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", choices=list(TABLES))
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results folder")
    args = parser.parse_args(argv)
    try:
        blocks = [render(name, args.results) for name in args.tables]
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print("\n\n".join(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
