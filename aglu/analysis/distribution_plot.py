"""Figures of `aglu analyze`: histograms with fitted densities and a per-layer summary of fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aglu.analysis.figure_files import save_figure
from aglu.analysis.fits import FAMILIES
from aglu.analysis.report import AnalysisResult, FittedLayer

__all__ = ["pick_histogram_layers", "plot_histograms", "plot_layer_summary"]

_FAMILY_STYLE = {
    "normal": {"color": "tab:blue", "marker": "o"},
    "logistic": {"color": "tab:orange", "marker": "s"},
    "gumbel": {"color": "tab:green", "marker": "^"},
}


def pick_histogram_layers(result: AnalysisResult, num_layers: int = 4) -> list[FittedLayer]:
    """A few layers spread over the depth (first to last, fitted ones only), then the logits."""
    fitted = [layer for layer in result.layers if not layer.fit.degenerate]
    if len(fitted) > num_layers:
        positions = np.linspace(0, len(fitted) - 1, num_layers).round().astype(int)
        fitted = [fitted[position] for position in dict.fromkeys(positions.tolist())]
    logits = [item for item in result.logits.values() if not item.fit.degenerate]
    return fitted + logits


def _draw_histogram(axis, item: FittedLayer) -> None:
    from scipy import stats

    values = item.values.numpy()
    low, high = np.percentile(values, [0.5, 99.5])
    axis.hist(values, bins=60, range=(low, high), density=True, color="0.75", label="input")
    grid = np.linspace(low, high, 300)
    for family, fit in item.fit.fits.items():
        density = getattr(stats, FAMILIES[family]).pdf(grid, fit.loc, fit.scale)
        width = 2.2 if family == item.fit.best else 1.2
        label = f"{family} (KS {fit.ks_statistic:.3f})"
        axis.plot(grid, density, color=_FAMILY_STYLE[family]["color"], lw=width, label=label)
    axis.set_title(f"{item.name} [{item.kind}] → {item.fit.best}", fontsize=9)
    axis.legend(fontsize=7)


def plot_histograms(result: AnalysisResult, path: str | Path, num_layers: int = 4) -> Path:
    """Histograms of a few layers' inputs and of the logits, with the three fitted densities."""
    from matplotlib.figure import Figure

    items = pick_histogram_layers(result, num_layers)
    if not items:
        raise ValueError("every layer is degenerate; there is nothing to draw")
    columns = min(4, len(items))
    rows = -(-len(items) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for axis, item in zip(axes, items, strict=False):
        _draw_histogram(axis, item)
    for axis in axes[len(items) :]:
        axis.set_visible(False)
    return save_figure(figure, path)


def plot_layer_summary(result: AnalysisResult, path: str | Path) -> Path:
    """Per layer (forward order, then the logits groups): KS statistic and log-likelihood gap.

    The top panel shows each family's KS statistic (the best fit by log-likelihood drawn
    large); the bottom one each family's mean log-likelihood minus the best one's. Degenerate
    layers are marked with a grey band.
    """
    from matplotlib.figure import Figure

    items = result.layers + list(result.logits.values())
    positions = np.arange(len(items))
    figure = Figure(figsize=(max(8.0, 0.28 * len(items) + 3), 6.5), layout="constrained")
    ks_axis, gap_axis = figure.subplots(2, 1, sharex=True)
    for family, style in _FAMILY_STYLE.items():
        ks, gap, best = [], [], []
        for item in items:
            fit = item.fit.fits.get(family)
            top = item.fit.fits.get(item.fit.best) if item.fit.best else None
            ks.append(fit.ks_statistic if fit else np.nan)
            gap.append(fit.log_likelihood - top.log_likelihood if fit and top else np.nan)
            best.append(item.fit.best == family)
        ks_axis.plot(positions, ks, lw=1, ms=4, label=family, **style)
        gap_axis.plot(positions, gap, lw=1, ms=4, **style)
        chosen = np.flatnonzero(best)
        ks_axis.scatter(chosen, np.asarray(ks)[chosen], s=70, color=style["color"], zorder=3)
    for position, item in zip(positions, items, strict=True):
        if item.fit.degenerate:
            for axis in (ks_axis, gap_axis):
                axis.axvspan(position - 0.4, position + 0.4, color="0.85", zorder=0)
    if result.layers and result.logits:
        for axis in (ks_axis, gap_axis):
            axis.axvline(len(result.layers) - 0.5, color="0.4", linestyle="--", lw=0.8)
    ks_axis.set_ylabel("KS statistic (lower fits better)")
    ks_axis.set_title(f"Fits per layer over {result.samples} samples (large marker: best)")
    ks_axis.legend(fontsize=8)
    gap_axis.set_ylabel("log-likelihood − best")
    gap_axis.set_xticks(positions, [item.name for item in items], rotation=90, fontsize=7)
    for axis in (ks_axis, gap_axis):
        axis.grid(alpha=0.3)
    return save_figure(figure, path)
