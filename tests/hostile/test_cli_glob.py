"""--glob: patterns only when asked; without it a name with * or [ is the one file it names."""

from __future__ import annotations

import pandas as pd
import pytest

from esc_analytics.cli import main


def _mentions(path, n, topic):
    times = pd.date_range("2026-01-01", periods=n, freq="20min", tz="UTC")
    pd.DataFrame(
        {
            "mention_id": [f"{topic}{i}" for i in range(n)],
            "created_at": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "topic": topic,
            "text": "x",
        }
    ).to_csv(path, index=False)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_aggregate_expands_patterns_only_with_glob(tmp_path, capsys, engine):
    _mentions(tmp_path / "part-1.csv", 30, "a")
    _mentions(tmp_path / "part-2.csv", 45, "b")
    pattern = str(tmp_path / "part-?.csv")
    out = tmp_path / "f.csv"
    base = ["aggregate", "--engine", engine, "--out", str(out)]
    assert main([*base, pattern]) == 2  # no file is literally called part-?.csv
    assert "part-?.csv" in capsys.readouterr().err
    assert main([*base, "--glob", pattern]) == 0
    features = pd.read_csv(out)
    assert features.groupby("topic")["volume"].sum().to_dict() == {"a": 30, "b": 45}
    assert main([*base, "--glob", str(tmp_path / "nothing-*.csv")]) == 2
    assert "no file matches" in capsys.readouterr().err


def test_calibrate_style_inputs_take_glob_too(tmp_path, capsys):
    _mentions(tmp_path / "m1.csv", 60, "a")
    _mentions(tmp_path / "m2.csv", 60, "b")
    pd.DataFrame(
        {"incident_id": ["I"], "topic": ["a"], "severity": [1],
         "started_at": ["2026-01-01T05:00:00Z"]}
    ).to_csv(tmp_path / "inc.csv", index=False)
    args = ["check", "--mentions", str(tmp_path / "m*.csv"), "--glob",
            "--incidents", str(tmp_path / "inc.csv")]
    assert main(args) in (0, 1)
    assert "history: 2 topic(s)" in capsys.readouterr().out
