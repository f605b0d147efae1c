"""The shared benchmark helpers: steps timed in turns, quartiles of samples."""

from __future__ import annotations

import pytest

from aglu.bench import common
from aglu.bench.common import quartiles, time_interleaved


def test_steps_are_warmed_up_then_timed_in_turns(monkeypatch):
    calls = []
    clock = iter(float(tick) for tick in range(100))
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    steps = {name: (lambda name=name: calls.append(name)) for name in ("A", "B", "C")}

    samples = time_interleaved(steps, warmup=2, repeats=3)

    assert calls == ["A", "A", "B", "B", "C", "C"] + ["A", "B", "C"] * 3
    # each sample is its own call's start-to-end reading of the clock: one tick apiece
    assert samples == {"A": [1.0] * 3, "B": [1.0] * 3, "C": [1.0] * 3}
    with pytest.raises(ValueError, match="repeats ≥ 1"):
        time_interleaved(steps, repeats=0)


def test_quartiles_inclusive():
    assert quartiles([0.5, 1.0, 2.0, 3.0]) == (0.875, 1.5, 2.25)
    with pytest.raises(ValueError, match="at least one value"):
        quartiles([])
