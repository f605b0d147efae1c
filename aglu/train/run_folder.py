"""The run folder: where a run's config, metrics, checkpoints, logs and figures live."""

from __future__ import annotations

import json
import math
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from aglu.atomic_files import atomic_write_text

__all__ = [
    "RunFolder",
    "default_run_dir",
    "strict_json",
]


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(item) for item in value]
    return value


def strict_json(payload: Any, indent: int | None = None) -> str:
    """JSON text with NaN and infinities written as ``null`` (strict JSON, which any reader takes).

    A shot group without classes scores NaN; Python's ``json`` would write a bare ``NaN``.

    Example:
        >>> strict_json({"few": float("nan"), "top1": 81.5, "per_class": [50.0, float("inf")]})
        '{"few": null, "top1": 81.5, "per_class": [50.0, null]}'
    """
    return json.dumps(_nan_to_none(payload), indent=indent, allow_nan=False)


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

    def clear_final_results(self) -> None:
        """Delete ``metrics.json`` (the mark of a finished run) and ``per_class_accuracy.json``."""
        for path in (self.metrics_json, self.per_class_json):
            path.unlink(missing_ok=True)

    def clear_results(self) -> None:
        """Delete what a run wrote besides its config: records, results, checkpoints, logs, figures.

        For a run that starts afresh in its folder (killed before its first checkpoint).
        """
        self.metrics_jsonl.unlink(missing_ok=True)
        self.clear_final_results()
        for folder in (self.checkpoints, self.logs, self.figures):
            shutil.rmtree(folder, ignore_errors=True)

    def append_epoch(self, record: dict[str, Any]) -> None:
        """Append one epoch's record to ``metrics.jsonl`` (flushed to disk)."""
        with self.metrics_jsonl.open("a") as file:
            file.write(strict_json(record) + "\n")
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
        atomic_write_text(self.metrics_jsonl, "".join(strict_json(r) + "\n" for r in kept))

    def write_json(self, path: Path, payload: dict[str, Any]) -> None:
        """Write a JSON file of the run atomically, NaN as ``null``."""
        atomic_write_text(path, strict_json(payload, indent=2) + "\n")
