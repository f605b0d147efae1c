"""The run folder: where a run's config, metrics, checkpoints, logs and figures live."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["RunFolder", "atomic_write_bytes", "atomic_write_text", "default_run_dir"]


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk with ``fsync``, and
    the temporary file then replaces ``path`` in one ``os.replace``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def default_run_dir(config_path: str | Path | None) -> Path:
    """``runs/<config name>-<timestamp>``: where a run writes when ``--out`` is not given."""
    stem = Path(config_path).stem if config_path else "run"
    return Path("runs") / f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


class RunFolder:
    """Paths and writers of one run folder (the layout in ``docs/design.md``).

    Args:
        root: the run folder; created by :meth:`create`, never by the constructor.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    config = property(lambda self: self.root / "config.yaml")
    metrics_jsonl = property(lambda self: self.root / "metrics.jsonl")
    metrics_json = property(lambda self: self.root / "metrics.json")
    per_class_json = property(lambda self: self.root / "per_class_accuracy.json")
    checkpoints = property(lambda self: self.root / "checkpoints")
    last_checkpoint = property(lambda self: self.root / "checkpoints" / "last.ckpt")
    best_checkpoint = property(lambda self: self.root / "checkpoints" / "best.ckpt")
    logs = property(lambda self: self.root / "logs")
    figures = property(lambda self: self.root / "figures")

    def create(self, config_yaml: str) -> None:
        """Make the folder tree and write the resolved config."""
        for folder in (self.root, self.checkpoints, self.logs, self.figures):
            folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config, config_yaml)

    def append_epoch(self, record: dict[str, Any]) -> None:
        """Append one epoch's record to ``metrics.jsonl`` (flushed to disk)."""
        with self.metrics_jsonl.open("a") as file:
            file.write(json.dumps(record) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def read_epochs(self) -> list[dict[str, Any]]:
        """All records of ``metrics.jsonl`` (an unfinished last line is ignored)."""
        if not self.metrics_jsonl.is_file():
            return []
        records = []
        for line in self.metrics_jsonl.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return records

    def keep_epochs_up_to(self, epoch: int) -> None:
        """Drop records after ``epoch`` (those a resumed run will redo), atomically."""
        kept = [record for record in self.read_epochs() if record["epoch"] <= epoch]
        atomic_write_text(self.metrics_jsonl, "".join(json.dumps(r) + "\n" for r in kept))

    def write_json(self, path: Path, payload: dict[str, Any]) -> None:
        """Write a JSON file of the run atomically."""
        atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
