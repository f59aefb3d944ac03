"""esc-analytics calibrate --policy plan.yaml: the team's plan fitted in place and written back
with its comments; a fresh plan's tiers stay distinct."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import main

PLAN = """\
# Hand-written by the social team; thresholds are first guesses.
name: Series plan
tiers:
  - level: 1
    name: Desk
    owner: Social desk
    all:
      - volume_ratio >= 1.5   # unusual volume
    for: 1
    cooldown: 3
  - level: 2
    name: Lead
    owner: Social lead
    all:
      - volume_ratio >= 4   # a real surge
    cooldown: 3
    refractory: 12   # one page per surge
"""


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(11)
    n = 24 * 21
    times = pd.date_range("2026-03-02", periods=n, freq="1h")
    rows = []
    for topic in ("alpha", "beta"):
        volume = rng.poisson(40, n).astype(float)
        for k, (h, factor) in enumerate(((200, 3.0), (330, 8.0), (450, 3.0))):
            volume[h : h + 4] *= factor
            rows.append({"incident_id": f"{topic}-{k}", "topic": topic,
                         "started_at": times[h].isoformat() + "Z",
                         "ended_at": times[h + 4].isoformat() + "Z",
                         "severity": 2 if factor > 5 else 1})
        pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}).to_csv(
            tmp_path / f"{topic}.csv", index=False)
    pd.DataFrame(rows).to_csv(tmp_path / "incidents.csv", index=False)
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    return tmp_path


def _series(files):
    return ["--series", str(files / "alpha.csv"), str(files / "beta.csv"),
            "--incidents", str(files / "incidents.csv")]


def test_calibrating_a_plan_file_keeps_its_comments_and_structure(files, capsys):
    out = files / "fitted.yaml"
    assert main(["calibrate", *_series(files), "--policy", str(files / "plan.yaml"),
                 "--max-false-per-week", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "template calibration (recall)" in printed and "tier1__volume_ratio" in printed
    text = out.read_text(encoding="utf-8")
    for line in PLAN.splitlines():
        if "#" in line:
            assert line.split("#", 1)[1] in text  # every comment kept
    plan, fitted = esc.load_policy(files / "plan.yaml"), esc.load_policy(out)
    assert [(t.name, t.owner, t.cooldown, t.refractory) for t in fitted.tiers] == [
        (t.name, t.owner, t.cooldown, t.refractory) for t in plan.tiers
    ]
    p = fitted.get_params()
    assert p["tier1__volume_ratio"] < p["tier2__volume_ratio"]
    for name in ("tier1__volume_ratio", "tier2__volume_ratio"):
        assert len(f"{p[name]:.15g}".replace(".", "").strip("0")) <= 3


def test_plan_file_with_fresh_plan_options_warns(files, capsys):
    assert main(["calibrate", *_series(files), "--policy", str(files / "plan.yaml"),
                 "--feature", "volume_z", "--out", str(files / "f.yaml")]) == 0
    assert "warning: --feature and --cooldown shape a fresh plan" in capsys.readouterr().out


def test_fresh_tiers_are_distinct_in_the_written_file(files, capsys):
    out = files / "fresh.yaml"
    assert main(["calibrate", *_series(files), "--tiers", "3", "--max-false-per-week", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    policy = esc.load_policy(out)
    rules = [(t.all, t.persistence, t.cooldown) for t in policy.tiers]
    assert len(set(rules)) == len(rules)
    values = [t.all[0].value for t in policy.tiers]
    assert values == sorted(set(values))
    # no severity-3 incident: two tiers, and the output says why
    assert len(policy.tiers) == 2
    assert "tier 3 not written: the history has no incident of severity >= 3" in printed
