"""Swap the activations and sigmoid gates of an existing model for AGLU and APA (`aglu.convert`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from aglu.layers import create_activation, get_activation_class

__all__ = ["ACTIVATION_TYPES", "GATE_TYPES", "ConversionReport", "convert"]

logger = logging.getLogger(__name__)

# Module types replaced by the activation and by the gate.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.ELU,
    nn.CELU,
    nn.SELU,
)
GATE_TYPES: tuple[type[nn.Module], ...] = (nn.Sigmoid,)
# The scale activation of a squeeze-and-excitation block is a gate whatever its type (MobileNetV3
# uses a hard sigmoid there).
_SE_GATE_ATTRIBUTES = {"SqueezeExcitation": "scale_activation"}

# Functional calls that convert cannot replace (reported, left in place).
_FUNCTIONAL_ACTIVATIONS = {
    F.relu,
    F.relu_,
    F.relu6,
    F.leaky_relu,
    F.gelu,
    F.silu,
    F.mish,
    F.hardswish,
    F.hardsigmoid,
    F.elu,
    F.sigmoid,
    torch.relu,
    torch.relu_,
    torch.sigmoid,
}
_METHOD_ACTIVATIONS = {"relu", "relu_", "sigmoid", "sigmoid_"}


@dataclass
class ConversionReport:
    """What :func:`convert` did.

    Attributes:
        replaced: ``(module name, old type, new type)`` for every new module; a module reused at
            several places yields one entry per use (``name``, ``name_1``, ...).
        shared: module name -> number of uses, for the instances used at several places.
        not_replaced: functional calls (``F.relu``, ``torch.sigmoid``, ``x.relu()``) left as they
            were, by graph node, and anything else convert could not handle.
        traced: whether ``torch.fx`` could trace the model (needed to find reuse and functional
            calls; without it every module is replaced in place and a reused one stays shared).
    """

    replaced: list[tuple[str, str, str]] = field(default_factory=list)
    shared: dict[str, int] = field(default_factory=dict)
    not_replaced: list[str] = field(default_factory=list)
    traced: bool = True

    def __str__(self) -> str:
        lines = [f"replaced {len(self.replaced)} modules"]
        lines += [f"  {name}: {old} -> {new}" for name, old, new in self.replaced]
        if self.shared:
            lines.append(
                "split reused modules: " + ", ".join(f"{k} x{v}" for k, v in self.shared.items())
            )
        if self.not_replaced:
            lines.append("not replaced: " + ", ".join(self.not_replaced))
        if not self.traced:
            lines.append("torch.fx could not trace the model: reuse and functional calls unchecked")
        return "\n".join(lines)


def _role(name: str, module: nn.Module, model: nn.Module) -> str | None:
    """'gate', 'activation' or None for a module called ``name`` inside ``model``."""
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if _SE_GATE_ATTRIBUTES.get(type(parent).__name__) == attribute:
        return "gate"
    if isinstance(module, GATE_TYPES):
        return "gate"
    if isinstance(module, ACTIVATION_TYPES):
        return "activation"
    return None


def _factory_kwargs(model: nn.Module) -> dict:
    """Device and floating dtype of the model's parameters, for the new modules."""
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return {"device": parameter.device, "dtype": parameter.dtype}
    return {}


def _call_sites(model: nn.Module) -> tuple[fx.GraphModule | None, dict[str, list[fx.Node]]]:
    """Trace ``model`` and map each called module name to its call nodes (None if untraceable)."""
    try:
        graph_module = fx.symbolic_trace(model)
    except Exception as error:  # data-dependent control flow and the like
        logger.info("convert: torch.fx cannot trace %s (%s)", type(model).__name__, error)
        return None, {}
    sites: dict[str, list[fx.Node]] = {}
    for node in graph_module.graph.nodes:
        if node.op == "call_module":
            sites.setdefault(node.target, []).append(node)
    return graph_module, sites


def _functional_calls(graph_module: fx.GraphModule) -> list[str]:
    found = []
    for node in graph_module.graph.nodes:
        is_function = node.op == "call_function" and node.target in _FUNCTIONAL_ACTIVATIONS
        is_method = node.op == "call_method" and node.target in _METHOD_ACTIVATIONS
        if is_function or is_method:
            target = getattr(node.target, "__name__", node.target)
            found.append(f"{node.name} ({target})")
    return found


def _layer_class(argument: str, layer: str | type[nn.Module]) -> type[nn.Module]:
    """The class for ``convert``'s ``activation=`` or ``gate=``; an error names the argument."""
    try:
        return get_activation_class(layer)
    except ValueError as error:
        raise ValueError(f"convert(..., {argument}={layer!r}): {error}") from None


