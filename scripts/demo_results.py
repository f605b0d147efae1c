"""Write the README's demo table from a run's metrics.json (numbers as the run produced them)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

ROWS = (("top1", "top-1"), ("many", "many-shot"), ("medium", "medium-shot"), ("few", "few-shot"))


def _percent(value: float | None) -> str:
    """Two decimals; a shot group without classes (null in metrics.json) shows as a dash."""
    return "–" if value is None else f"{value:.2f}"


def demo_table(run_dir: Path) -> str:
    """The markdown table (and one line on speed) of a finished ``aglu train`` run."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    model, data = config["model"], config["data"]
    variant = metrics.get("iif_variant", config["eval"]["iif"])
    lines = [
        f"`{model['name']}` with `{model['act_layer']}` activations, `{model['gate_layer']}` gates "
        f"and a `{model['head']}` head on `{data['name']}` (head class {data['max_count']} "
        f"images, 1/ρ = {data['imbalance_factor']}), {metrics['epochs']} epochs on the CPU; "
        f"scored on {metrics['num_samples']:,} test images.",
        "",
        f"| metric (%) | raw logits | with IIF ({variant}) |",
        "| --- | ---: | ---: |",
    ]
    for key, title in ROWS:
        lines.append(f"| {title} | {_percent(metrics[key])} | {_percent(metrics[key + '_iif'])} |")
    lines.append(f"| ECE | {_percent(metrics['ece'])} | {_percent(metrics['ece_iif'])} |")
    lines += [
        "",
        f"Training throughput {metrics['images_per_s']:.0f} images/s; the loader kept the model "
        f"waiting {100 * metrics['data_wait_share']:.1f} % of step time; "
        f"{metrics['train_time_s'] / 60:.1f} min of training.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a finished run folder (with metrics.json)")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--record",
        type=Path,
        help="copy the run's metrics.json and config.yaml here (the README reads this record)",
    )
    args = parser.parse_args(argv)
    if not (args.run_dir / "metrics.json").is_file():
        print(f"demo_results: {args.run_dir}/metrics.json not found; train first", file=sys.stderr)
        return 2
    table = demo_table(args.run_dir)
    print(table)
    if args.output:
        args.output.write_text(table + "\n")
    if args.record:
        args.record.mkdir(parents=True, exist_ok=True)
        for name in ("metrics.json", "config.yaml"):
            shutil.copyfile(args.run_dir / name, args.record / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
