"""APA and AGLU modules (Alexandridis et al., ECCV 2024) and the activation name registry."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from aglu import functional as F_aglu

__all__ = ["ACTIVATIONS", "AGLU", "APA", "create_activation", "get_activation_class"]

InitValue = float | tuple[float, float]


def _check_init(name: str, init: InitValue, minimum: float | None = None) -> tuple[float, float]:
    """Turn a float or a (low, high) range into a validated (low, high) pair."""
    if isinstance(init, int | float):
        low = high = float(init)
    elif isinstance(init, tuple | list) and len(init) == 2:
        low, high = float(init[0]), float(init[1])
    else:
        raise ValueError(
            f"{name}={init!r} is not a float or a (low, high) pair; pass e.g. (0.0, 1.0)"
        )
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name}={init!r} must be finite")
    if low > high:
        raise ValueError(f"{name}={init!r} has low > high; pass ({high}, {low})")
    if minimum is not None and low < minimum:
        raise ValueError(f"{name}={init!r} goes below {minimum}; λ must be ≥ 0")
    return low, high


class _AdaptiveActivation(nn.Module):
    """Shared parameter handling for :class:`APA` and :class:`AGLU`."""

    gated: bool
    default_kappa: tuple[float, float]

    def __init__(
        self,
        num_parameters: int = 1,
        channel_dim: int = 1,
        lambda_init: InitValue = (0.0, 1.0),
        kappa_init: InitValue | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if (
            isinstance(num_parameters, bool)
            or not isinstance(num_parameters, int)
            or num_parameters < 1
        ):
            raise ValueError(f"num_parameters={num_parameters!r} must be a positive int")
        self.num_parameters = num_parameters
        self.channel_dim = channel_dim
        self.lambda_init = _check_init("lambda_init", lambda_init, minimum=0.0)
        self.kappa_init = _check_init(
            "kappa_init", self.default_kappa if kappa_init is None else kappa_init
        )
        factory = {"device": device, "dtype": dtype}
        self.lambda_ = nn.Parameter(torch.empty(num_parameters, **factory))
        self.kappa = nn.Parameter(torch.empty(num_parameters, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw λ and κ from their initial ranges (a float init gives a constant)."""
        with torch.no_grad():
            self.lambda_.uniform_(*self.lambda_init)
            self.kappa.uniform_(*self.kappa_init)

    def _broadcast(self, param: Tensor, input: Tensor) -> Tensor:
        if self.num_parameters == 1:
            return param.view(())  # a scalar broadcasts against any input, even a 0-d one
        if not -input.dim() <= self.channel_dim < input.dim():
            raise ValueError(
                f"{type(self).__name__} has channel_dim={self.channel_dim} but its input of shape "
                f"{tuple(input.shape)} has {input.dim()} dims; pass a channel_dim in "
                f"[{-input.dim()}, {input.dim() - 1}]"
            )
        dim = self.channel_dim % input.dim()
        if input.shape[dim] != self.num_parameters:
            got = tuple(input.shape)
            raise ValueError(
                f"{type(self).__name__} has num_parameters={self.num_parameters} but the input of "
                f"shape {got} has {input.shape[dim]} channels at "
                f"channel_dim={self.channel_dim}; set num_parameters or channel_dim to match"
            )
        shape = [1] * input.dim()
        shape[dim] = self.num_parameters
        return param.view(shape)  # (1, C, 1, 1) for channel_dim=1 on (N, C, H, W)

    def forward(self, input: Tensor) -> Tensor:
        lambda_ = self._broadcast(self.lambda_, input)
        kappa = self._broadcast(self.kappa, input)
        fn = F_aglu.aglu if self.gated else F_aglu.apa
        return fn(input, lambda_, kappa)

    def __prepare_scriptable__(self) -> nn.Module:
        raise TypeError(
            f"torch.jit.script does not support {type(self).__name__} (its fused autograd function "
            "cannot be scripted); use torch.compile, torch.export or torch.onnx.export instead"
        )

    def extra_repr(self) -> str:
        return (
            f"num_parameters={self.num_parameters}, channel_dim={self.channel_dim}, "
            f"lambda_init={self.lambda_init}, kappa_init={self.kappa_init}"
        )