def convert(
    model: nn.Module,
    activation: str | type[nn.Module] | None = "aglu",
    gate: str | type[nn.Module] | None = "apa",
    *,
    activation_kwargs: dict | None = None,
    gate_kwargs: dict | None = None,
) -> tuple[nn.Module, ConversionReport]:
    """Replace a model's activation modules with ``activation`` and its sigmoid gates with ``gate``.

    Activations are the modules in :data:`ACTIVATION_TYPES` (ReLU, ReLU6, LeakyReLU, PReLU, GELU,
    SiLU, Mish, Hardswish, ELU, CELU, SELU); gates are every ``nn.Sigmoid`` and the scale activation
    of torchvision's ``SqueezeExcitation`` (a hard sigmoid in MobileNetV3). Every use gets its own
    new module: a module instance called at several places (torchvision's ResNet blocks call one
    ReLU twice) is split with ``torch.fx``, and the model then comes back as an
    ``fx.GraphModule``. Functional calls (``F.relu(x)``) cannot be swapped and are reported.

    Args:
        model: the model to convert; modified in place where no reuse is found.
        activation: a registered name or module class for the activations; ``None`` keeps them.
        gate: a registered name or module class for the gates; ``None`` keeps them.
        activation_kwargs, gate_kwargs: keyword arguments for the new APA/AGLU modules (e.g.
            ``{"lambda_init": 1.0}``); device and dtype follow the model's parameters.

    Returns:
        ``(model, report)``: use the returned model, which may be a new ``fx.GraphModule``, and a
        :class:`ConversionReport`.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from aglu import convert
        >>> relu = nn.ReLU()
        >>> net = nn.Sequential(nn.Linear(4, 4), relu, nn.Linear(4, 4), relu, nn.Sigmoid())
        >>> net, report = convert(net)
        >>> [name for name, _, _ in report.replaced]
        ['1', '1_1', '4']
        >>> report.shared
        {'1': 2}
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"convert needs an nn.Module, got {type(model).__name__}")
    new_types = {
        role: None if layer is None else _layer_class(role, layer)
        for role, layer in (("activation", activation), ("gate", gate))
    }
    kwargs = {"activation": activation_kwargs or {}, "gate": gate_kwargs or {}}
    factory = _factory_kwargs(model)
    report = ConversionReport()

    def make(role: str) -> nn.Module:
        return create_activation(new_types[role], **factory, **kwargs[role])

    graph_module, sites = _call_sites(model)
    report.traced = graph_module is not None
    if graph_module is not None:
        report.not_replaced += _functional_calls(graph_module)

    named = list(model.named_modules(remove_duplicate=False))
    aliases: dict[int, list[str]] = {}
    for name, module in named:
        aliases.setdefault(id(module), []).append(name)
    split, handled = False, set()
    for name, module in named:
        role = _role(name, module, model) if name else None
        if role is None or new_types[role] is None or isinstance(module, new_types[role]):
            continue
        if id(module) in handled and graph_module is not None and name not in sites:
            continue  # a second name for an instance whose calls fx already put under the first
        handled.add(id(module))
        uses = sites.get(name, [])
        old = type(module).__name__
        new = make(role)
        # The model's own forward may call the instance by any of its names (``self.act`` and the
        # same module inside an ``nn.Sequential``): each name gets the new module.
        same = aliases[id(module)] if graph_module is not None else [name]
        for alias in [name, *(other for other in same if other != name and other not in sites)]:
            _set_submodule(model, alias, new)
        report.replaced.append((name, old, new_types[role].__name__))
        if len(uses) > 1:
            report.shared[name] = len(uses)
            split = True
            for node in uses[1:]:
                new_name = _unused_name(name, model, graph_module)
                graph_module.add_submodule(new_name, make(role))
                node.target = new_name
                report.replaced.append((new_name, old, new_types[role].__name__))

    if split:
        model = _rebuild(model, graph_module)
    return model, report


def _set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, attribute = name.rpartition(".")
    setattr(root.get_submodule(parent_name) if parent_name else root, attribute, module)


def _unused_name(name: str, *roots: nn.Module) -> str:
    """``name_1``, ``name_2``, …: the first that no attribute of its parent in ``roots`` holds."""
    parent_name, _, attribute = name.rpartition(".")
    parents = []
    for root in roots:
        try:
            parents.append(root.get_submodule(parent_name) if parent_name else root)
        except AttributeError:
            continue
    index = 1
    while any(hasattr(parent, f"{attribute}_{index}") for parent in parents):
        index += 1
    return f"{name}_{index}"


def _rebuild(model: nn.Module, traced: fx.GraphModule) -> fx.GraphModule:
    """A GraphModule over the converted ``model`` with the split call sites of ``traced``."""
    for node in traced.graph.nodes:
        if node.op == "call_module" and not _has_submodule(model, node.target):
            _set_submodule(model, node.target, traced.get_submodule(node.target))
    rebuilt = fx.GraphModule(model, traced.graph, class_name=type(model).__name__)
    return rebuilt.train(model.training)


def _has_submodule(root: nn.Module, name: str) -> bool:
    try:
        root.get_submodule(name)
    except AttributeError:
        return False
    return True
