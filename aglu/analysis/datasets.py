"""The evaluation data `aglu analyze` feeds the model: a config's data section or an import path."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from aglu.analysis.loading import import_object
from aglu.analysis.run_files import read_config

__all__ = ["build_analysis_dataset"]


def _from_data_section(section: dict[str, Any], source: str) -> Dataset:
    """The evaluation split of a config's data section, built as ``aglu train`` builds it."""
    from aglu.train.config import DataConfig
    from aglu.train.datamodule import build_split

    known = {field.name for field in fields(DataConfig)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(
            f"the data section of {source} has unknown keys {unknown}; valid keys: {sorted(known)}"
        )
    return build_split(DataConfig(**section), train=False)


def build_analysis_dataset(data: str | Path | None, run_config: dict[str, Any]) -> Dataset:
    """The dataset to analyse on, from ``--data`` or else the run config's data section.

    Args:
        data: a YAML config with a ``data`` section (for :func:`aglu.data.build_dataset`; the
            evaluation split is used), an import path ``package.module:factory`` returning a
            ``Dataset`` of ``(input, target)`` pairs, or None to use ``run_config``'s data.
        run_config: the run's config (empty for a model given by import path).
    """
    if data is None:
        section = run_config.get("data")
        if not isinstance(section, dict):
            raise ValueError(
                "no dataset to analyse on: pass --data CONFIG.yaml (with a data section) or "
                "--data package.module:factory"
            )
        return _from_data_section(section, "the run's config.yaml")
    data = str(data)
    if ":" in data and not Path(data).exists():
        dataset = import_object(data)()
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"{data!r} returned {type(dataset).__name__}, not a sized Dataset")
        return dataset
    config = read_config(data)
    section = config.get("data", config)
    if not isinstance(section, dict):
        raise ValueError(f"the data section of {data} is not a mapping")
    return _from_data_section(section, data)
