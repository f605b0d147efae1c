"""The `aglu plot params` figure: learned λ and κ per layer, and their trajectory over training."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from aglu.analysis.figure_files import check_figure_path, save_figure
from aglu.analysis.run_files import find_checkpoint, read_metrics_log, read_state_dict

__all__ = ["learned_parameters", "parameter_trajectory", "plot_params"]

logger = logging.getLogger(__name__)

ShapeParameters = dict[str, dict[str, np.ndarray]]  # module name -> {"lambda": .., "kappa": ..}


def learned_parameters(state_dict: dict) -> ShapeParameters:
    """Every APA/AGLU module's λ and κ in a state dict (keys ``NAME.lambda_`` and ``NAME.kappa``).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from aglu import AGLU
        >>> model = nn.Sequential(nn.Linear(2, 2), AGLU(lambda_init=0.5, kappa_init=1.0))
        >>> learned_parameters(model.state_dict())
        {'1': {'lambda': array([0.5]), 'kappa': array([1.])}}
    """
    result: ShapeParameters = {}
    for key, value in state_dict.items():
        if key.endswith("lambda_") and key[: -len("lambda_")] + "kappa" in state_dict:
            name = key[: -len(".lambda_")] or "(root)"
            kappa = state_dict[key[: -len("lambda_")] + "kappa"]
            result[name] = {
                "lambda": value.detach().cpu().double().flatten().numpy(),
                "kappa": kappa.detach().cpu().double().flatten().numpy(),
            }
    return result


def parameter_trajectory(records: list[dict]) -> tuple[np.ndarray, ShapeParameters]:
    """The epochs and each module's λ, κ per epoch (arrays ``(epochs, num_parameters)``).

    Reads the ``activation_params`` entry of each ``metrics.jsonl`` record; records without it
    are skipped. Returns an empty result when no record has it.
    """
    epochs, per_epoch = [], []
    for index, record in enumerate(records):
        params = record.get("activation_params")
        if params:
            epochs.append(record.get("epoch", index))
            per_epoch.append(params)
    trajectory: ShapeParameters = {}
    for name in dict.fromkeys(name for params in per_epoch for name in params):
        if not all(name in params for params in per_epoch):
            logger.warning("module %s is missing from some epochs of the log; skipped", name)
            continue
        trajectory[name] = {
            key: np.array([np.atleast_1d(params[name][key]) for params in per_epoch], float)
            for key in ("lambda", "kappa")
        }
    return np.asarray(epochs, dtype=float), trajectory


def _draw_per_layer(axis, params: ShapeParameters, key: str, symbol: str) -> None:
    names = list(params)
    positions = np.arange(len(names))
    means = np.array([params[name][key].mean() for name in names])
    lows = np.array([params[name][key].min() for name in names])
    highs = np.array([params[name][key].max() for name in names])
    # Gates (APA in attention; by name) and activations have different ranges: two series.
    is_gate = np.array(["gate" in name.rsplit(".", 1)[-1] for name in names], dtype=bool)
    for label, chosen, style in (("activations", ~is_gate, "o-"), ("gates", is_gate, "s")):
        if chosen.any():
            spread = [(means - lows)[chosen], (highs - means)[chosen]]
            axis.errorbar(
                positions[chosen], means[chosen], yerr=spread, fmt=style, ms=4, capsize=2,
                label=label,
            )  # fmt: skip
    if is_gate.any():
        axis.legend(fontsize=8)
    axis.set_xticks(positions, names, rotation=90, fontsize=7)
    axis.set_ylabel(symbol)
    axis.set_title(f"learned {symbol} per layer (bars: min–max over channels)", fontsize=10)
    axis.grid(alpha=0.3)


def _draw_trajectory(axis, epochs: np.ndarray, trajectory: ShapeParameters, key: str, symbol: str):
    from matplotlib import colormaps

    colors = colormaps["viridis"](np.linspace(0, 1, max(len(trajectory), 2)))
    for color, (name, series) in zip(colors, trajectory.items(), strict=False):
        axis.plot(epochs, series[key].mean(axis=1), color=color, lw=1.2, label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel(symbol)
    axis.set_title(f"{symbol} over training (colour: depth, dark = first)", fontsize=10)
    axis.grid(alpha=0.3)
    if len(trajectory) <= 12:
        axis.legend(fontsize=6)


def plot_params(run: str | Path, out: str | Path | None = None) -> Path:
    """Draw a run's learned λ and κ per layer, with their trajectory when metrics.jsonl has it.

    Args:
        run: a run folder (its checkpoint and ``metrics.jsonl``) or a checkpoint file.
        out: the figure file (``.png``, ``.svg`` or ``.pdf``); default ``RUN/figures/params.png``.

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure

    run = Path(run)
    if not run.exists():
        raise FileNotFoundError(f"{str(run)!r} does not exist; give a run folder or a checkpoint")
    run_dir = run if run.is_dir() else run.parent.parent
    out = check_figure_path(out if out is not None else run_dir / "figures" / "params.png")
    epochs, trajectory = parameter_trajectory(read_metrics_log(run_dir) if run.is_dir() else [])
    try:
        learned = learned_parameters(read_state_dict(find_checkpoint(run) if run.is_dir() else run))
    except FileNotFoundError:
        if not trajectory:
            raise
        logger.info("no checkpoint in %s: drawing the last logged λ, κ", run)
        learned = {
            name: {k: v[-1] for k, v in series.items()} for name, series in trajectory.items()
        }
    if not learned:
        raise ValueError(
            f"{run} has no APA/AGLU parameters (no '*.lambda_' and '*.kappa' weights); "
            "plot a run trained with act_layer or gate_layer aglu/apa"
        )

    rows = 2 if trajectory else 1
    figure = Figure(figsize=(max(9.0, 0.3 * len(learned) + 4), 4.2 * rows), layout="constrained")
    axes = np.atleast_2d(figure.subplots(rows, 2))
    for column, (key, symbol) in enumerate((("lambda", "λ"), ("kappa", "κ"))):
        _draw_per_layer(axes[0, column], learned, key, symbol)
        if trajectory:
            _draw_trajectory(axes[1, column], epochs, trajectory, key, symbol)
    return save_figure(figure, out)
