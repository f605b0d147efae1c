"""Files written atomically: a crash leaves the old file or the new one, never half of one.

Run files, checkpoints and figures all go through :func:`atomic_write_bytes`.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "atomic_write_text", "save_figure"]


def _file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file: 0o666 minus the umask."""
    try:  # Linux reports the umask without changing it (os.umask would, for every thread)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk with ``fsync``, and
    the temporary file then replaces ``path`` in one ``os.replace``. The file gets the mode of a
    plainly written one (``0o666`` minus the umask), not ``mkstemp``'s private ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, _file_mode())
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


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 120, **savefig: Any) -> Path:
    """Render a matplotlib Figure in the format its suffix names and write it atomically.

    Extra keyword arguments go to ``Figure.savefig`` (e.g. ``bbox_inches="tight"``).
    """
    path = Path(path)
    file_format = path.suffix.lstrip(".").lower()
    if not file_format:
        raise ValueError(f"figure path {str(path)!r} has no suffix; name a format such as '.png'")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=file_format, dpi=dpi, **savefig)
    atomic_write_bytes(path, buffer.getvalue())
    return path
