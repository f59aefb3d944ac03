"""A plan on a detection measure runs on any data with a volume: detect and backtest compute
the measure from the series (the calibrated NAB plan is written on volume_rank_28d)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from esc_analytics.cli import main


def test_detect_and_backtest_compute_the_measure_from_the_volume(tmp_path, capsys):
    times = pd.date_range("2026-03-01", periods=24 * 6, freq="1h")
    volume = np.random.default_rng(3).poisson(20, len(times)).astype(float)
    volume[100:103] = [120, 180, 90]
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}).to_csv(
        tmp_path / "acme.csv", index=False
    )
    pd.DataFrame(
        {"incident_id": ["A"], "topic": ["acme"], "severity": [1],
         "started_at": [times[100].isoformat() + "Z"], "ended_at": [times[104].isoformat() + "Z"]}
    ).to_csv(tmp_path / "incidents.csv", index=False)
    (tmp_path / "plan.yaml").write_text(
        "tiers:\n  - {level: 1, name: Watch, owner: CM, all: ['volume_rank_28d >= 0.99'],"
        " for: 2, refractory: 24}\n"
    )
    series = ["--series", str(tmp_path / "acme.csv")]
    out = tmp_path / "alerts.csv"
    plan = ["--policy", str(tmp_path / "plan.yaml")]
    assert main(["detect", *series, *plan, "--out", str(out)]) == 0
    alerts = pd.read_csv(out)
    assert alerts["escalation"].sum() >= 1
    first = pd.Timestamp(alerts.loc[alerts["escalation"] == 1, "window_start"].iloc[0])
    assert first == pd.Timestamp(times[101], tz="UTC")  # the second window of the burst
    capsys.readouterr()
    argv = ["backtest", *series, "--incidents", str(tmp_path / "incidents.csv"),
            "--policy", str(tmp_path / "plan.yaml")]
    assert main(argv) == 0
    assert "caught 1, missed 0" in capsys.readouterr().out
