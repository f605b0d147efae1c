"""Inverse image frequency (IIF) offsets: the per-class logit adjustment applied at inference.

With n_c the training images of class c and N = Σ n_c, each variant maps the class frequency to an
offset that is added to the logits, so that rare classes are pushed up:

    raw     log(N / n_c)
    smooth  log((N + 1) / (n_c + 1)) + 1
    rel     log((N − n_c) / n_c)                (the default)
    normit  −Φ⁻¹(n_c / N)                       (Φ the standard normal CDF)
    gombit  −log(−log(1 − n_c / N))
    base2   log₂(N / n_c)
    base10  log₁₀(N / n_c)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["IIF_VARIANTS", "adjust_logits", "iif_offsets"]


def _raw(counts: Tensor, total: Tensor) -> Tensor:
    return torch.log(total / counts)


def _smooth(counts: Tensor, total: Tensor) -> Tensor:
    return torch.log((total + 1) / (counts + 1)) + 1


def _rel(counts: Tensor, total: Tensor) -> Tensor:
    return torch.log((total - counts) / counts)


def _normit(counts: Tensor, total: Tensor) -> Tensor:
    return -torch.special.ndtri(counts / total)


def _gombit(counts: Tensor, total: Tensor) -> Tensor:
    # −log(1 − f) = −log1p(−f) keeps the precision of a small frequency f.
    return -torch.log(-torch.log1p(-counts / total))


def _base2(counts: Tensor, total: Tensor) -> Tensor:
    return torch.log2(total / counts)


def _base10(counts: Tensor, total: Tensor) -> Tensor:
    return torch.log10(total / counts)


_OFFSETS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "raw": _raw,
    "smooth": _smooth,
    "rel": _rel,
    "normit": _normit,
    "gombit": _gombit,
    "base2": _base2,
    "base10": _base10,
}

#: The IIF variant names accepted by :func:`iif_offsets`.
IIF_VARIANTS: tuple[str, ...] = tuple(_OFFSETS)


def _as_counts(train_counts: Sequence[int] | Tensor, variant: str) -> Tensor:
    """Validate the training counts and return them as a float64 vector."""
    counts = torch.as_tensor(train_counts)
    if counts.dim() != 1 or counts.numel() < 2:
        raise ValueError(
            f"train_counts must be a 1-D sequence of at least 2 class counts; "
            f"got shape {tuple(counts.shape)}"
        )
    if counts.dtype == torch.bool or counts.is_complex():
        raise TypeError(f"train_counts must hold integers; got dtype {counts.dtype}")
    if counts.is_floating_point() and not torch.equal(counts, counts.round()):
        raise ValueError(f"train_counts must be whole numbers; got {counts.tolist()}")
    counts = counts.to(torch.float64)
    lowest = 0 if variant == "smooth" else 1
    if (counts < lowest).any():
        bad = int(torch.nonzero(counts < lowest)[0])
        raise ValueError(
            f"train_counts[{bad}] = {int(counts[bad])}: IIF variant {variant!r} needs every class "
            f"to have at least {lowest} training image(s); drop the class or use 'smooth'"
        )
    if int((counts > 0).sum()) < 2:
        raise ValueError(
            f"train_counts {counts.long().tolist()} has fewer than 2 classes with images; "
            "IIF needs at least two"
        )
    return counts


def iif_offsets(
    train_counts: Sequence[int] | Tensor,
    variant: str = "rel",
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    r"""Per-class IIF offsets that are added to the logits at inference.

    Computed in float64 from the class counts, then cast to ``dtype``. See the module docstring for
    the formula of each variant.

    Args:
        train_counts: the number of training images of each class, length C (at least 2).
        variant: one of :data:`IIF_VARIANTS`. Default: ``"rel"``.
        dtype: dtype of the result. Default: ``torch.float32``.
        device: device of the result. Default: the CPU.

    Shape:
        - Output: :math:`(C,)`.

    Raises:
        ValueError: unknown variant, fewer than 2 classes, or a class with no training image
            (allowed only by ``"smooth"``).

    Example::

        >>> iif_offsets([3, 1], "raw")  # log(4/3), log(4)
        tensor([0.2877, 1.3863])
        >>> iif_offsets([2, 1, 1], "base2")
        tensor([1., 2., 2.])
    """
    if variant not in _OFFSETS:
        raise ValueError(f"unknown IIF variant {variant!r}; choose one of {list(IIF_VARIANTS)}")
    counts = _as_counts(train_counts, variant)
    total = counts.sum()
    return _OFFSETS[variant](counts, total).to(dtype=dtype, device=device)


def adjust_logits(
    logits: Tensor, train_counts: Sequence[int] | Tensor, variant: str = "rel"
) -> Tensor:
    r"""Return ``logits + iif_offsets(train_counts, variant)`` broadcast over the class dimension.

    Args:
        logits: classifier outputs with the classes in the last dimension.
        train_counts: the number of training images of each class, length C.
        variant: one of :data:`IIF_VARIANTS`. Default: ``"rel"``.

    Shape:
        - Input: :math:`(*, C)`.
        - Output: :math:`(*, C)`, same dtype and device as ``logits``.

    Example::

        >>> adjust_logits(torch.zeros(1, 2), [1, 1], "raw")  # log(2/1) for both classes
        tensor([[0.6931, 0.6931]])
    """
    offsets = iif_offsets(train_counts, variant, dtype=logits.dtype, device=logits.device)
    if logits.dim() == 0 or logits.shape[-1] != offsets.numel():
        raise ValueError(
            f"logits of shape {tuple(logits.shape)} do not end in the {offsets.numel()} classes "
            "of train_counts; pass logits shaped (..., C)"
        )
    return logits + offsets
