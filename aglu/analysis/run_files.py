"""Read what a run folder holds: its config, its checkpoint's state dict and its metrics log."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import torch

__all__ = [
    "find_checkpoint",
    "find_run_config",
    "read_config",
    "read_metrics_log",
    "read_state_dict",
]

logger = logging.getLogger(__name__)

CHECKPOINT_NAMES = ("last.ckpt", "best.ckpt")  # the engine's default first


def find_checkpoint(run_dir: str | Path) -> Path:
    """The run's ``checkpoints/last.ckpt``, else ``best.ckpt``, else its only ``*.ckpt``."""
    folder = Path(run_dir) / "checkpoints"
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.ckpt")) if folder.is_dir() else []
    if len(found) == 1:
        return found[0]
    raise FileNotFoundError(
        f"no checkpoint in {folder} (looked for {', '.join(CHECKPOINT_NAMES)}); "
        "pass the checkpoint file itself"
    )


def find_run_config(path: str | Path) -> Path | None:
    """The ``config.yaml`` of a run folder, or of the run a checkpoint file sits in (or None)."""
    path = Path(path)
    folders = [path] if path.is_dir() else [path.parent, path.parent.parent]
    for folder in folders:
        if (folder / "config.yaml").is_file():
            return folder / "config.yaml"
    return None


def read_config(path: str | Path) -> dict:
    """Load a YAML config file into a dict."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    with path.open() as stream:
        config = yaml.safe_load(stream)
    if not isinstance(config, dict):
        raise ValueError(f"config file {str(path)!r} does not hold a mapping of sections")
    return config


def _load_checkpoint_object(path: Path):
    """torch.load on the CPU; an unreadable file is a one-line ValueError naming it."""
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            # Lightning keeps hyper-parameters in the file, which may hold arbitrary objects.
            logger.warning(
                "%s holds more than tensors; loading it fully (trusted files only)", path
            )
            return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise ValueError(
            f"checkpoint {str(path)!r} is corrupt or truncated ({type(error).__name__}); "
            "pass another checkpoint, e.g. RUN/checkpoints/best.ckpt"
        ) from None


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights of a checkpoint: a Lightning file, ``{"model": ...}`` or a state dict.

    Lightning checkpoints keep the weights under ``state_dict`` with a ``model.`` prefix (the
    run-folder format), or ``ema.module.`` for the averaged weights, which are preferred; those
    prefixes and ``module.`` (DistributedDataParallel) are removed.
    """
    path = Path(path)
    if path.is_dir():
        path = find_checkpoint(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    content = _load_checkpoint_object(path)
    if isinstance(content, dict) and isinstance(content.get("state_dict"), dict):
        content = content["state_dict"]
    elif isinstance(content, dict) and isinstance(content.get("model"), dict):
        content = content["model"]
    if not isinstance(content, dict) or not all(
        isinstance(value, torch.Tensor) for value in content.values()
    ):
        raise ValueError(
            f"{path} holds no state dict (expected a dict of tensors, a Lightning checkpoint or "
            '{"model": state_dict}); save one with torch.save(model.state_dict(), path)'
        )
    # An exponential moving average of the weights (what the engine evaluates) wins over them.
    for prefix in ("ema.module.", "model.", "module."):
        if any(key.startswith(prefix) for key in content):
            content = {
                key[len(prefix) :]: v for key, v in content.items() if key.startswith(prefix)
            }
            break
    return content


def read_metrics_log(run_dir: str | Path) -> list[dict]:
    """The per-epoch records of ``RUN_DIR/metrics.jsonl`` (an empty list when there is none)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number} is not a JSON line ({error})") from error
    return records
