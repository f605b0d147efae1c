"""The evaluation data `aglu analyze` feeds the model: a config's data section or an import path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from aglu.analysis.loading import import_object
from aglu.analysis.run_files import read_config

__all__ = ["build_analysis_dataset"]

# Keys of a config's data section that shape training batches, not the dataset itself.
_LOADER_KEYS = {
    "recipe",
    "image_size",
    "batch_size",
    "num_workers",
    "sampler",
    "repeats",
    "mixup_alpha",
    "cutmix_alpha",
}


def _from_data_section(section: dict[str, Any], source: str) -> Dataset:
    """The evaluation split of ``aglu.data.build_dataset(**section)`` with its eval transform."""
    from aglu.data import build_dataset, build_transforms

    if "name" not in section:
        raise ValueError(f"the data section of {source} has no dataset name; add data.name")
    transform = None
    if section.get("recipe"):
        transform = build_transforms(
            section["recipe"], train=False, image_size=section.get("image_size")
        )
    dataset_args = {key: value for key, value in section.items() if key not in _LOADER_KEYS}
    return build_dataset(
        dataset_args.pop("name"),
        dataset_args.pop("root", None),
        train=False,
        transform=transform,
        **dataset_args,
    )


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
