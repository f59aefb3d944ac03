"""--planned-events (mute|mark) and --from/--to on backtest, calibrate and detect."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from esc_analytics.cli import main


@pytest.fixture
def files(tmp_path):
    n = 24 * 14
    times = pd.date_range("2026-03-02", periods=n, freq="1h")
    volume = np.full(n, 40.0)
    volume[100:104] = 400  # an incident
    volume[200:204] = 400  # a launch (planned)
    volume[280:283] = 400  # a false alarm
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}).to_csv(
        tmp_path / "alpha.csv", index=False
    )
    pd.DataFrame({"incident_id": ["I1"], "topic": ["alpha"], "severity": [1],
                  "started_at": [times[100].isoformat() + "Z"],
                  "ended_at": [times[104].isoformat() + "Z"]}).to_csv(
        tmp_path / "incidents.csv", index=False)
    pd.DataFrame({"topic": ["alpha"], "started_at": [times[199].isoformat() + "Z"],
                  "ended_at": [times[205].isoformat() + "Z"], "name": ["launch"]}).to_csv(
        tmp_path / "planned.csv", index=False)
    (tmp_path / "policy.yaml").write_text(
        "tiers:\n  - level: 1\n    all: [volume_ratio >= 3]\n", encoding="utf-8"
    )
    return tmp_path


def _backtest(files, capsys, *extra):
    capsys.readouterr()
    code = main(["backtest", "--series", str(files / "alpha.csv"), "--incidents",
                 str(files / "incidents.csv"), "--policy", str(files / "policy.yaml"),
                 "--max-early", "0h", "--json", *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_backtest_mutes_or_marks_alerts_in_planned_events(files, capsys):
    plain = _backtest(files, capsys)
    muted = _backtest(files, capsys, "--planned-events", str(files / "planned.csv"))
    marked = _backtest(files, capsys, "--planned-events", str(files / "planned.csv"),
                       "--planned-events-mode", "mark")
    assert len(plain["false_alerts"]) == 2 and plain["muted"] == []
    assert len(muted["false_alerts"]) == 1 and len(muted["muted"]) == 1
    assert muted["muted"][0]["window_start"].startswith("2026-03-10T08:00")
    assert len(marked["false_alerts"]) == 1 and len(marked["planned_alerts"]) == 1
    assert plain["recall"] == muted["recall"] == marked["recall"] == 1.0
    assert any(entry.get("planned_events") == 1 for entry in muted["load"])


def test_backtest_from_to_scores_only_the_period(files, capsys):
    whole = _backtest(files, capsys)
    part = _backtest(files, capsys, "--from", "2026-03-09", "--to", "2026-03-16")
    assert whole["weeks"] == pytest.approx(2.0)
    assert part["weeks"] == pytest.approx(1.0)
    assert part["period"][0].startswith("2026-03-09T00:00:00")
    assert len(part["incidents"]) == 0 or not any(i["evaluated"] for i in part["incidents"])
    assert len(part["false_alerts"]) == 2  # launch and false alarm are in the second week


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "someday"], "--from 'someday' is not a time"),
        (["--from", "2026-03-10", "--to", "2026-03-09"], "must be after --from"),
        (["--planned-events", "missing.csv"], "missing.csv"),
    ],
)
def test_bad_period_or_planned_file_is_one_line_exit_2(files, capsys, options, message):
    capsys.readouterr()
    code = main(["backtest", "--series", str(files / "alpha.csv"), "--incidents",
                 str(files / "incidents.csv"), "--policy", str(files / "policy.yaml"), *options])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1


def test_detect_marks_and_keeps_the_period(files, capsys):
    out = files / "tiers.csv"
    assert main(["detect", "--series", str(files / "alpha.csv"), "--policy",
                 str(files / "policy.yaml"), "--planned-events", str(files / "planned.csv"),
                 "--planned-events-mode", "mark", "--from", "2026-03-09", "--out",
                 str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 24 * 7
    assert table["planned_event"].sum() == 7  # windows 199..205
    assert table.loc[table["planned_event"], "escalation"].sum() == 1  # marked, still sent
    muted = files / "muted.csv"
    assert main(["detect", "--series", str(files / "alpha.csv"), "--policy",
                 str(files / "policy.yaml"), "--planned-events", str(files / "planned.csv"),
                 "--out", str(muted)]) == 0
    table = pd.read_csv(muted)
    assert table["escalation"].sum() == 2 and table.loc[199:205, "tier"].sum() == 0
    assert "(1 muted in planned events)" in capsys.readouterr().out


def test_calibrate_takes_planned_events_and_a_period(files, capsys):
    out = files / "fitted.yaml"
    assert main(["calibrate", "--series", str(files / "alpha.csv"), "--incidents",
                 str(files / "incidents.csv"), "--policy", str(files / "policy.yaml"),
                 "--planned-events", str(files / "planned.csv"), "--from", "2026-03-03",
                 "--max-early", "0h", "--out", str(out)]) == 0
    assert out.is_file()
    assert "planned events: 1" in capsys.readouterr().out


def test_backtest_of_a_plan_reading_terms_and_platforms_from_mentions(tmp_path, capsys):
    times = pd.date_range("2026-03-02", periods=48, freq="1h", tz="UTC")
    rows = []
    for i, t in enumerate(times):
        rows.append({"mention_id": f"m{i}", "created_at": t.isoformat(), "topic": "alpha",
                     "text": "nice day", "platform": "twitter", "sentiment": 0.3})
    for k in range(4):  # a product recall on TikTok at 30:00
        rows.append({"mention_id": f"r{k}", "created_at": times[30].isoformat(),
                     "topic": "alpha", "text": f"Recall! batch {k}", "platform": "TikTok",
                     "sentiment": -0.7})
    pd.DataFrame(rows).to_csv(tmp_path / "m.csv", index=False)
    pd.DataFrame({"incident_id": ["I1"], "topic": ["alpha"], "severity": [1],
                  "started_at": [times[30].isoformat()],
                  "ended_at": [times[31].isoformat()]}).to_csv(tmp_path / "i.csv", index=False)
    (tmp_path / "p.yaml").write_text(
        "terms: {safety: [recall]}\ntiers:\n  - level: 1\n    all: [terms.safety >= 3, "
        "'volume[platform=tiktok] >= 2']\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["backtest", "--mentions", str(tmp_path / "m.csv"), "--incidents",
                 str(tmp_path / "i.csv"), "--policy", str(tmp_path / "p.yaml"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["recall"] == 1.0 and result["false_alerts"] == []
    code = main(["backtest", "--series", str(tmp_path / "m.csv"), "--incidents",
                 str(tmp_path / "i.csv"), "--policy", str(tmp_path / "p.yaml")])
    assert code == 2
