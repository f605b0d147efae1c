"""Helpers every benchmark shares: interleaved timing with medians, bytes saved for backward.

The machine record and the JSON writer live in :mod:`aglu.bench.records` and are re-exported here.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from aglu.bench.records import machine_info, write_results

__all__ = [
    "machine_info",
    "quartiles",
    "saved_tensor_bytes",
    "summarize",
    "synchronize",
    "time_interleaved",
    "write_results",
]


def synchronize(device: torch.device | str) -> None:
    """Wait for queued GPU work so that a wall-clock time covers it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_interleaved(
    steps: dict[str, Callable[[], object]],
    *,
    warmup: int = 3,
    repeats: int = 15,
    device: torch.device | str = "cpu",
) -> dict[str, list[float]]:
    """Seconds per call of each step, ``repeats`` samples each, taken in turns after warm-up.

    Taking the samples in turns spreads the load of a shared machine over all steps alike, so their
    ratios stay meaningful even when the absolute times drift.

    Example:
        >>> samples = time_interleaved({"noop": lambda: None}, warmup=1, repeats=3)
        >>> len(samples["noop"])
        3
    """
    if warmup < 0 or repeats < 1:
        raise ValueError(f"warmup={warmup}, repeats={repeats}: need warmup ≥ 0 and repeats ≥ 1")
    for step in steps.values():
        for _ in range(warmup):
            step()
    synchronize(device)
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            synchronize(device)
            samples[name].append(time.perf_counter() - start)
    return samples


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """The 25th percentile, the median and the 75th percentile (inclusive method).

    Example:
        >>> quartiles([4.0, 1.0, 3.0, 2.0, 5.0])
        (2.0, 3.0, 4.0)
        >>> quartiles([7.0])
        (7.0, 7.0, 7.0)
    """
    if not values:
        raise ValueError("quartiles needs at least one value; got none")
    if len(values) == 1:
        return values[0], values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, statistics.median(values), high


def summarize(seconds: list[float]) -> dict[str, float]:
    """Median and interquartile range of timing samples, in milliseconds."""
    ms = sorted(1e3 * s for s in seconds)
    quartiles = statistics.quantiles(ms, n=4) if len(ms) > 1 else [ms[0]] * 3
    return {"median_ms": statistics.median(ms), "iqr_ms": quartiles[2] - quartiles[0]}


def saved_tensor_bytes(forward: Callable[[], object]) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``forward()`` runs.

    Example:
        >>> x = torch.randn(1000, requires_grad=True)
        >>> saved_tensor_bytes(lambda: torch.sigmoid(x))  # sigmoid saves its output
        4000
    """
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        forward()
    return sum(storages.values())
