"""Where the bundled sample data and notebooks live (source checkout or installed package), and
which files a list of input names means (names read as written; patterns only when asked)."""

from __future__ import annotations

import glob as globlib
import os
from pathlib import Path
from typing import Any

from .errors import DataLoadError, EscAnalyticsError


def project_root() -> Path | None:
    """The source checkout holding this package (three levels above ``_util/``), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").exists() else None


def sample_dir() -> Path:
    """The bundled sample data directory: ``data/sample`` of the checkout, else of the cwd."""
    candidates = []
    root = project_root()
    if root is not None:
        candidates.append(root / "data" / "sample")
    candidates.append(Path.cwd() / "data" / "sample")
    for candidate in candidates:
        if (candidate / "mentions.csv.gz").exists():
            return candidate
    raise EscAnalyticsError(
        "sample data not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); run from the project checkout or regenerate it with "
        "'esc-analytics sample --out data/sample'"
    )


def notebooks_dir() -> Path:
    """The ``notebooks/`` directory of the checkout (or of the cwd)."""
    root = project_root()
    for candidate in ([root / "notebooks"] if root else []) + [Path.cwd() / "notebooks"]:
        if candidate.is_dir():
            return candidate
    raise EscAnalyticsError("notebooks/ not found: run from the project checkout")


#: Characters that make a name a glob pattern (for Python's glob and DuckDB's file readers).
GLOB_CHARACTERS = "*?["


def path_names(items: Any, *, what: str = "expected") -> list[str]:
    """The names of ``items`` (a path or a list of paths) as strings, in order; a
    DataLoadError for anything else (``what`` opens the message)."""
    if isinstance(items, str | os.PathLike):
        items = [items]
    try:
        return [os.fspath(item) for item in items]
    except TypeError as exc:
        raise DataLoadError(
            f"{what} a path or a list of paths, got {type(items).__name__}"
        ) from exc


def input_paths(items: Any, *, glob: bool = False) -> list[Path]:
    """The files named by ``items`` (a path or a list of paths), exactly as given.

    A name is a name: ``mentions[1].csv``, ``star*.csv`` and ``q?.csv`` are those files, never
    their neighbours. Only with ``glob=True`` (the CLI's ``--glob``) is each item a pattern,
    expanded in sorted order; a pattern matching nothing is an error. A name that does not
    exist and looks like a pattern says how to ask for the expansion."""
    names = path_names(items)
    out: list[Path] = []
    for name in names:
        if glob:
            matches = sorted(globlib.glob(name))
            if not matches:
                raise DataLoadError("no file matches this pattern", source=name)
            out.extend(Path(m) for m in matches)
            continue
        path = Path(name)
        if not _exists(path) and any(ch in name for ch in GLOB_CHARACTERS):
            raise DataLoadError(
                f"{not_found(name)}; a file name is read as written: to read the files "
                "matching a pattern pass glob=True, on the command line --glob",
                source=name,
            )
        out.append(path)
    return out


def not_found(path: str | os.PathLike[str], what: str = "file") -> str:
    """``file not found`` and, for a relative name, where it was looked for (the absolute
    path: a notebook's kernel or a project file may read names against another folder)."""
    name = os.fspath(path)
    if os.path.isabs(name):
        return f"{what} not found"
    return f"{what} not found (looked for {os.path.abspath(name)})"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False
