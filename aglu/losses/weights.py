"""Class weights for re-weighting: inverse class frequency, scaled to a mean sample weight of 1."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["inverse_frequency_weights"]


def inverse_frequency_weights(
    class_counts: Sequence[int] | Tensor, dtype: torch.dtype = torch.float32
) -> Tensor:
    r"""Class weights proportional to :math:`N / n_c`, scaled so that the mean weight of a training
    image is 1.

    .. math::
        w_c = \frac{N}{C \cdot n_c}, \qquad \frac{1}{N}\sum_c n_c\, w_c = 1

    (scikit-learn's "balanced" weights), so the loss keeps its scale on the training distribution
    when deferred re-weighting switches on.

    Args:
        class_counts: the number of training images of each class, all at least 1.
        dtype: dtype of the result. Default: ``torch.float32``.

    Shape:
        - Output: :math:`(C,)`.

    Example::

        >>> inverse_frequency_weights([3, 1])  # N = 4, C = 2: 4/6 and 4/2
        tensor([0.6667, 2.0000])
    """
    counts = torch.as_tensor(class_counts, dtype=torch.float64)
    if counts.dim() != 1 or counts.numel() == 0:
        raise ValueError(
            f"class_counts must be a non-empty 1-D sequence; got shape {tuple(counts.shape)}"
        )
    if (counts < 1).any():
        bad = int(torch.nonzero(counts < 1)[0])
        raise ValueError(
            f"class_counts[{bad}] = {float(counts[bad]):g}: every class needs at least one "
            "training image for re-weighting"
        )
    return (counts.sum() / (counts.numel() * counts)).to(dtype)
