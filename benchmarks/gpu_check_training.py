"""SE-ResNet-32 training throughput on the GPU in fp32, bf16 and fp16 autocast, for gpu_check.sh.

Usage: ``python benchmarks/gpu_check_training.py [RESULTS_DIR]`` (default ``benchmarks/results``);
writes ``throughput_gpu_<amp>.json`` there, in the format of ``aglu bench throughput``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch

from aglu.bench.throughput import throughput_main


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not torch.cuda.is_available():
        logging.error("no CUDA device: run this on a GPU machine")
        return 1
    results = Path(argv[0]) if argv else Path("benchmarks/results")
    for amp in ("none", "bf16", "fp16"):
        out = results / f"throughput_gpu_{amp}.json"
        options = ["--device", "cuda", "--models", "se_resnet32", "--amp", amp]
        code = throughput_main([*options, "--warmup", "5", "--repeats", "30", "--out", str(out)])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
