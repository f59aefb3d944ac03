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


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (local[2], two shuffle partitions, no
    UI): skipped with the reason when pyspark or Java is missing (``make test`` installs
    both)."""
    import os
    import shutil
    import sys

    pytest.importorskip("pyspark", reason="pyspark not installed (the [spark] / [test] extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark (Debian: apt-get install openjdk-17-jre-headless)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("esc-analytics tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
