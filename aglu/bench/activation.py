"""`aglu bench activation`: forward + backward time and memory of one activation, against SiLU.

Cases: ReLU, SiLU, GELU, AGLU composed from plain ops as the paper's code writes it
(:class:`aglu.bench.plain_layers.PlainAGLU`), and :class:`aglu.AGLU` on each available path (the
fused ``torch.compile`` kernels, the eager math). For every shape it records the median time of
forward + backward, its ratio to SiLU measured in the same process, and the bytes saved for
backward relative to the input's.

Every AGLU case gets the same λ and κ (``--lambda``, ``--kappa``; per channel, one seeded draw from
:data:`PER_CHANNEL_RANGES`), copied into each module: the eager path picks its kernels from λ's
values, so parameters drawn per case would time different code.
"""

from __future__ import annotations

import argparse
import itertools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from aglu import functional
from aglu.bench.common import (
    machine_info,
    quartiles,
    saved_tensor_bytes,
    summarize,
    time_interleaved,
    write_results,
)
from aglu.bench.plain_layers import PlainAGLU
from aglu.layers import AGLU

__all__ = ["CASES", "activation_main", "build_modules", "format_table", "measure_activation"]

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DEFAULT_OUT = "benchmarks/results/activation.json"
PER_CHANNEL = ("silu", "aglu_compiled", "aglu_eager")  # the cases with per-channel parameters
# Per-channel λ and κ are drawn once per shape, uniformly in these ranges, from this seed.
PER_CHANNEL_RANGES = {"lambda": (0.2, 1.0), "kappa": (0.8, 1.2)}
PER_CHANNEL_SEED = 0


def _aglu(path: str) -> Callable[[int, int, torch.device], nn.Module]:
    def build(channels: int, channel_dim: int, device: torch.device) -> nn.Module:
        return _OnPath(AGLU(channels, channel_dim=channel_dim, device=device), path == "compiled")

    return build


class _OnPath(nn.Module):
    """Runs a layer with the fused kernels switched on or off for the duration of the call."""

    def __init__(self, layer: nn.Module, compiled: bool) -> None:
        super().__init__()
        self.layer, self.compiled = layer, compiled

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        previous = functional.set_compile_enabled(self.compiled)
        try:
            return self.layer(input)
        finally:
            functional.set_compile_enabled(previous)


# name -> builder(channels, channel_dim, device); channels is 1 for scalar parameters.
CASES: dict[str, Callable[[int, int, torch.device], nn.Module]] = {
    "relu": lambda c, d, device: nn.ReLU(),
    "silu": lambda c, d, device: nn.SiLU(),
    "gelu": lambda c, d, device: nn.GELU(),
    "aglu_plain_ops": lambda c, d, device: PlainAGLU().to(device),
    "aglu_compiled": _aglu("compiled"),
    "aglu_eager": _aglu("eager"),
}


