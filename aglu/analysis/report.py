"""Run a model over N samples, fit every hooked layer and the logits, and build analysis.json."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from aglu.analysis.fits import (
    DEFAULT_MAX_VALUES,
    FAMILIES,
    DistributionFit,
    fit_distributions,
    subsample,
)
from aglu.analysis.hooks import HOOKED_TYPES, LayerInputRecorder
from aglu.layers import AGLU, APA

__all__ = ["AnalysisResult", "FittedLayer", "analyze", "shot_groups"]

logger = logging.getLogger(__name__)


@dataclass
class FittedLayer:
    """One analysed sample: a layer's input or a group of logits, with its fits and values."""

    name: str
    kind: str
    role: str
    fit: DistributionFit
    values: Tensor  # the subsample the fits used, kept for the histograms
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Name, kind, role, the extra facts (λ, κ, group) and the fit, as one JSON-ready dict."""
        head = {"name": self.name, "kind": self.kind, "role": self.role, **self.extra}
        return {**head, **self.fit.to_dict()}


@dataclass
class AnalysisResult:
    """The fits of every hooked layer (forward order) and of the logits by shot group."""

    samples: int
    layers: list[FittedLayer]
    logits: dict[str, FittedLayer]
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """What ``analysis.json`` holds."""

        best = {family: 0 for family in FAMILIES}
        for layer in self.layers:
            if layer.fit.best is not None:
                best[layer.fit.best] += 1
        return {
            "samples": self.samples,
            "families": list(FAMILIES),
            **self.settings,
            "best_fit_counts": best,
            "degenerate_layers": [layer.name for layer in self.layers if layer.fit.degenerate],
            "layers": [layer.to_dict() for layer in self.layers],
            "logits": {group: item.to_dict() for group, item in self.logits.items()},
        }


def shot_groups(
    class_counts: Sequence[int], many_threshold: int = 100, few_threshold: int = 20
) -> dict[str, list[int]]:
    """Split classes by training count: many (> many), medium (few..many), few (< few).

    Example:
        >>> shot_groups([500, 101, 100, 20, 19, 3])
        {'many': [0, 1], 'medium': [2, 3], 'few': [4, 5]}
    """
    if few_threshold > many_threshold:
        raise ValueError(
            f"few_threshold={few_threshold} > many_threshold={many_threshold}; swap them"
        )
    groups: dict[str, list[int]] = {"many": [], "medium": [], "few": []}
    for index, count in enumerate(class_counts):
        if count > many_threshold:
            groups["many"].append(index)
        elif count < few_threshold:
            groups["few"].append(index)
        else:
            groups["medium"].append(index)
    return groups


def _shape_parameters(module: nn.Module) -> dict[str, Any]:
    """The learned λ and κ of an APA/AGLU module (a float, or a list when per channel)."""
    if not isinstance(module, APA | AGLU):
        return {}
    values = {}
    for key, parameter in (("lambda", module.lambda_), ("kappa", module.kappa)):
        flat = parameter.detach().cpu().double().flatten().tolist()
        values[key] = flat[0] if len(flat) == 1 else flat
    return values


def _batches(dataset: Dataset, samples: int, batch_size: int, seed: int, num_workers: int):
    """A loader over ``samples`` items of ``dataset`` picked by a seeded draw (all if fewer)."""
    if samples < 1:
        raise ValueError(f"samples={samples} must be a positive int")
    total = len(dataset)
    if total == 0:
        raise ValueError("the dataset is empty; check its root and split")
    if samples < total:
        generator = torch.Generator().manual_seed(seed)
        indices = torch.randperm(total, generator=generator)[:samples].sort().values.tolist()
        dataset = Subset(dataset, indices)
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)


def _fit_sample(
    name: str, kind: str, role: str, values: Tensor, max_values: int, seed: int
) -> FittedLayer:
    fit = fit_distributions(values, max_values=max_values, seed=seed)
    finite = values[torch.isfinite(values)].to(torch.float64).numpy()
    kept = torch.from_numpy(subsample(finite, max_values, seed))  # the very draw the fits used
    return FittedLayer(name, kind, role, fit, kept)


def _fit_logits(
    logits: Tensor, class_counts: Sequence[int] | None, thresholds: tuple[int, int], **fit_args
) -> dict[str, FittedLayer]:
    """Fit all logits, then the logits of the many-, medium- and few-shot classes apart."""
    result = {"all": _fit_sample("logits", "logits", "logits", logits.flatten(), **fit_args)}
    result["all"].extra = {"group": "all", "num_classes": logits.shape[1]}
    if class_counts is None:
        logger.info("no training class counts: logits are not split into shot groups")
        return result
    if len(class_counts) != logits.shape[1]:
        raise ValueError(
            f"the dataset has {len(class_counts)} class counts but the model gives "
            f"{logits.shape[1]} logits; analyse with the dataset the model was trained on"
        )
    for group, classes in shot_groups(class_counts, *thresholds).items():
        if not classes:
            continue
        item = _fit_sample(
            f"logits[{group}]", "logits", "logits", logits[:, classes].flatten(), **fit_args
        )
        item.extra = {"group": group, "num_classes": len(classes)}
        result[group] = item
    return result


@torch.no_grad()
def analyze(
    model: nn.Module,
    dataset: Dataset,
    *,
    samples: int = 1000,
    class_counts: Sequence[int] | None = None,
    many_threshold: int = 100,
    few_threshold: int = 20,
    batch_size: int = 100,
    max_values: int = DEFAULT_MAX_VALUES,
    module_types: tuple[type[nn.Module], ...] = HOOKED_TYPES,
    seed: int = 0,
    device: str | torch.device = "cpu",
    num_workers: int = 0,
) -> AnalysisResult:
    """Fit Normal, Logistic and Gumbel to each activation's input and to the logits.

    ``samples`` items of ``dataset`` (a seeded draw) go through ``model`` in eval mode; a forward
    pre-hook on every module of ``module_types`` records its input, and the model's output is
    taken as the logits ``(N, C)``. Each layer keeps about ``max_values`` values in all (a
    seeded draw from each batch in proportion to its size, so that every sample weighs the same;
    a module called k times per pass keeps k times as many), and every fit uses at most
    ``max_values`` of them, so that every fit costs the same. With ``class_counts`` (the
    training count of each class) the logits are also fitted per shot group: many-shot
    (> ``many_threshold``), medium and few-shot (< ``few_threshold``) classes, each over all
    samples.

    Args:
        model: any ``nn.Module`` whose output is a logits tensor.
        dataset: yields ``(input, target)`` pairs (or inputs alone).

    Returns:
        An :class:`AnalysisResult`; a layer whose input is constant is marked degenerate.
    """
    loader = _batches(dataset, samples, batch_size, seed, num_workers)
    values_per_sample = max_values / len(loader.dataset)
    model = model.eval().to(device)
    modules = dict(model.named_modules())
    logits_chunks, seen = [], 0
    with LayerInputRecorder(model, module_types, values_per_sample, seed) as recorder:
        for batch in loader:
            inputs = batch[0] if isinstance(batch, list | tuple) else batch
            output = model(inputs.to(device))
            if not isinstance(output, Tensor) or output.dim() != 2:
                raise TypeError(
                    f"the model returned {type(output).__name__}"
                    f"{tuple(output.shape) if isinstance(output, Tensor) else ''}; analyze needs "
                    "logits of shape (N, C)"
                )
            logits_chunks.append(output.detach().to("cpu", torch.float64))
            seen += output.shape[0]
    if not recorder.layers:
        logger.warning("no %s module ran in the model", "/".join(t.__name__ for t in module_types))

    fit_args = {"max_values": max_values, "seed": seed}
    layers = []
    for name, recorded in recorder.layers.items():
        item = _fit_sample(name, recorded.kind, recorded.role, recorded.values(), **fit_args)
        item.extra = {"calls": recorded.calls, "values_seen": recorded.seen}
        item.extra.update(_shape_parameters(modules.get(name, nn.Identity())))
        layers.append(item)
        if item.fit.degenerate:
            logger.warning("layer %s is degenerate: %s", name, item.fit.reason)
    logits = _fit_logits(
        torch.cat(logits_chunks), class_counts, (many_threshold, few_threshold), **fit_args
    )
    settings = {
        "max_values_per_layer": max_values,
        "seed": seed,
        "many_threshold": many_threshold,
        "few_threshold": few_threshold,
    }
    return AnalysisResult(seen, layers, logits, settings)
