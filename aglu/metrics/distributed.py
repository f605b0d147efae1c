"""Gather per-rank evaluation results of different lengths, dropping and duplicating nothing."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["all_gather_uneven"]


def all_gather_uneven(tensor: Tensor, group: dist.ProcessGroup | None = None) -> Tensor:
    """Concatenate ``tensor`` from every rank along dim 0, in rank order, whatever its length.

    Meant for evaluation under a sampler that deals samples to ranks without padding (such as
    ``aglu.data.DistributedEvalSampler``), where ranks hold different numbers of samples: each
    rank's rows are padded to the longest for the collective and the padding is cut off again,
    so every sample counts exactly once. Gather predictions and targets with two calls; both come
    back in the same order. Without an initialised process group the tensor is returned as is.

    Args:
        tensor: this rank's results, shape (N_rank, ...); the trailing shape and the dtype must
            agree across ranks. With NCCL it must be on this rank's GPU.
        group: the process group. Default: the world.

    Shape:
        - Output: :math:`(\\sum_r N_r, ...)`, on the device of ``tensor``.

    Example::

        >>> all_gather_uneven(torch.arange(3))  # no process group: unchanged
        tensor([0, 1, 2])
    """
    if not (dist.is_available() and dist.is_initialized()):
        return tensor
    if tensor.dim() == 0:
        raise ValueError("all_gather_uneven needs a tensor with a sample dimension; got a scalar")
    world_size = dist.get_world_size(group)
    length = torch.tensor([tensor.shape[0]], dtype=torch.int64, device=tensor.device)
    lengths = [torch.zeros_like(length) for _ in range(world_size)]
    dist.all_gather(lengths, length, group=group)
    sizes = [int(n.item()) for n in lengths]
    longest = max(sizes)
    padded = tensor.new_zeros((longest, *tensor.shape[1:]))
    padded[: tensor.shape[0]] = tensor
    gathered = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(gathered, padded.contiguous(), group=group)
    return torch.cat([part[:size] for part, size in zip(gathered, sizes, strict=True)])
