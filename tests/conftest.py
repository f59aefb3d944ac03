"""Shared fixtures: paths to the bundled sample data and to ../shared (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
NAB_DIR = SHARED_DATA / "nab-realtweets-dev"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (SAMPLE_DIR / "mentions.csv.gz").exists():
        pytest.skip("bundled sample data not generated yet (data/sample/mentions.csv.gz)")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def nab_dir() -> Path:
    if not (NAB_DIR / "anomaly_windows.json").exists():
        pytest.skip(f"real NAB data not available at {NAB_DIR} (only in the developers' tree)")
    return NAB_DIR


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread_per_worker():
    """Two xdist workers on two cores: keep each worker's BLAS/OpenMP pool to one thread so
    they do not oversubscribe the machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
