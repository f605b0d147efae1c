"""SE-ResNet-32 training throughput on the GPU in fp32, bf16 and fp16 autocast, for gpu_check.sh.

Usage: ``python benchmarks/gpu_check_training.py [RESULTS_DIR] [--device cuda] [--quick]``
(default ``benchmarks/results``); writes ``throughput_gpu_<amp>.json`` there, in the format of
``aglu bench throughput``. Few repeats, so that it stays well inside gpu_check.sh's 5 minutes;
``--quick`` (the CPU dry run) times one step of batch 2 per pair.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from aglu.bench.throughput import throughput_main

AMPS = ("none", "bf16", "fp16")


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--quick", action="store_true", help="one step of batch 2 per pair (a dry run)"
    )
    parser.add_argument("--out", help=argparse.SUPPRESS)  # gpu_check.sh's own option, unused
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        logging.error("no CUDA device: run this on a GPU machine, or pass --device cpu")
        return 1
    timing = ["--warmup", "3", "--repeats", "10"]
    if args.quick:  # one step per pair: checks that every pair trains and the JSON is written
        timing = ["--warmup", "0", "--repeats", "1", "--batch-size", "2"]
    for amp in AMPS:
        out = args.results / f"throughput_gpu_{amp}.json"
        options = ["--device", args.device, "--models", "se_resnet32", "--amp", amp]
        code = throughput_main([*options, *timing, "--out", str(out)])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
