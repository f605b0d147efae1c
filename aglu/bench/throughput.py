"""Training throughput: images/s of forward + backward + SGD step per model and activation pair.

Every activation pair of a model is built in the same process and timed in turns (pair A, pair B,
..., then again), so that a change in machine load hits them all alike; each pair's figure is the
median over the repetitions after warm-up, and its ratio is taken to ReLU + sigmoid.
"""

from __future__ import annotations

import argparse
import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from aglu.bench.common import quartiles, time_interleaved
from aglu.bench.plain_layers import PlainAGLU, PlainAPA
from aglu.bench.records import machine_info, write_results

__all__ = [
    "ACTIVATION_PAIRS",
    "BASELINE",
    "TRAINING_CASES",
    "ModelCase",
    "build_model",
    "format_rows",
    "measure_throughput",
    "ratio_quartiles",
    "ratios_per_round",
    "throughput_main",
    "training_goal",
]

logger = logging.getLogger(__name__)

# pair name -> (act_layer, gate_layer) for aglu.models.create.
ACTIVATION_PAIRS: dict[str, tuple[str | type[nn.Module], str | type[nn.Module]]] = {
    "relu+sigmoid": ("relu", "sigmoid"),
    "silu+sigmoid": ("silu", "sigmoid"),
    "aglu+apa": ("aglu", "apa"),
    "aglu+apa plain ops": (PlainAGLU, PlainAPA),
}
BASELINE = "relu+sigmoid"
# Issue 5: AGLU + APA may cost at most this fraction of ReLU + sigmoid's training throughput.
MAX_TRAINING_COST = 0.15
AMP_DTYPES: dict[str, torch.dtype | None] = {
    "none": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


@dataclass(frozen=True)
class ModelCase:
    """A model of :func:`aglu.models.create` at one input size and batch size."""

    model: str
    num_classes: int
    image_size: int
    batch_size: int


TRAINING_CASES: dict[str, ModelCase] = {
    "se_resnet32": ModelCase("se_resnet32", num_classes=100, image_size=32, batch_size=128),
    "se_resnet50": ModelCase("se_resnet50", num_classes=1000, image_size=224, batch_size=8),
}
# Timed rounds per model by default (a round is one step of every pair).
TRAINING_REPEATS: dict[str, int] = {"se_resnet32": 15, "se_resnet50": 8}


def build_model(case: ModelCase, pair: str, device: torch.device) -> nn.Module:
    """The case's model with the named activation pair, on ``device``; seeded so pairs match."""
    from aglu.models import create

    if pair not in ACTIVATION_PAIRS:
        raise ValueError(f"unknown activation pair {pair!r}; use one of {list(ACTIVATION_PAIRS)}")
    act_layer, gate_layer = ACTIVATION_PAIRS[pair]
    torch.manual_seed(0)
    model = create(case.model, case.num_classes, act_layer=act_layer, gate_layer=gate_layer)
    return model.to(device)


def ratio_quartiles(
    samples: dict[str, list[float]], baseline: str, *, higher_is_better: bool
) -> dict[str, tuple[float, float, float] | None]:
    """The 25th percentile, median and 75th percentile over rounds of each step's ratio.

    The ratios are those of :func:`ratios_per_round`; their interquartile range is the noise of
    the median (None for every step when the baseline was not timed).

    Example:
        >>> seconds = {"a": [1.0, 1.0, 1.0, 1.0], "b": [2.0, 1.0, 4.0, 1.0]}
        >>> ratio_quartiles(seconds, "a", higher_is_better=False)["b"]
        (1.0, 1.5, 2.5)
    """
    if baseline not in samples:
        return dict.fromkeys(samples)
    reference = samples[baseline]
    return {
        name: quartiles(
            [
                base / t if higher_is_better else t / base
                for base, t in zip(reference, times, strict=True)
            ]
        )
        for name, times in samples.items()
    }


def ratios_per_round(
    samples: dict[str, list[float]], baseline: str, *, higher_is_better: bool
) -> dict[str, float | None]:
    """The median over rounds of each step's speed relative to ``baseline`` in the same round.

    A round times every step once, back to back, so a ratio taken inside a round cancels the load
    that a shared machine adds for seconds at a time; the median then drops the rounds it hit
    unevenly. ``higher_is_better`` gives baseline time / time (throughput), else time / baseline
    time (latency). Steps get None when the baseline was not timed.

    Example:
        >>> seconds = {"a": [1.0, 9.0, 1.0], "b": [2.0, 9.0, 3.0]}  # round 2 was slowed down
        >>> ratios_per_round(seconds, "a", higher_is_better=True)
        {'a': 1.0, 'b': 0.5}
    """
    spread = ratio_quartiles(samples, baseline, higher_is_better=higher_is_better)
    return {name: None if stats is None else stats[1] for name, stats in spread.items()}


def _training_step(
    model: nn.Module, case: ModelCase, device: torch.device, amp: torch.dtype | None
) -> Callable[[], None]:
    """A closure running one SGD step on a fixed random batch."""
    generator = torch.Generator().manual_seed(0)
    shape = (case.batch_size, 3, case.image_size, case.image_size)
    images = torch.randn(shape, generator=generator).to(device)
    targets = torch.randint(case.num_classes, (case.batch_size,), generator=generator).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            loss = loss_fn(model(images), targets)
        loss.backward()
        optimizer.step()

    return step


def measure_throughput(
    case: ModelCase,
    pairs: Sequence[str] = tuple(ACTIVATION_PAIRS),
    *,
    warmup: int = 2,
    repeats: int = 5,
    device: str | torch.device = "cpu",
    amp: torch.dtype | None = None,
) -> list[dict]:
    """Training images/s of ``case`` for each activation pair, with the ratio to ReLU + sigmoid.

    Returns:
        One row per pair: the case's fields, ``pair``, ``step_s`` (every sample),
        ``median_step_s``, ``best_step_s``, ``images_per_s`` (batch / median step),
        ``best_images_per_s`` (batch / fastest step), ``ratio_to_baseline`` (throughput over
        ReLU + sigmoid's, the median of per-round ratios; None when the baseline was not run)
        and ``ratio_p25``, ``ratio_p75`` (the quartiles of those per-round ratios).
    """
    device = torch.device(device)
    steps = {}
    for pair in pairs:
        steps[pair] = _training_step(build_model(case, pair, device), case, device, amp)
    samples = time_interleaved(steps, warmup=warmup, repeats=repeats, device=device)
    ratios = ratio_quartiles(samples, BASELINE, higher_is_better=True)
    rows = []
    for pair, times in samples.items():
        median, best = statistics.median(times), min(times)
        low, ratio, high = ratios[pair] or (None, None, None)
        rows.append(
            {
                **asdict(case),
                "pair": pair,
                "step_s": times,
                "median_step_s": median,
                "best_step_s": best,
                "images_per_s": case.batch_size / median,
                "best_images_per_s": case.batch_size / best,
                "ratio_to_baseline": ratio,
                "ratio_p25": low,
                "ratio_p75": high,
            }
        )
    return rows


def format_rows(rows: Sequence[dict], value: str, unit: str) -> str:
    """A markdown table of benchmark rows: model, input, batch, pair, the value and the ratio.

    Rows that also hold ``best_<value>`` (the fastest sample) get it as a column: on a shared
    machine the median carries the other users' load and the best sample shows the cost alone.
    """
    best = all(f"best_{value}" in row for row in rows)
    extra = f" best {unit.removeprefix('median ')} |" if best else ""
    lines = [
        f"| model | input | batch | activation + gate | {unit} |{extra} vs relu+sigmoid |",
        "| --- " * (7 if best else 6) + "|",
    ]
    for row in rows:
        ratio = "–" if row["ratio_to_baseline"] is None else f"{row['ratio_to_baseline']:.2f}×"
        size = f"{row['image_size']}×{row['image_size']}"
        cells = [row["model"], size, str(row["batch_size"]), row["pair"], f"{row[value]:.1f}"]
        cells += [f"{row[f'best_{value}']:.1f}"] if best else []
        lines.append("| " + " | ".join([*cells, ratio]) + " |")
    return "\n".join(lines)


def benchmark_parser(prog: str, cases: Sequence[str], out: str) -> argparse.ArgumentParser:
    """The options shared by ``aglu bench throughput`` and ``aglu bench latency``."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--models", nargs="+", default=list(cases), choices=list(cases))
    parser.add_argument(
        "--pairs", nargs="+", default=list(ACTIVATION_PAIRS), choices=list(ACTIVATION_PAIRS)
    )
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls per pair")
    parser.add_argument("--repeats", type=int, default=None, help="timed samples per pair")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", type=Path, default=Path(out), help="the results JSON")
    return parser


def throughput_main(argv: Sequence[str]) -> int:
    """``aglu bench throughput``: time training steps, write the JSON, log the table."""
    parser = benchmark_parser(
        "aglu bench throughput", list(TRAINING_CASES), "benchmarks/results/throughput.json"
    )
    parser.add_argument("--amp", choices=list(AMP_DTYPES), default="none", help="autocast dtype")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="images per step (default: the model's)"
    )
    args = parser.parse_args(list(argv))
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size={args.batch_size} must be at least 1")
    warmup = 2 if args.warmup is None else args.warmup
    repeats = {name: args.repeats or TRAINING_REPEATS[name] for name in args.models}
    settings = {"warmup": warmup, "repeats": repeats}
    cases = {name: TRAINING_CASES[name] for name in args.models}
    if args.batch_size is not None:
        cases = {name: replace(case, batch_size=args.batch_size) for name, case in cases.items()}
        settings["batch_size"] = args.batch_size
    machine, rows = machine_info(args.device), []
    for name in args.models:
        logger.info("throughput: %s, %d rounds", name, repeats[name])
        rows += measure_throughput(
            cases[name],
            args.pairs,
            warmup=warmup,
            repeats=repeats[name],
            device=args.device,
            amp=AMP_DTYPES[args.amp],
        )
    goal = training_goal(rows)
    payload = {
        "benchmark": "training throughput (forward + backward + SGD step, images/s)",
        "machine": {**machine, "load_average_1min_end": machine_info()["load_average_1min"]},
        "settings": {**settings, "device": args.device, "amp": args.amp},
        "rows": rows,
        "goal": goal,
    }
    write_results(args.out, payload)
    logger.info("%s", format_rows(rows, "images_per_s", "median images/s"))
    logger.info("ratios: medians of per-round ratios to relu+sigmoid")
    if goal is not None:
        logger.info("%s", goal_line(goal))
    return 0


def training_goal(rows: Sequence[dict]) -> dict | None:
    """Issue 5's goal: AGLU + APA loses at most 15 % of ReLU + sigmoid's SE-ResNet-32 throughput.

    ``met`` is True when even the 25th percentile of the per-round ratio clears the bound
    (1 − :data:`MAX_TRAINING_COST`), False when even the 75th percentile misses it, and
    ``"inconclusive"`` when the bound lies inside that interquartile range: the noise of the
    machine is then larger than the question. None when the rows hold no such ratio.

    Example:
        >>> row = {"model": "se_resnet32", "pair": "aglu+apa", "ratio_to_baseline": 0.9}
        >>> training_goal([{**row, "ratio_p25": 0.87, "ratio_p75": 0.93}])["met"]
        True
        >>> training_goal([{**row, "ratio_p25": 0.8, "ratio_p75": 0.93}])["met"]
        'inconclusive'
    """
    row = next(
        (row for row in rows if row["model"] == "se_resnet32" and row["pair"] == "aglu+apa"),
        None,
    )
    if row is None or row["ratio_to_baseline"] is None:
        return None
    bound = 1.0 - MAX_TRAINING_COST
    ratio = row["ratio_to_baseline"]
    low, high = row.get("ratio_p25", ratio), row.get("ratio_p75", ratio)
    met: bool | str = "inconclusive" if low <= bound <= high else ratio >= bound
    return {
        "max_cost": MAX_TRAINING_COST,
        "cost": 1.0 - ratio,
        "cost_p25": 1.0 - high,  # the fastest quarter of rounds costs at most this
        "cost_p75": 1.0 - low,
        "met": met,
    }


def goal_line(goal: dict) -> str:
    """One sentence stating the verdict on issue 5's training-cost goal, with its spread.

    Example:
        >>> goal = {"max_cost": 0.15, "cost": 0.1, "cost_p25": 0.05, "cost_p75": 0.2}
        >>> line = goal_line({**goal, "met": "inconclusive"})
        >>> line.split("SE-ResNet-32): ")[1].split(" (")[0]
        'inconclusive: cost 10.0 %'
        >>> line.endswith("over rounds 5.0–20.0 %, which contains the 15 % bound).")
        True
    """
    verdict = {True: "met", False: "not met"}.get(goal["met"], goal["met"])
    bound = f"{100 * goal['max_cost']:g} %"
    spread = ""
    if "cost_p25" in goal:
        low, high = 100 * goal["cost_p25"], 100 * goal["cost_p75"]
        contains = f", which contains the {bound} bound" if goal["met"] == "inconclusive" else ""
        spread = f" (interquartile range over rounds {low:.1f}–{high:.1f} %{contains})"
    return (
        f"Goal (AGLU + APA costs at most {bound} of ReLU + sigmoid training throughput on "
        f"SE-ResNet-32): {verdict}: cost {100 * goal['cost']:.1f} %{spread}."
    )
