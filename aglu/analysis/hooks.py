"""Forward hooks that record the input of every activation and gate module of a model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from aglu.layers import AGLU, APA

__all__ = ["GATE_TYPES", "HOOKED_TYPES", "LayerInputRecorder", "RecordedLayer"]

# Modules whose input is recorded; gates squash to (0, 1), the others are activations.
GATE_TYPES: tuple[type[nn.Module], ...] = (APA, nn.Sigmoid)
HOOKED_TYPES: tuple[type[nn.Module], ...] = (AGLU, APA, nn.ReLU, nn.SiLU, nn.Sigmoid)


@dataclass
class RecordedLayer:
    """What one module received: a subsample of its input values and the count of all of them.

    A module called several times per forward pass (a shared ``nn.ReLU``) pools its calls.
    """

    name: str
    kind: str
    role: str
    calls: int = 0
    seen: int = 0
    chunks: list[Tensor] = field(default_factory=list)

    def values(self) -> Tensor:
        """The recorded values, flattened, as float64."""
        if not self.chunks:
            return torch.empty(0, dtype=torch.float64)
        return torch.cat(self.chunks)


class LayerInputRecorder:
    """Record the inputs of a model's activation and gate modules while it runs.

    Use it as a context manager around forward passes; the hooks are removed on exit. To keep
    memory bounded on large feature maps, each call keeps at most
    ``ceil(values_per_sample × batch size)`` of its input values (the batch size is the input's
    first dimension), drawn uniformly by a seeded generator (``None`` keeps them all): every
    sample weighs the same, so a short last batch is not over-represented.

    Args:
        model: the model to watch.
        module_types: the module classes whose input is recorded.
        values_per_sample: the most values kept per sample of a call of one module.
        seed: seed of the subsampling draw.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Sigmoid())
        >>> with LayerInputRecorder(model) as recorder:
        ...     _ = model(torch.randn(5, 4))
        >>> [(layer.name, layer.kind, layer.role, layer.seen) for layer in recorder.layers.values()]
        [('1', 'ReLU', 'activation', 40), ('3', 'Sigmoid', 'gate', 10)]
    """

    def __init__(
        self,
        model: nn.Module,
        module_types: tuple[type[nn.Module], ...] = HOOKED_TYPES,
        values_per_sample: float | None = None,
        seed: int = 0,
    ) -> None:
        if values_per_sample is not None and not values_per_sample > 0:
            raise ValueError(f"values_per_sample={values_per_sample} must be positive or None")
        self.model = model
        self.module_types = module_types
        self.values_per_sample = values_per_sample
        self.generator = torch.Generator().manual_seed(seed)
        self.layers: dict[str, RecordedLayer] = {}  # in the order of their first call
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> LayerInputRecorder:
        for name, module in self.model.named_modules():
            if isinstance(module, self.module_types):
                hook = self._make_hook(name or type(module).__name__, module)
                self._handles.append(module.register_forward_pre_hook(hook))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _make_hook(self, name: str, module: nn.Module):
        role = "gate" if isinstance(module, GATE_TYPES) else "activation"

        def hook(_module: nn.Module, args: tuple) -> None:
            if not args or not isinstance(args[0], Tensor):
                return
            layer = self.layers.get(name)
            if layer is None:
                layer = self.layers[name] = RecordedLayer(name, type(module).__name__, role)
            input = args[0].detach()
            flat = input.reshape(-1)
            layer.calls += 1
            layer.seen += flat.numel()
            if self.values_per_sample is not None:
                batch = input.shape[0] if input.dim() > 0 else 1
                keep = math.ceil(self.values_per_sample * batch)
                if flat.numel() > keep:
                    picks = torch.randperm(flat.numel(), generator=self.generator)
                    flat = flat[picks[:keep].to(flat.device)]
            layer.chunks.append(flat.to("cpu", torch.float64))

        return hook
