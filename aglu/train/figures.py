"""The run's PNG figures: per-class accuracy, reliability, confusion matrix, learned λ and κ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from aglu.atomic_files import save_figure
from aglu.train.evaluation import EvalResult

__all__ = ["draw_run_figures"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def per_class_accuracy_figure(per_class: dict[str, Any], path: Path) -> None:
    """Accuracy of every class against its training count (log scale), raw and with IIF."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5, 3.5))
    counts = per_class["train_counts"]
    axes.scatter(counts, per_class["accuracy"], label="raw", marker="o")
    axes.scatter(
        counts, per_class["accuracy_iif"], label=f"IIF ({per_class['iif_variant']})", marker="x"
    )
    axes.set_xscale("log")
    axes.set_xlabel("training images of the class")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(-2, 102)
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def confusion_matrix_figure(logits: torch.Tensor, targets: torch.Tensor, path: Path) -> None:
    """Row-normalised confusion matrix (true class down, predicted class across)."""
    plt = _pyplot()
    num_classes = logits.shape[1]
    pairs = targets * num_classes + logits.argmax(dim=1)
    counts = torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)
    rates = counts.double() / counts.sum(dim=1, keepdim=True).clamp(min=1)
    figure, axes = plt.subplots(figsize=(4.5, 4))
    image = axes.imshow(rates.numpy(), cmap="Blues", vmin=0, vmax=1)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def activation_parameter_figure(records: list[dict[str, Any]], path: Path) -> bool:
    """λ and κ of each APA / AGLU module (mean over channels) against the epoch; False if none."""
    records = [record for record in records if record.get("activation_params")]
    if not records:
        return False
    plt = _pyplot()
    figure, (lambda_axes, kappa_axes) = plt.subplots(1, 2, figsize=(9, 3.5), sharex=True)
    epochs = [record["epoch"] for record in records]
    colors = plt.get_cmap("viridis")
    names = list(records[-1]["activation_params"])
    for position, name in enumerate(names):
        color = colors(position / max(1, len(names) - 1))
        for axes, key in ((lambda_axes, "lambda"), (kappa_axes, "kappa")):
            values = [
                sum(r["activation_params"][name][key]) / len(r["activation_params"][name][key])
                for r in records
            ]
            axes.plot(epochs, values, color=color, linewidth=0.8)
    lambda_axes.set_title("λ per layer (dark: input side)")
    kappa_axes.set_title("κ per layer")
    for axes in (lambda_axes, kappa_axes):
        axes.set_xlabel("epoch")
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)
    return True


def draw_run_figures(
    folder: Path, result: EvalResult, records: list[dict[str, Any]], num_bins: int = 15
) -> list[Path]:
    """Write the run's figures into ``folder`` and return their paths."""
    from aglu.metrics import reliability_diagram

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "per_class_accuracy.png", folder / "confusion_matrix.png"]
    per_class_accuracy_figure(result.per_class, paths[0])
    confusion_matrix_figure(result.logits, result.targets, paths[1])
    probs = (result.logits.double() + result.iif_offsets.double()).softmax(dim=1)
    reliability = folder / "reliability_diagram.png"
    reliability_diagram(probs, result.targets, num_bins=num_bins, path=reliability)
    paths.append(reliability)
    if activation_parameter_figure(records, folder / "activation_params.png"):
        paths.append(folder / "activation_params.png")
    return paths
