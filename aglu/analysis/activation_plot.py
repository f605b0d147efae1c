"""The `aglu plot activation` figure: APA and AGLU with their derivatives and special cases."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from aglu.analysis.curves import activation_curves, check_shape_parameters, special_case_curves
from aglu.analysis.figure_files import check_figure_path, save_figure

__all__ = ["plot_activation"]

_COLUMNS = (
    ("value", "{name}(z)"),
    ("d_dz", "∂{name}/∂z"),
    ("d_dlambda", "∂{name}/∂λ"),
    ("d_dkappa", "∂{name}/∂κ"),
)
# row -> the special cases drawn beside it (at κ = 1): name, label, line style.
_SPECIAL = {
    "apa": (("sigmoid", "sigmoid (λ=1)", "--"), ("gumbel", "Gumbel CDF (λ→0)", ":")),
    "aglu": (("silu", "SiLU (λ=κ=1)", "--"), ("relu", "ReLU (κ→∞)", ":")),
}


def plot_activation(
    lambdas: Sequence[float],
    kappas: Sequence[float],
    out: str | Path,
    z_range: tuple[float, float] = (-6.0, 6.0),
    num_points: int = 601,
):
    """Draw APA (top row) and AGLU (bottom row) for every (λ, κ) pair, with ∂/∂z, ∂/∂λ, ∂/∂κ.

    The special cases (sigmoid and Gumbel CDF beside APA, SiLU and ReLU beside AGLU, all at
    κ = 1) are drawn dashed in the value and ∂/∂z panels.

    Args:
        lambdas: the λ values (each ≥ 0).
        kappas: the κ values; every λ is drawn with every κ.
        out: the figure file; ``.png``, ``.svg`` or ``.pdf`` picks the format.
        z_range: the (low, high) range of z.
        num_points: how many points of z.

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure

    out = check_figure_path(out)
    if not lambdas or not kappas:
        raise ValueError("give at least one λ and one κ, e.g. --lambda 0.5 1 2 --kappa 1")
    for lambda_ in lambdas:
        for kappa in kappas:
            check_shape_parameters(lambda_, kappa)
    low, high = z_range
    if not low < high:
        raise ValueError(f"z_range={z_range} needs low < high, e.g. (-6, 6)")

    z = torch.linspace(low, high, num_points, dtype=torch.float64)
    special = special_case_curves(z)
    figure = Figure(figsize=(17, 7.5), layout="constrained")
    axes = figure.subplots(2, len(_COLUMNS), sharex=True)
    for lambda_ in lambdas:
        for kappa in kappas:
            curves = activation_curves(z, lambda_, kappa)
            for row, name in enumerate(("apa", "aglu")):
                for column, (key, _) in enumerate(_COLUMNS):
                    axes[row, column].plot(
                        z, curves[name][key], label=f"λ={lambda_:g}, κ={kappa:g}", linewidth=1.6
                    )
    for row, name in enumerate(("apa", "aglu")):
        for case, label, style in _SPECIAL[name]:
            for column, key in ((0, "value"), (1, "d_dz")):
                axes[row, column].plot(
                    z,
                    special[case][key],
                    color="black",
                    linestyle=style,
                    linewidth=1.4,
                    label=label,
                )
        for column, (_, title) in enumerate(_COLUMNS):
            axis = axes[row, column]
            axis.set_title(title.format(name=name.upper()))
            axis.axhline(0, color="0.8", linewidth=0.8, zorder=0)
            axis.axvline(0, color="0.8", linewidth=0.8, zorder=0)
            axis.grid(alpha=0.3)
        axes[row, 0].legend(fontsize=8, loc="upper left")
    for axis in axes[1]:
        axis.set_xlabel("z")
    return save_figure(figure, out)
