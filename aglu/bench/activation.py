"""`aglu bench activation`: forward + backward time and memory of one activation, against SiLU.

Cases: ReLU, SiLU, GELU, AGLU composed from plain ops as the paper's code writes it
(:class:`aglu.bench.plain_layers.PlainAGLU`), and :class:`aglu.AGLU` on each available path (the
fused ``torch.compile`` kernels, the eager math). For every shape it records the median time of
forward + backward, its ratio to SiLU measured in the same process, and the bytes saved for
backward relative to the input's.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from aglu import functional
from aglu.bench.common import (
    machine_info,
    saved_tensor_bytes,
    summarize,
    time_interleaved,
    write_results,
)
from aglu.bench.plain_layers import PlainAGLU
from aglu.layers import AGLU

__all__ = ["CASES", "activation_main", "format_table", "measure_activation"]

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DEFAULT_OUT = "benchmarks/results/activation.json"
PER_CHANNEL = ("silu", "aglu_compiled", "aglu_eager")  # the cases with per-channel parameters


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
    dtype: torch.dtype = torch.float32,
    warmup: int = 3,
    repeats: int = 15,
    device: str | torch.device = "cpu",
) -> list[dict]:
    """Time forward + backward of each case on one input shape; one row per case.

    Every case sees the same input (standard normal) and upstream gradient; the samples are taken
    in turns, and the ratio to SiLU (``silu`` must be among the cases for it) is the median of the
    per-round ratios, so a load that drifts between rounds of a shared machine cancels out.

    Example:
        >>> rows = measure_activation((2, 3, 8), cases=["silu", "aglu_eager"], repeats=2)
        >>> [(row["case"], row["ratio_to_silu"], row["saved_bytes"]) for row in rows][0]
        ('silu', 1.0, 192)
    """
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        raise ValueError(f"unknown cases {unknown}; use some of {list(CASES)}")
    device = torch.device(device)
    torch.manual_seed(0)
    input = torch.randn(*shape, device=device, dtype=dtype, requires_grad=True)
    grad = torch.randn(*shape, device=device, dtype=dtype)
    channels = shape[channel_dim] if per_channel else 1
    modules = {name: CASES[name](channels, channel_dim, device) for name in cases}
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
                **summarize(samples[name]),
                "saved_bytes": saved,
                "saved_vs_input": saved / input_bytes,
            }
        )
    for row in rows:  # the median of per-round ratios: robust to the load drifting between rounds
        ratios = [
            a / b for a, b in zip(samples[row["case"]], samples.get("silu", []), strict=False)
        ]
        row["ratio_to_silu"] = round(statistics.median(ratios), 3) if ratios else None
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
        },
        "rows": rows,
    }
    write_results(args.out, payload)
    logger.info("%s", format_table(rows))
    logger.info("wrote %s", args.out)
    return 0
