"""The reliability diagram: accuracy against confidence per bin, with the sample share below."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from torch import Tensor

from aglu.atomic_files import save_figure
from aglu.metrics.calibration import calibration_bins

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["reliability_diagram"]


def reliability_diagram(
    probs: Tensor,
    targets: Tensor,
    num_bins: int = 15,
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the reliability diagram of top-1 predictions and return the matplotlib Figure.

    The upper panel shows each bin's accuracy as a bar against the diagonal of perfect
    calibration, the gap to the bin's mean confidence hatched, and the ECE and MCE in the
    legend; the lower panel shows the share of samples in each bin. The figure is drawn with the
    Agg canvas and never touches pyplot's global state, so it works without a display.

    Args:
        probs: probabilities of shape (N, C).
        targets: labels of shape (N,) in [0, C).
        num_bins: number of equal-width confidence bins. Default: 15.
        path: where to save the figure (format from the suffix), written atomically; ``None``
            to only return it.
        title: title of the upper panel. Default: ``"Reliability diagram"``.

    Example::

        >>> import torch
        >>> probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
        >>> figure = reliability_diagram(probs, torch.tensor([0, 1, 1]), num_bins=5)
        >>> len(figure.axes)
        2
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bins = calibration_bins(probs, targets, num_bins)
    edges = bins.edges.numpy()
    width = edges[1] - edges[0]
    occupied = (bins.counts > 0).numpy()
    accuracy = bins.accuracy.nan_to_num(0.0).numpy()
    confidence = bins.confidence.numpy()
    share = (bins.counts / bins.counts.sum().clamp(min=1)).numpy()
    ece, mce = bins.expected_error(), bins.maximum_error()

    figure = Figure(figsize=(4.8, 5.6), layout="constrained")
    FigureCanvasAgg(figure)
    upper, lower = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    upper.bar(
        edges[:-1],
        accuracy,
        width=width,
        align="edge",
        color="tab:blue",
        edgecolor="black",
        linewidth=0.5,
        label="accuracy",
    )
    upper.bar(
        edges[:-1][occupied],
        (confidence - accuracy)[occupied],
        bottom=accuracy[occupied],
        width=width,
        align="edge",
        color="tab:red",
        alpha=0.3,
        hatch="//",
        edgecolor="tab:red",
        linewidth=0.5,
        label="gap to confidence",
    )
    upper.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    upper.set(xlim=(0, 1), ylim=(0, 1), ylabel="accuracy", title=title or "Reliability diagram")
    upper.legend(
        loc="upper left",
        title=f"ECE {100 * ece:.2f}%  MCE {100 * mce:.2f}%",
        fontsize="small",
        title_fontsize="small",
    )
    lower.bar(
        edges[:-1], share, width=width, align="edge", color="gray", edgecolor="black", linewidth=0.5
    )
    lower.set(xlim=(0, 1), xlabel="confidence", ylabel="share of samples")

    if path is not None:
        save_figure(figure, path, dpi=150)
    return figure
