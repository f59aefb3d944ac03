"""Where the bundled sample data and notebooks live (source checkout or installed package)."""

from __future__ import annotations

from pathlib import Path

from .errors import EscAnalyticsError


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
