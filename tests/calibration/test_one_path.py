"""One calibration code path: the CLI and the library write the same plan on the same data and
options, and no threshold is fitted on a measure the data does not carry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import main


@pytest.fixture()
def series_and_log(tmp_path):
    rng = np.random.default_rng(11)
    times = pd.date_range("2026-03-02", periods=24 * 21, freq="1h")
    rows = []
    for topic in ("alpha", "beta"):
        volume = rng.poisson(40, len(times)).astype(float)
        for k, h in enumerate((150, 300, 420)):
            volume[h : h + 4] *= 5
            rows.append((f"{topic}-{k}", topic, k % 2 + 1, times[h], times[h + 4]))
        pd.DataFrame(
            {"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}
        ).to_csv(tmp_path / f"{topic}.csv", index=False)
    log = pd.DataFrame(rows, columns=["incident_id", "topic", "severity", "started_at", "ended_at"])
    log["started_at"] = log["started_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    log["ended_at"] = log["ended_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    log.to_csv(tmp_path / "incidents.csv", index=False)
    return tmp_path


def test_cli_and_library_write_the_same_plan(series_and_log, capsys):
    folder = series_and_log
    out = folder / "cli.yaml"
    args = ["calibrate", "--series", str(folder / "alpha.csv"), str(folder / "beta.csv"),
            "--incidents", str(folder / "incidents.csv"), "--tiers", "2", "--objective",
            "recall", "--max-false-per-week", "1", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    inputs = esc.load_inputs(
        series=[folder / "alpha.csv", folder / "beta.csv"], incidents=folder / "incidents.csv",
        policy=False, planned_events=False,
    )
    fit = esc.calibrate(
        inputs.features, inputs.incidents.data, n_tiers=2, objective="recall",
        max_false_per_week=1,
    )
    written = esc.load_policy(out)
    assert [t.conditions for t in written.tiers] == [t.conditions for t in fit.policy.tiers]
    assert [t.persistence for t in written.tiers] == [t.persistence for t in fit.policy.tiers]
    # a volume series carries no sentiment, reach...: nothing is fitted on those
    assert set(written.features_used) <= {
        "burst_level_7d", "volume_z", "volume_ratio", "log_volume_ratio", "volume"
    }
