"""Training throughput: images/s of forward + backward + SGD step per model and activation pair.

Every activation pair of a model is built in the same process and timed in turns (pair A, pair B,
..., then again), so that a change in machine load hits them all alike; each pair's figure is the
median over the repetitions after warm-up, and its ratio is taken to ReLU + sigmoid.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

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
    "throughput_main",
    "time_interleaved",
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


def build_model(case: ModelCase, pair: str, device: torch.device) -> nn.Module:
    """The case's model with the named activation pair, on ``device``; seeded so pairs match."""
    from aglu.models import create

    if pair not in ACTIVATION_PAIRS:
        raise ValueError(f"unknown activation pair {pair!r}; use one of {list(ACTIVATION_PAIRS)}")
    act_layer, gate_layer = ACTIVATION_PAIRS[pair]
    torch.manual_seed(0)
    model = create(case.model, case.num_classes, act_layer=act_layer, gate_layer=gate_layer)
    return model.to(device)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_interleaved(
    steps: dict[str, Callable[[], object]],
    *,
    warmup: int,
    repeats: int,
    inner: int,
    device: torch.device,
) -> dict[str, list[float]]:
    """Seconds per call of each step, ``repeats`` samples each, taken in turns after warm-up.

    Each sample is the mean of ``inner`` back-to-back calls. Example:

        >>> import torch
        >>> times = time_interleaved({"noop": lambda: None}, warmup=1, repeats=3, inner=2,
        ...                          device=torch.device("cpu"))
        >>> len(times["noop"])
        3
    """
    if warmup < 0 or repeats < 1 or inner < 1:
        raise ValueError(
            f"warmup={warmup}, repeats={repeats}, inner={inner}: need warmup ≥ 0 and the others ≥ 1"
        )
    for step in steps.values():
        for _ in range(warmup):
            step()
    _synchronize(device)
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(inner):
                step()
            _synchronize(device)
            samples[name].append((time.perf_counter() - start) / inner)
    return samples


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
    inner: int = 2,
    device: str | torch.device = "cpu",
    amp: torch.dtype | None = None,
) -> list[dict]:
    """Training images/s of ``case`` for each activation pair, with the ratio to ReLU + sigmoid.

    Returns:
        One row per pair: the case's fields, ``pair``, ``median_step_s``, ``step_s`` (every
        sample), ``images_per_s`` and ``ratio_to_baseline`` (None when the baseline was not run).
    """
    device = torch.device(device)
    steps = {}
    for pair in pairs:
        steps[pair] = _training_step(build_model(case, pair, device), case, device, amp)
    samples = time_interleaved(steps, warmup=warmup, repeats=repeats, inner=inner, device=device)
    rows = []
    for pair, times in samples.items():
        median = statistics.median(times)
        rows.append(
            {
                **asdict(case),
                "pair": pair,
                "median_step_s": median,
                "step_s": times,
                "images_per_s": case.batch_size / median,
            }
        )
    baseline = next((row["images_per_s"] for row in rows if row["pair"] == BASELINE), None)
    for row in rows:
        row["ratio_to_baseline"] = None if baseline is None else row["images_per_s"] / baseline
    return rows


def format_rows(rows: Sequence[dict], value: str, unit: str) -> str:
    """A markdown table of benchmark rows: model, input, batch, pair, the value and the ratio."""
    lines = [
        f"| model | input | batch | activation + gate | {unit} | vs relu+sigmoid |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "–" if row["ratio_to_baseline"] is None else f"{row['ratio_to_baseline']:.2f}×"
        size = f"{row['image_size']}×{row['image_size']}"
        lines.append(
            f"| {row['model']} | {size} | {row['batch_size']} | {row['pair']} | "
            f"{row[value]:.1f} | {ratio} |"
        )
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
    args = parser.parse_args(list(argv))
    settings = {
        "warmup": 2 if args.warmup is None else args.warmup,
        "repeats": 7 if args.repeats is None else args.repeats,
        "inner": 1,
    }
    machine, rows = machine_info(args.device), []
    for name in args.models:
        logger.info("throughput: %s", name)
        rows += measure_throughput(
            TRAINING_CASES[name],
            args.pairs,
            **settings,
            device=args.device,
            amp=AMP_DTYPES[args.amp],
        )
    goal = _training_goal(rows)
    payload = {
        "benchmark": "training throughput (forward + backward + SGD step, images/s)",
        "machine": {**machine, "load_average_1min_end": machine_info()["load_average_1min"]},
        "settings": {**settings, "device": args.device, "amp": args.amp},
        "rows": rows,
        "goal": goal,
    }
    write_results(args.out, payload)
    logger.info("%s", format_rows(rows, "images_per_s", "images/s"))
    if goal is not None:
        verdict = "met" if goal["met"] else "NOT met"
        logger.info(
            "goal (aglu+apa costs ≤ 15 %% on se_resnet32): %s, cost %.1f %%",
            verdict,
            100 * goal["cost"],
        )
    return 0


def _training_goal(rows: Sequence[dict]) -> dict | None:
    """Issue 5's goal: AGLU + APA loses at most 15 % of ReLU + sigmoid's SE-ResNet-32 throughput."""
    ratio = next(
        (
            row["ratio_to_baseline"]
            for row in rows
            if row["model"] == "se_resnet32" and row["pair"] == "aglu+apa"
        ),
        None,
    )
    if ratio is None:
        return None
    return {
        "max_cost": MAX_TRAINING_COST,
        "cost": 1.0 - ratio,
        "met": 1.0 - ratio <= MAX_TRAINING_COST,
    }
