"""What every benchmark result records: the machine it ran on, written as JSON atomically."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from aglu.atomic_files import atomic_write_text

__all__ = ["cpu_model", "machine_info", "write_results"]


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what :mod:`platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info(device: str | torch.device = "cpu") -> dict[str, Any]:
    """CPU model, cores, threads, load average, torch and Python versions, and the GPU if used.

    The load average matters on a shared machine: timings taken under load are slower and noisier.

    Example:
        >>> info = machine_info()
        >>> info["torch"] == torch.__version__ and info["threads"] == torch.get_num_threads()
        True
    """
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    device = torch.device(device)
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def write_results(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON to ``path`` (folders made, replaced atomically).

    Through :func:`aglu.atomic_files.atomic_write_text`: a temporary file of a unique name, so two
    processes writing the same file never share one, and a reader sees one whole version.
    """
    path = Path(path)
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
    return path