class APA(_AdaptiveActivation):
    r"""Adaptive Parametric Activation: the learnable gate :math:`(1 + λe^{-κz})^{-1/λ}`.

    Contains the sigmoid (λ = 1), the Gumbel CDF (λ = 0) and the step (κ → ∞). Use it where a
    sigmoid gates attention (squeeze-and-excitation, CBAM).

    Args:
        num_parameters: 1 (one λ and κ shared by all channels) or the number of channels.
        channel_dim: the channel dimension of the input; 1 for (N, C, ...), −1 for (N, T, C).
        lambda_init: initial λ, a float or a ``(low, high)`` uniform range. Default: ``(0, 1)``.
        kappa_init: initial κ, a float or a ``(low, high)`` uniform range. Default: ``(0, 1)``.
        device, dtype: where and how the parameters are created.

    Shape:
        - Input: any shape; with ``num_parameters > 1`` its ``channel_dim`` must have that size.
        - Output: the input's shape, dtype and memory format.

    Attributes:
        lambda_: λ, shape ``(num_parameters,)``. Used as ``max(λ, 0)`` with a straight-through
            gradient: λ at or below 0 is the exact Gumbel limit and still gets the gradient it
            has at 0 where that gradient raises λ (none that would push it further down), so an
            optimiser step that pushed it below 0 can be undone.
        kappa: κ, shape ``(num_parameters,)``, any real.

    .. note::
        Give λ and κ no weight decay (see :func:`aglu.param_groups`): decay pulls the shape toward
        a fixed point, as with PReLU slopes.

    Example:
        >>> import torch
        >>> from aglu import APA
        >>> gate = APA(lambda_init=1.0, kappa_init=1.0)
        >>> gate(torch.zeros(2, 3)).tolist()
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """

    gated = False
    default_kappa = (0.0, 1.0)


class AGLU(_AdaptiveActivation):
    r"""Adaptive Generalised Linear Unit: :math:`z \cdot (1 + λe^{-κz})^{-1/λ}`.

    A drop-in for ``nn.SiLU`` / ``nn.ReLU``: λ = κ = 1 is SiLU, κ → ∞ is ReLU.

    Args:
        num_parameters: 1 (one λ and κ shared by all channels) or the number of channels.
        channel_dim: the channel dimension of the input; 1 for (N, C, ...), −1 for (N, T, C).
        lambda_init: initial λ, a float or a ``(low, high)`` uniform range. Default: ``(0, 1)``.
        kappa_init: initial κ, a float or a ``(low, high)`` uniform range. Default: ``(0.8, 1.2)``.
        device, dtype: where and how the parameters are created.

    Shape:
        - Input: any shape; with ``num_parameters > 1`` its ``channel_dim`` must have that size.
        - Output: the input's shape, dtype and memory format.

    Attributes:
        lambda_: λ, shape ``(num_parameters,)``, used as ``max(λ, 0)`` with a straight-through
            gradient.
        kappa: κ, shape ``(num_parameters,)``.

    .. note::
        Give λ and κ no weight decay (see :func:`aglu.param_groups`).

    .. note::
        Large inputs run fused forward and backward kernels built by ``torch.compile`` on first use
        (seconds, then cached); ``AGLU_COMPILE=0`` or
        :func:`aglu.functional.set_compile_enabled` switches to the eager math.

    Example:
        >>> import torch
        >>> from aglu import AGLU
        >>> act = AGLU(lambda_init=1.0, kappa_init=1.0)  # exactly SiLU
        >>> z = torch.linspace(-3, 3, 7)
        >>> torch.allclose(act(z), torch.nn.functional.silu(z))
        True
    """

    gated = True
    default_kappa = (0.8, 1.2)


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "aglu": AGLU,
    "apa": APA,
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "gelu": nn.GELU,
    "mish": nn.Mish,
    "hardswish": nn.Hardswish,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
    "identity": nn.Identity,
}


def get_activation_class(layer: str | type[nn.Module]) -> type[nn.Module]:
    """Resolve an activation given as a registered lowercase name or an ``nn.Module`` class."""
    if isinstance(layer, type) and issubclass(layer, nn.Module):
        return layer
    if isinstance(layer, str) and layer.lower() in ACTIVATIONS:
        return ACTIVATIONS[layer.lower()]
    raise ValueError(
        f"unknown activation {layer!r}; use one of {sorted(ACTIVATIONS)} or an nn.Module class"
    )


def create_activation(layer: str | type[nn.Module], **kwargs) -> nn.Module:
    """Build a fresh activation module; ``kwargs`` go only to APA/AGLU (others take none)."""
    cls = get_activation_class(layer)
    if issubclass(cls, _AdaptiveActivation):
        return cls(**kwargs)
    if cls in (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.ELU, nn.Mish, nn.LeakyReLU):
        return cls(inplace=kwargs.get("inplace", False))
    return cls()
