"""The Spark engine through Spark Connect: a local Connect server (shipped with pyspark 4) on
loopback, and ``esc-analytics aggregate --spark-remote sc://127.0.0.1:PORT`` run as a user
would, giving the DuckDB engine's output byte for byte."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_duckdb import MESSY_CSV, _write

pytestmark = pytest.mark.slow
_MAIN = "import sys; from esc_analytics.cli import main; sys.exit(main(sys.argv[1:]))"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """sc://127.0.0.1:PORT of a Connect server started for this module, stopped after it."""
    pyspark = pytest.importorskip("pyspark", reason="pyspark not installed")
    pytest.importorskip("grpc", reason="no Spark Connect client (pip install 'pyspark[connect]')")
    home = Path(pyspark.__file__).parent
    start = home / "sbin" / "start-connect-server.sh"
    if not start.exists() or not list((home / "jars").glob("spark-connect_*.jar")):
        pytest.skip(f"pyspark {pyspark.__version__} ships no Spark Connect server")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    folder = tmp_path_factory.mktemp("connect")
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(folder),
        "SPARK_PID_DIR": str(folder),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    conf = [
        "--master", "local[2]",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=2",
        "--conf", "spark.sql.session.timeZone=UTC",
    ]
    subprocess.run(["bash", str(start), *conf], env=env, check=True, capture_output=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(1)
    else:
        logs = "\n".join(p.read_text()[-2000:] for p in folder.glob("*.out"))
        subprocess.run(["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env)
        pytest.fail(f"the Connect server did not listen on {port}:\n{logs}")
    yield f"sc://127.0.0.1:{port}"
    subprocess.run(
        ["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env, capture_output=True
    )


def test_aggregate_on_a_connect_server_matches_duckdb(tmp_path: Path, connect_server: str):
    path = _write(MESSY_CSV, tmp_path / "export.csv")
    common = ["aggregate", str(path), "--column", "created_at=tweet_created",
              "--column", "engagement=retweets", "--freq", "15min"]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    outputs = {}
    for engine, extra in (("duckdb", []), ("spark", ["--spark-remote", connect_server])):
        out = tmp_path / f"{engine}.csv"
        done = subprocess.run(
            [sys.executable, "-c", _MAIN, *common, "--engine", engine, *extra,
             "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "read 13, accepted 6, quarantined 7" in done.stdout
        outputs[engine] = out.read_text()
    assert outputs["spark"] == outputs["duckdb"]
