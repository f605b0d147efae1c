"""Inference latency at batch 1 (eval mode, no autograd) per model and activation pair.

The public complaint about AGLU was inference speed (a detector's 43.8 ms became 71.9 ms when SiLU
became AGLU); this measures it on the paper's models, pairs timed in turns as in
:mod:`aglu.bench.throughput`.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict

import torch
from torch import nn

from aglu.bench.common import time_interleaved
from aglu.bench.records import machine_info, write_results
from aglu.bench.throughput import (
    ACTIVATION_PAIRS,
    BASELINE,
    ModelCase,
    benchmark_parser,
    build_model,
    format_rows,
    ratio_quartiles,
)

__all__ = ["LATENCY_CASES", "latency_main", "measure_latency"]

logger = logging.getLogger(__name__)

LATENCY_CASES: dict[str, ModelCase] = {
    "se_resnet32": ModelCase("se_resnet32", num_classes=100, image_size=32, batch_size=1),
    "se_resnet50": ModelCase("se_resnet50", num_classes=1000, image_size=224, batch_size=1),
}


def _inference_call(model: nn.Module, case: ModelCase, device: torch.device) -> Callable[[], None]:
    """A closure running the model in eval mode without autograd on a fixed random input."""
    generator = torch.Generator().manual_seed(0)
    shape = (case.batch_size, 3, case.image_size, case.image_size)
    images = torch.randn(shape, generator=generator).to(device)
    model.eval()

    def call() -> None:
        with torch.inference_mode():
            model(images)

    return call


def measure_latency(
    case: ModelCase,
    pairs: Sequence[str] = tuple(ACTIVATION_PAIRS),
    *,
    warmup: int = 5,
    repeats: int = 30,
    device: str | torch.device = "cpu",
) -> list[dict]:
    """Median ms per batch-1 forward pass of ``case`` per pair, with the ratio to ReLU + sigmoid.

    Returns:
        One row per pair: the case's fields, ``pair``, ``samples_ms`` (every sample, in the
        order taken), ``median_ms``, ``p10_ms``, ``p90_ms`` (deciles of the samples),
        ``ratio_to_baseline`` (latency over ReLU + sigmoid's, the median of per-round ratios;
        None when the baseline was not run) and ``ratio_p25``, ``ratio_p75`` (the quartiles of
        those per-round ratios).
    """
    device = torch.device(device)
    calls = {pair: _inference_call(build_model(case, pair, device), case, device) for pair in pairs}
    samples = time_interleaved(calls, warmup=warmup, repeats=repeats, device=device)
    ratios = ratio_quartiles(samples, BASELINE, higher_is_better=False)
    rows = []
    for pair, times in samples.items():
        milliseconds = [1e3 * t for t in times]
        deciles = statistics.quantiles(milliseconds, n=10) if len(times) > 1 else milliseconds * 9
        low, ratio, high = ratios[pair] or (None, None, None)
        rows.append(
            {
                **asdict(case),
                "pair": pair,
                "samples_ms": milliseconds,
                "median_ms": statistics.median(milliseconds),
                "p10_ms": deciles[0],
                "p90_ms": deciles[-1],
                "ratio_to_baseline": ratio,
                "ratio_p25": low,
                "ratio_p75": high,
            }
        )
    return rows


def latency_main(argv: Sequence[str]) -> int:
    """``aglu bench latency``: time batch-1 inference, write the JSON, log the table."""
    parser = benchmark_parser(
        "aglu bench latency", list(LATENCY_CASES), "benchmarks/results/latency.json"
    )
    args = parser.parse_args(list(argv))
    settings = {
        "warmup": 5 if args.warmup is None else args.warmup,
        "repeats": 30 if args.repeats is None else args.repeats,
    }
    machine, rows = machine_info(args.device), []
    for name in args.models:
        logger.info("latency: %s", name)
        rows += measure_latency(LATENCY_CASES[name], args.pairs, **settings, device=args.device)
    payload = {
        "benchmark": "inference latency at batch 1 (eval mode, inference_mode, ms)",
        "machine": {**machine, "load_average_1min_end": machine_info()["load_average_1min"]},
        "settings": {**settings, "device": args.device},
        "rows": rows,
    }
    write_results(args.out, payload)
    logger.info("%s", format_rows(rows, "median_ms", "median ms"))
    return 0
