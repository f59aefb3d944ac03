"""What the CLI tells the user besides its results: every command that loads data prints the load
summary (counts, quarantine reasons, how times were read, every loader note) on stdout, warns
when a policy reads a measure the input could not provide, and says why incidents were not
evaluated; stderr holds only the one ``error:`` line of a failure."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esc_analytics.cli import main

SAMPLE_POLICY = Path(__file__).resolve().parents[2] / "data" / "sample" / "policy.yaml"
BURSTS = ("2026-10-22 14:00", "2026-10-24 09:00", "2026-10-26 18:00")  # local (Paris) hours


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Mentions with naive Paris times over the October fall-back (02:xx on the 25th happens
    twice), one unreadable time, three negative bursts and their incidents; plus a gzip copy
    cut short and a volume series of the same hours."""
    folder = tmp_path_factory.mktemp("notes")
    hours = pd.date_range("2026-10-19 00:00", "2026-10-28 23:00", freq="1h")
    rng = np.random.default_rng(3)
    rows = []
    for hour in hours:
        burst = any(pd.Timestamp(b) <= hour < pd.Timestamp(b) + pd.Timedelta("3h") for b in BURSTS)
        for k in range(40 if burst else int(rng.integers(2, 5))):
            rows.append(
                {
                    "created_at": (hour + pd.Timedelta(minutes=k)).strftime("%Y-%m-%d %H:%M:%S"),
                    "topic": "acme",
                    "author": f"user{k}",
                    "sentiment": -0.8 if burst else 0.3,
                }
            )
    rows.append({"created_at": "whenever", "topic": "acme", "author": "x", "sentiment": 0.1})
    mentions = pd.DataFrame(rows)
    mentions.insert(0, "mention_id", [f"m{i}" for i in range(len(mentions))])
    mentions.to_csv(folder / "mentions.csv", index=False)
    data = gzip.compress((folder / "mentions.csv").read_bytes())
    (folder / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    incidents = pd.DataFrame(
        {
            "incident_id": ["I1", "I2", "I3"],
            "topic": "acme",
            "started_at": [
                pd.Timestamp(b, tz="Europe/Paris").isoformat() for b in BURSTS
            ],
            "severity": [1, 1, 1],
        }
    )
    incidents.to_csv(folder / "incidents.csv", index=False)
    counts = mentions.iloc[:-1].assign(hour=lambda f: f["created_at"].str[:13] + ":00:00")
    series = counts.groupby("hour").size().rename("value").rename_axis("timestamp")
    series.reset_index().to_csv(folder / "acme.csv", index=False)
    return {
        "mentions": folder / "mentions.csv",
        "cut": folder / "cut.csv.gz",
        "incidents": folder / "incidents.csv",
        "series": folder / "acme.csv",
        "n": len(mentions),
    }


def _command(name: str, inputs: dict, tmp_path: Path) -> list[str]:
    # the loader's notes (DST...) are the pandas engine's: --mentions takes --engine as
    # aggregate does (auto = DuckDB, whose summary has no notes)
    source = ["--mentions", str(inputs["mentions"]), "--tz", "Europe/Paris", "--engine", "pandas"]
    incidents = ["--incidents", str(inputs["incidents"])]
    return {
        "detect": ["detect", *source, "--policy", str(SAMPLE_POLICY),
                   "--out", str(tmp_path / "d.csv")],
        "backtest": ["backtest", *source, *incidents, "--policy", str(SAMPLE_POLICY)],
        "calibrate": ["calibrate", *source, *incidents, "--tiers", "1",
                      "--out", str(tmp_path / "p.yaml")],
        "fit-model": ["fit-model", *source, *incidents, "--tiers", "1", "--folds", "0",
                      "--out", str(tmp_path / "m.skops")],
        "aggregate": ["aggregate", str(inputs["mentions"]), "--tz", "Europe/Paris",
                      "--engine", "pandas", "--out", str(tmp_path / "f.csv")],
    }[name]


@pytest.mark.parametrize("name", ["detect", "backtest", "calibrate", "fit-model", "aggregate"])
def test_every_loading_command_prints_the_load_summary(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    assert main(_command(name, inputs, tmp_path)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    n = inputs["n"]
    lines = out.splitlines()
    head = f"mentions {inputs['mentions']}: read {n}, accepted {n - 1}, quarantined 1"
    assert f"{head} (unparseable_time: 1)" in lines
    assert "  times: naive times taken as Europe/Paris and converted to UTC" in lines
    dst = "ambiguous local time(s) (DST fall-back)"
    assert any(line.startswith("  note: created_at: ") and dst in line for line in lines), out
    if name in ("backtest", "calibrate", "fit-model"):
        assert f"incidents {inputs['incidents']}: read 3, accepted 3, quarantined 0" in lines
        assert "  times: offsets converted to UTC" in lines


def test_duckdb_aggregate_prints_the_same_head_and_time_handling(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["aggregate", str(inputs["mentions"]), "--tz", "Europe/Paris", "--out",
            str(tmp_path / "f.csv")]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    n = inputs["n"]
    assert f"mentions {inputs['mentions']}: read {n}, accepted {n - 1}, quarantined 1 " \
           "(unparseable_time: 1)" in lines
    assert "  times: naive times taken as Europe/Paris and converted to UTC" in lines


def test_a_truncated_gzip_is_said_not_passed_off_as_a_small_file(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["detect", "--mentions", str(inputs["cut"]), "--policy", str(SAMPLE_POLICY),
            "--out", str(tmp_path / "d.csv")]
    assert main(args) == 2  # DuckDB (the default engine) refuses it, saying what reads it
    assert "--engine pandas" in capsys.readouterr().err
    assert main([*args, "--engine", "pandas"]) == 0
    out = capsys.readouterr().out
    assert "  note: cut.csv.gz: gzip stream truncated" in out
    assert "  times: naive times taken as UTC" in out


def test_backtest_json_carries_the_load_summaries_and_stays_one_document(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([*_command("backtest", inputs, tmp_path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    payload = json.loads(out)
    mentions, incidents = payload["load"]
    assert (mentions["kind"], mentions["quarantined"]) == ("mentions", 1)
    assert mentions["reasons"] == {"unparseable_time": 1}
    assert "Europe/Paris" in mentions["timezone_note"]
    assert any("ambiguous" in note for note in mentions["notes"])
    assert (incidents["kind"], incidents["accepted"]) == ("incidents", 3)
    # the mentions have no follower counts: tier 3's influencer condition reads a filler
    assert payload["warnings"] == [
        "tier 3 'Executive crisis team' uses influencer_mentions, which the mentions do not "
        "carry (no author_followers or is_verified column): evaluated as 0"
    ]


def test_an_error_after_loading_is_still_one_stderr_line(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("tiers:\n- level: 1\n  all: ['no_such_feature > 3']\n")
    args = ["detect", "--mentions", str(inputs["mentions"]), "--policy", str(policy),
            "--out", str(tmp_path / "d.csv")]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "error" in err
    assert "quarantined 1 (unparseable_time: 1)" in out


# --- policies reading measures the input could not provide ------------------------------------

NEGATIVE_POLICY = (
    "tiers:\n"
    "  - level: 1\n    name: escalate\n    owner: me\n"
    "    all: [volume_ratio >= 2.5, negative_share < 0.1]\n"
)


def test_detect_on_a_series_warns_that_negative_share_is_a_filler(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(NEGATIVE_POLICY)
    args = ["detect", "--series", str(inputs["series"]), "--policy", str(policy),
            "--out", str(tmp_path / "d.csv")]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert (
        "warning: tier 1 'escalate' uses negative_share, which volume series do not carry: "
        "evaluated as 0"
    ) in out.splitlines()


def test_mentions_with_the_measures_give_no_warning(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(NEGATIVE_POLICY)
    args = ["detect", "--mentions", str(inputs["mentions"]), "--policy", str(policy),
            "--out", str(tmp_path / "d.csv")]
    assert main(args) == 0
    assert "warning" not in capsys.readouterr().out


def test_mentions_without_sentiment_are_named_in_the_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    times = pd.date_range("2026-03-01", periods=48, freq="1h", tz="UTC")
    path = tmp_path / "m.csv"
    pd.DataFrame({"created_at": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "topic": "a"}).to_csv(
        path, index=False
    )
    policy = tmp_path / "p.yaml"
    policy.write_text(NEGATIVE_POLICY)
    assert main(["detect", "--mentions", str(path), "--policy", str(policy),
                 "--out", str(tmp_path / "d.csv")]) == 0
    assert (
        "warning: tier 1 'escalate' uses negative_share, which the mentions do not carry "
        "(no sentiment column): evaluated as 0"
    ) in capsys.readouterr().out.splitlines()


def test_sample_policy_on_a_nab_series_names_the_tiers_that_read_fillers(
    nab_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["backtest", "--series", str(nab_dir / "Twitter_volume_AAPL.csv"), "--incidents",
            str(nab_dir / "anomaly_windows.json"), "--policy", str(SAMPLE_POLICY)]
    assert main(args) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: tier 2 'Social lead and PR' uses negative_share, which volume series do not "
        "carry: evaluated as 0",
        "warning: tier 3 'Executive crisis team' uses negative_share and influencer_mentions, "
        "which volume series do not carry: evaluated as 0",
    ]
    assert "  times: naive times taken as UTC" in out
    assert "anomaly windows (NAB) read as incidents" in out
    # the other four files' windows: their topics are not in the escalations
    assert "  not evaluated: 13 topic not in escalations (Twitter_volume_CVS, " in out


def test_calibrating_a_template_on_a_series_warns_about_the_result(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(NEGATIVE_POLICY)
    args = ["calibrate", "--series", str(inputs["series"]), "--incidents",
            str(inputs["incidents"]), "--policy", str(template), "--out", str(tmp_path / "p.yaml")]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: tier 1 'escalate' uses negative_share, which volume series do not carry: "
        "evaluated as 0"
    ]


# --- smaller messages ---------------------------------------------------------------------------


def test_severity_without_equals_shows_the_label_tier_form(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([*_command("backtest", inputs, tmp_path), "--severity", "P1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--severity 'P1': expected LABEL=TIER, e.g. P1=3" in err
    assert "CANONICAL" not in err


def test_backtest_text_says_why_incidents_were_not_evaluated(
    inputs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    log = pd.read_csv(inputs["incidents"])
    extra = pd.DataFrame(
        {
            "incident_id": ["G1", "G2", "L1"],
            "topic": ["ghost", "ghost", "acme"],
            "started_at": [log["started_at"][0], log["started_at"][1], "2027-05-01T00:00:00Z"],
            "severity": 1,
        }
    )
    path = tmp_path / "incidents.csv"
    pd.concat([log, extra]).to_csv(path, index=False)
    args = ["backtest", "--mentions", str(inputs["mentions"]), "--incidents", str(path),
            "--policy", str(SAMPLE_POLICY)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(3 not evaluated)" in out
    assert (
        "  not evaluated: 2 topic not in escalations (ghost), 1 outside escalations' time span"
    ) in out.splitlines()


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_aggregate_fails_when_every_row_was_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture, engine: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "mention_id,created_at,topic,author_followers,sentiment\n"
        "1,2026-01-01T00:00:00Z,a,lots,0.1\n"
        "2,2026-01-01T01:00:00Z,a,many,0.1\n"
        "3,2026-01-01T02:00:00Z,a,10,7\n"
    )
    out, rejected = tmp_path / "f.csv", tmp_path / "rejected.csv"
    args = ["aggregate", str(path), "--engine", engine, "--quarantine", str(rejected),
            "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err
    assert "all 3 rows were quarantined (bad_number: 2, bad_sentiment: 1)" in err
    assert not out.exists()
    assert len(pd.read_csv(rejected)) == 3
