"""`esc-analytics demo` on the bundled sample and on a user's week of history."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from esc_analytics.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _slice_of_the_sample(folder: Path, first_day: int, days: int) -> Path:
    """Days [first_day, first_day + days) of the bundled sample, as a user's own folder."""
    start = pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=first_day)
    end = start + pd.Timedelta(days=days)
    mentions = pd.read_csv(SAMPLE / "mentions.csv.gz")
    times = pd.to_datetime(mentions["created_at"], utc=True, format="ISO8601")
    folder.mkdir()
    mentions[(times >= start) & (times < end)].to_csv(folder / "mentions.csv.gz", index=False)
    incidents = pd.read_csv(SAMPLE / "incidents.csv")
    started = pd.to_datetime(incidents["started_at"], utc=True, format="ISO8601")
    incidents[(started >= start) & (started < end)].to_csv(folder / "incidents.csv", index=False)
    (folder / "policy.yaml").write_text((SAMPLE / "policy.yaml").read_text())
    return folder


@pytest.mark.slow
def test_demo_runs_on_a_week_of_someone_elses_history(tmp_path, capsys):
    data = _slice_of_the_sample(tmp_path / "week", first_day=114, days=8)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(data), "--out", str(out), "--no-render"]) == 0
    printed = capsys.readouterr().out
    assert "checking the history before fitting anything" in printed
    assert "8.0 days" in printed or "up to 8" in printed
    assert "walk-forward (expanding)" in printed and "95% interval" in printed
    assert (out / "policy.yaml").exists() and (out / "backtest.json").exists()


@pytest.mark.slow
def test_demo_says_why_it_skips_walk_forward_with_one_incident(tmp_path, capsys):
    data = _slice_of_the_sample(tmp_path / "quiet", first_day=0, days=30)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(data), "--out", str(out), "--no-render"]) == 0
    printed = capsys.readouterr().out
    assert "skipped: walk-forward needs at least 2 incidents" in printed
    assert (out / "backtest.json").exists()


def test_demo_without_any_incident_is_one_line(tmp_path, capsys):
    data = _slice_of_the_sample(tmp_path / "none", first_day=0, days=10)
    assert main(["demo", "--data", str(data), "--out", str(tmp_path / "o"), "--no-render"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "incidents.csv" in err[0] and "no data rows" in err[0]


def test_check_command_reports_and_exits_1_when_nothing_can_be_fitted(tmp_path, capsys):
    data = _slice_of_the_sample(tmp_path / "week", first_day=114, days=8)
    args = ["check", "--mentions", str(data / "mentions.csv.gz"), "--incidents",
            str(data / "incidents.csv"), "--tiers", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "history: 4 topic(s), up to 8.0 days" in out and "incidents per severity" in out
    far = tmp_path / "far.csv"
    pd.DataFrame(
        {"incident_id": ["X"], "topic": ["Lumo"], "severity": [1],
         "started_at": ["2030-01-01T00:00:00Z"]}
    ).to_csv(far, index=False)
    assert main(["check", "--mentions", str(data / "mentions.csv.gz"), "--incidents", str(far),
                 "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False and "nothing to fit" in payload["blocking"][0]
    assert payload["load"] and payload["severities"][0]["incidents"] == 0
