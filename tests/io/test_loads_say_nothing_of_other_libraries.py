"""A load prints its own summary and nothing of the libraries underneath: pandera imports
pyspark.pandas whenever pyspark is installed (the [spark] extra), and PySpark's FutureWarning
about pandas versions must not reach a user's terminal or notebook."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import esc_analytics as esc
loaded = esc.load_mentions({path!r})
print(loaded.summary)
"""


def test_a_fresh_process_loads_mentions_without_library_warnings(sample_dir) -> None:
    pytest.importorskip("pandera")
    code = CODE.format(path=str(sample_dir / "mentions.csv.gz"))
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert "accepted" in done.stdout
    assert "Warning" not in done.stderr, done.stderr
