"""calibrate → backtest → detect round trip on small synthetic files; exit status 2 on errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from esc_analytics.cli import main


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(5)
    n = 24 * 21
    times = pd.date_range("2026-03-02", periods=n, freq="1h")
    incidents = []
    for topic in ("alpha", "beta"):
        volume = rng.poisson(40, n).astype(float)
        for k, h in enumerate((200, 330, 450)):
            volume[h : h + 4] *= 6
            incidents.append(
                {
                    "incident_id": f"{topic}-{k}",
                    "topic": topic,
                    "started_at": times[h].isoformat() + "Z",
                    "ended_at": times[h + 4].isoformat() + "Z",
                    "severity": k % 2 + 1,
                }
            )
        frame = pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume})
        frame.to_csv(tmp_path / f"{topic}.csv", index=False)
    pd.DataFrame(incidents).to_csv(tmp_path / "incidents.csv", index=False)
    nab = {
        f"{t}.csv": [
            {
                "start": i["started_at"][:-1].replace("T", " "),
                "end": i["ended_at"][:-1].replace("T", " "),
            }
            for i in incidents
            if i["topic"] == t
        ]
        for t in ("alpha", "beta")
    }
    (tmp_path / "windows.json").write_text(json.dumps(nab))
    return tmp_path


def test_round_trip(files, capsys):
    series = [str(files / "alpha.csv"), str(files / "beta.csv")]
    policy = files / "policy.yaml"
    rc = main(
        [
            "calibrate",
            "--series",
            *series,
            "--incidents",
            str(files / "incidents.csv"),
            "--tiers",
            "2",
            "--max-false-per-week",
            "1",
            "--out",
            str(policy),
        ]
    )
    assert rc == 0 and policy.is_file()
    out = capsys.readouterr().out
    assert "tier 1:" in out and "tier 2:" in out
    rc = main(
        [
            "backtest",
            "--series",
            *series,
            "--incidents",
            str(files / "incidents.csv"),
            "--policy",
            str(policy),
            "--json",
        ]
    )
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report  # the JSON document parses
    detected = files / "out" / "tiers.csv"
    rc = main(
        [
            "detect",
            "--series",
            series[1],
            series[0],
            "--policy",
            str(policy),
            "--out",
            str(detected),
        ]
    )
    assert rc == 0
    table = pd.read_csv(detected)
    assert list(table.columns) == ["topic", "window_start", "tier", "escalation"]
    assert len(table) == 2 * 24 * 21
    # one row per input window; every incident start window is escalated on this clear data
    assert set(table["escalation"].unique()) <= {0, 1}
    assert table["tier"].max() >= 1


def test_nab_windows_file_is_accepted(files, capsys):
    rc = main(
        [
            "calibrate",
            "--series",
            str(files / "alpha.csv"),
            "--incidents",
            str(files / "windows.json"),
            "--tiers",
            "1",
            "--objective",
            "nab",
            "--max-early",
            "0h",
            "--out",
            str(files / "p.yaml"),
        ]
    )
    assert rc == 0
    assert "3/3" in capsys.readouterr().out


def test_detect_keeps_input_order(tmp_path, files):
    policy = tmp_path / "p.yaml"
    policy.write_text("tiers:\n- level: 1\n  name: watch\n  owner: desk\n  all: ['volume > 100']\n")
    out = tmp_path / "d.csv"
    order = [files / "beta.csv", files / "alpha.csv"]  # not alphabetical
    assert (
        main(["detect", "--series", *map(str, order), "--policy", str(policy), "--out", str(out)])
        == 0
    )
    table = pd.read_csv(out)
    frame = pd.concat([pd.read_csv(f).assign(topic=f.stem) for f in order], ignore_index=True)
    assert len(table) == len(frame)
    assert table["topic"].tolist() == frame["topic"].tolist()
    got = pd.to_datetime(table["window_start"], utc=True)
    want = pd.to_datetime(frame["timestamp"], utc=True)
    assert (got.to_numpy() == want.to_numpy()).all()
    assert (table["tier"].to_numpy() == (frame["value"].to_numpy() > 100)).all()


@pytest.mark.parametrize(
    "text",
    [
        "tiers: [",
        "tiers:\n- level: 1\n  name: w\n  owner: o\n  all: ['volume >> 3']\n",
        "tiers:\n- level: 1\n  name: w\n  owner: o\n  all: ['no_such_feature > 3']\n",
    ],
)
def test_bad_policy_exits_2(files, tmp_path, capsys, text):
    policy = tmp_path / "bad.yaml"
    policy.write_text(text)
    rc = main(
        [
            "detect",
            "--series",
            str(files / "alpha.csv"),
            "--policy",
            str(policy),
            "--out",
            str(tmp_path / "d.csv"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_calibrate_warns_when_its_policy_catches_nothing_or_severities_exceed_tiers(
    files, capsys
):
    """Incidents in quiet hours, a zero false-alarm budget: the fit can only write a policy
    that catches none of them, and says so; severity 3 with --tiers 2 is reported too. A
    threshold low enough to keep the topic escalated for good (one endless episode through the
    cooldown, one notification, "no false alarm") is no plan and is never chosen; and with a
    tier 1 that escalates nothing there is no harder tier 2 to write: one tier, and why."""
    times = pd.date_range("2026-03-02", periods=24 * 21, freq="1h")
    quiet = pd.DataFrame(
        {
            "incident_id": ["q1", "q2", "q3"],
            "topic": "alpha",
            "started_at": [times[h].isoformat() + "Z" for h in (60, 120, 400)],
            "ended_at": [times[h + 2].isoformat() + "Z" for h in (60, 120, 400)],
            "severity": [1, 3, 1],
        }
    )
    quiet.to_csv(files / "quiet.csv", index=False)
    args = ["calibrate", "--series", str(files / "alpha.csv"), "--incidents",
            str(files / "quiet.csv"), "--tiers", "2", "--max-false-per-week", "0",
            "--out", str(files / "q.yaml")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "warning: the written policy catches none of the incidents" in out
    assert "--max-false-per-week" in out
    assert "warning: 1 incident(s) have a severity above the policy's 1 tier(s)" in out
    assert "(2 asked: the history cannot separate more, see the notes)" in out
    assert "tier 2 not written: tier 1 (" in out and "escalates no window" in out
    # A history the fit can serve gets neither warning.
    ok = ["calibrate", "--series", str(files / "alpha.csv"), "--incidents",
          str(files / "incidents.csv"), "--tiers", "2", "--max-false-per-week", "2",
          "--out", str(files / "ok.yaml")]
    assert main(ok) == 0
    assert "warning:" not in capsys.readouterr().out


def test_a_single_row_series_needs_and_takes_freq(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("timestamp,value\n2015-02-26 21:42:53,10\n")
    policy = tmp_path / "p.yaml"
    policy.write_text("tiers:\n- level: 1\n  name: watch\n  owner: desk\n  all: ['volume > 5']\n")
    args = ["detect", "--series", str(path), "--policy", str(policy)]
    assert main([*args, "--out", str(tmp_path / "a.csv")]) == 2
    assert "--freq" in capsys.readouterr().err
    assert main([*args, "--freq", "5min", "--out", str(tmp_path / "b.csv")]) == 0
    table = pd.read_csv(tmp_path / "b.csv")
    assert table[["tier", "escalation"]].values.tolist() == [[1, 1]]