def _shape_parameters(
    channels: int, lambda_: float, kappa: float, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """λ and κ for every AGLU case: the given scalars, or one seeded draw per channel."""
    if channels == 1:
        return torch.tensor([lambda_], device=device), torch.tensor([kappa], device=device)
    generator = torch.Generator().manual_seed(PER_CHANNEL_SEED)
    low, high = PER_CHANNEL_RANGES["lambda"]
    lambdas = low + (high - low) * torch.rand(channels, generator=generator)
    low, high = PER_CHANNEL_RANGES["kappa"]
    kappas = low + (high - low) * torch.rand(channels, generator=generator)
    return lambdas.to(device), kappas.to(device)


def build_modules(
    cases: Sequence[str],
    channels: int,
    channel_dim: int,
    lambda_: float,
    kappa: float,
    device: torch.device,
) -> dict[str, nn.Module]:
    """A module per case, every AGLU one holding the same λ and κ (see :func:`measure_activation`).

    Example:
        >>> modules = build_modules(["silu", "aglu_eager"], 1, 1, 0.3, 1.1, torch.device("cpu"))
        >>> layer = modules["aglu_eager"].layer
        >>> round(layer.lambda_.item(), 6), round(layer.kappa.item(), 6)
        (0.3, 1.1)
    """
    if lambda_ < 0:
        raise ValueError(f"lambda_={lambda_} must be ≥ 0")
    lambdas, kappas = _shape_parameters(channels, lambda_, kappa, device)
    modules = {name: CASES[name](channels, channel_dim, device) for name in cases}
    for module in modules.values():
        layer = module.layer if isinstance(module, _OnPath) else module
        if hasattr(layer, "lambda_"):
            with torch.no_grad():
                layer.lambda_.copy_(lambdas.to(layer.lambda_))
                layer.kappa.copy_(kappas.to(layer.kappa))
    return modules


def _parameter_record(
    module: nn.Module, per_channel: bool, lambda_: float, kappa: float
) -> dict[str, float | str | None]:
    """The λ and κ a row ran with (None for cases without them)."""
    layer = module.layer if isinstance(module, _OnPath) else module
    if not hasattr(layer, "lambda_"):
        return {"lambda": None, "kappa": None}
    if not per_channel:
        return {"lambda": lambda_, "kappa": kappa}
    return {
        key: f"U({low:g}, {high:g}) per channel, seed {PER_CHANNEL_SEED}"
        for key, (low, high) in PER_CHANNEL_RANGES.items()
    }


def _fwd_bwd(module: nn.Module, input: torch.Tensor, grad: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        input.grad = None
        module(input).backward(grad)

    return step


def measure_activation(
    shape: Sequence[int],
    *,
    cases: Sequence[str] = tuple(CASES),
    channel_dim: int = 1,
    per_channel: bool = False,
    lambda_: float = 0.5,
    kappa: float = 1.0,
    dtype: torch.dtype = torch.float32,
    warmup: int = 3,
    repeats: int = 15,
    device: str | torch.device = "cpu",
) -> list[dict]:
    """Time forward + backward of each case on one input shape; one row per case.

    Every case sees the same input (standard normal) and upstream gradient, and every AGLU case
    the same λ and κ: ``lambda_`` and ``kappa``, or per channel one seeded draw from
    :data:`PER_CHANNEL_RANGES` (the rows record them). The samples are taken in turns, and the
    ratio to SiLU (``silu`` must be among the cases for it) is the median of the per-round
    ratios, so a load that drifts between rounds of a shared machine cancels out; the rows also
    hold the quartiles of those per-round ratios (``ratio_to_silu_p25``, ``ratio_to_silu_p75``).

    Example:
        >>> rows = measure_activation((2, 3, 8), cases=["silu", "aglu_eager"], repeats=2)
        >>> [(row["case"], row["ratio_to_silu"], row["saved_bytes"]) for row in rows][0]
        ('silu', 1.0, 192)
    """
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        raise ValueError(f"unknown cases {unknown}; use some of {list(CASES)}")
    scalar_only = sorted(set(cases) - {"relu", "gelu", *PER_CHANNEL})
    if per_channel and scalar_only:
        raise ValueError(f"cases {scalar_only} have scalar parameters only; drop per_channel")
    device = torch.device(device)
    torch.manual_seed(0)
    input = torch.randn(*shape, device=device, dtype=dtype, requires_grad=True)
    grad = torch.randn(*shape, device=device, dtype=dtype)
    channels = shape[channel_dim] if per_channel else 1
    modules = build_modules(cases, channels, channel_dim, lambda_, kappa, device)
    steps = {name: _fwd_bwd(module, input, grad) for name, module in modules.items()}
    samples = time_interleaved(steps, warmup=warmup, repeats=repeats, device=device)

    input_bytes = input.numel() * input.element_size()
    rows = []
    for name, module in modules.items():
        saved = saved_tensor_bytes(lambda module=module: module(input))
        rows.append(
            {
                "case": name,
                "shape": list(shape),
                "channel_dim": channel_dim,
                "parameters": "per-channel" if per_channel else "scalar",
                "dtype": str(dtype).removeprefix("torch."),
                **_parameter_record(module, per_channel, lambda_, kappa),
                **summarize(samples[name]),
                "saved_bytes": saved,
                "saved_vs_input": saved / input_bytes,
            }
        )
    for row in rows:  # the median of per-round ratios: robust to the load drifting between rounds
        ratios = [
            a / b for a, b in zip(samples[row["case"]], samples.get("silu", []), strict=False)
        ]
        low, median, high = quartiles(ratios) if ratios else (None, None, None)
        row["ratio_to_silu"] = None if median is None else round(median, 3)
        row["ratio_to_silu_p25"] = None if low is None else round(low, 3)
        row["ratio_to_silu_p75"] = None if high is None else round(high, 3)
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A markdown table: case, input, time, ratio to SiLU, bytes saved for backward."""
    lines = [
        "| activation | input (params, dtype) | fwd+bwd ms | vs SiLU | saved for backward |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "–" if row["ratio_to_silu"] is None else f"{row['ratio_to_silu']:.2f}×"
        shape = "×".join(str(n) for n in row["shape"])
        lines.append(
            f"| {row['case']} | {shape} ({row['parameters']}, {row['dtype']}) | "
            f"{row['median_ms']:.2f} | {ratio} | {row['saved_vs_input']:.2f}× input |"
        )
    return "\n".join(lines)


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(n) for n in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape {text!r} is not like 64,64,32,32") from None
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"shape {text!r} needs positive sizes, e.g. 64,64,32,32")
    return shape


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aglu bench activation",
        description="Forward + backward time and saved memory of AGLU against ReLU, SiLU, GELU.",
    )
    parser.add_argument(
        "--shape", type=_shape, action="append", help="input shape, repeatable (64,64,32,32)"
    )
    parser.add_argument(
        "--channel-dim", type=int, default=1, help="1 for (N, C, ...), -1 (N, T, C)"
    )
    parser.add_argument(
        "--parameters",
        nargs="+",
        choices=["scalar", "per-channel"],
        default=["scalar", "per-channel"],
        help="one λ, κ per layer and/or per channel",
    )
    parser.add_argument(
        "--lambda", dest="lambda_", type=float, default=0.5, help="λ of every AGLU case (scalar)"
    )
    parser.add_argument("--kappa", type=float, default=1.0, help="κ of every AGLU case (scalar)")
    parser.add_argument("--dtype", choices=list(DTYPES), default="float32")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15, help="timed samples (median reported)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), help="the results JSON")
    return parser


def activation_main(argv: Sequence[str]) -> int:
    """``aglu bench activation``: measure, write the JSON, log the markdown table."""
    args = build_parser().parse_args(list(argv))
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"--device {args.device} but no CUDA device is available; use --device cpu"
        )
    cases = list(args.cases)
    if "aglu_compiled" in cases and not functional.compile_enabled():
        logger.info("AGLU_COMPILE=0: leaving out the compiled path")
        cases.remove("aglu_compiled")
    rows = []
    for shape, parameters in itertools.product(args.shape or [(64, 64, 32, 32)], args.parameters):
        logger.info("activation: %s, %s parameters", "×".join(map(str, shape)), parameters)
        rows += measure_activation(
            shape,
            cases=cases if parameters == "scalar" else [c for c in cases if c in PER_CHANNEL],
            channel_dim=args.channel_dim,
            per_channel=parameters == "per-channel",
            lambda_=args.lambda_,
            kappa=args.kappa,
            dtype=DTYPES[args.dtype],
            warmup=args.warmup,
            repeats=args.repeats,
            device=args.device,
        )
    payload = {
        "benchmark": "activation forward + backward (median ms) and bytes saved for backward",
        "machine": machine_info(args.device),
        "settings": {
            "warmup": args.warmup,
            "repeats": args.repeats,
            "device": args.device,
            "compile_min_numel": functional.COMPILE_MIN_NUMEL,
            "lambda": args.lambda_,
            "kappa": args.kappa,
            "per_channel_ranges": PER_CHANNEL_RANGES,
            "per_channel_seed": PER_CHANNEL_SEED,
        },
        "rows": rows,
    }
    write_results(args.out, payload)
    logger.info("%s", format_table(rows))
    logger.info("wrote %s", args.out)
    return 0
