"""Checkpoints that survive a kill at any moment, and a clear error for a corrupt one."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from aglu.atomic_files import atomic_write_bytes

__all__ = ["AtomicCheckpointIO", "CorruptCheckpointError", "read_checkpoint"]


class CorruptCheckpointError(ValueError):
    """A checkpoint file that cannot be read back."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, made atomic: temporary file, ``fsync``, ``os.replace``.

    A process killed while saving leaves the previous checkpoint intact.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"storage_options={storage_options!r} is not supported; pass None")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(path, buffer.getvalue())


_RESUME_FIX = "resume from another run or delete it to start afresh"


def read_checkpoint(path: str | Path, fix: str = _RESUME_FIX) -> dict[str, Any]:
    """Load a Lightning checkpoint on the CPU, raising a one-line error when it is unreadable.

    ``fix`` ends the error of a corrupt file: what the caller's user can do instead.

    Raises:
        FileNotFoundError: no file at ``path``.
        CorruptCheckpointError: the file is truncated, not a checkpoint, or lacks its state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} not found; pass a run folder or a .ckpt")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise CorruptCheckpointError(
            f"checkpoint {str(path)!r} is corrupt or truncated ({type(error).__name__}); {fix}"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CorruptCheckpointError(
            f"checkpoint {str(path)!r} holds no Lightning state_dict; pass one of aglu train"
        )
    return checkpoint


def resolve_checkpoint(run_dir_or_checkpoint: str | Path, which: str = "last") -> Path:
    """The checkpoint file of a run folder (``checkpoints/<which>.ckpt``), or the path itself."""
    path = Path(run_dir_or_checkpoint)
    if path.is_dir():
        if which not in ("last", "best"):
            raise ValueError(f"checkpoint {which!r} is not 'last' or 'best'")
        checkpoint = path / "checkpoints" / f"{which}.ckpt"
        if which == "best" and not checkpoint.is_file() and (path / "config.yaml").is_file():
            raise FileNotFoundError(
                f"{str(path)!r} has no best.ckpt: no validation epoch has run yet; "
                "use the last checkpoint (--checkpoint last)"
            )
        return checkpoint
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r} not found; pass a run folder or a .ckpt file")
    return path


def load_model(run_dir_or_checkpoint: str | Path, which: str = "last") -> tuple[Any, dict]:
    """Rebuild a trained network from a run folder or a checkpoint of ``aglu train``.

    The weights are those evaluation scores: the EMA's when the run kept one.

    Args:
        run_dir_or_checkpoint: a run folder (``which`` picks ``last`` or ``best``) or a ``.ckpt``.
        which: ``"last"`` or ``"best"`` for a run folder.

    Returns:
        ``(model, config)``: the network from :func:`aglu.models.create` in eval mode and the
        run's config as nested dicts.
    """
    from aglu.models import create

    path = resolve_checkpoint(run_dir_or_checkpoint, which)
    checkpoint = read_checkpoint(path)
    config = checkpoint.get("hyper_parameters", {}).get("config")
    if config is None:
        raise CorruptCheckpointError(f"checkpoint {str(path)!r} has no config; not from aglu train")
    model = create(**config["model"])
    state = checkpoint["state_dict"]
    prefix = "ema.module." if any(key.startswith("ema.module.") for key in state) else "model."
    model.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
    return model.eval(), config
