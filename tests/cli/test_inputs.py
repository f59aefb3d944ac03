"""One "files → features" path: ``esc.load_inputs`` (what the notebooks and ``demo`` read) and
the commands' shared inputs module built on it."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import build_parser, main
from esc_analytics.cli._inputs import max_early_of


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """A small data folder laid out like the bundled sample (mentions, incidents, planned
    events, the starter plan)."""
    folder = tmp_path_factory.mktemp("data")
    esc.write_sample(esc.generate_sample(days=28, volume_scale=0.3), folder)
    shutil.copy(sample_dir / "policy.yaml", folder / "policy.yaml")
    return folder


def test_load_inputs_is_the_notebooks_preamble(data_dir: Path) -> None:
    inputs = esc.load_inputs(data_dir)
    mentions = esc.load_mentions(data_dir / "mentions.csv.gz")
    incidents = esc.load_incidents(data_dir / "incidents.csv")
    planned = esc.load_planned_events(data_dir / "planned_events.csv")
    expected = esc.build_features(mentions.data, freq="1h", planned_events=planned)
    pd.testing.assert_frame_equal(inputs.features, expected)
    pd.testing.assert_frame_equal(inputs.mentions.data, mentions.data)
    pd.testing.assert_frame_equal(inputs.incidents.data, incidents.data)
    pd.testing.assert_frame_equal(inputs.planned_events, planned)
    assert inputs.policy.to_yaml() == esc.load_policy(data_dir / "policy.yaml").to_yaml()
    assert inputs.series is None and inputs.freq == pd.Timedelta("1h")
    assert inputs.features["planned_event"].any()

    text = inputs.summary()
    lines = text.splitlines()
    assert lines[0] == f"mentions:  {mentions.summary}  ({mentions.summary.source})"
    assert f"incidents: {incidents.summary}  ({incidents.summary.source})" in lines
    assert "  times: offsets converted to UTC" in lines
    events = data_dir / "planned_events.csv"
    assert f"planned events: {len(planned)}, kept out of the baselines  ({events})" in lines
    assert f"policy:    {inputs.policy.name}, 3 tier(s)  ({data_dir / 'policy.yaml'})" in lines
    n_topics = expected["topic"].nunique()
    assert lines[-1].startswith(f"features:  {len(expected):,} windows of 1 h over {n_topics}")


def test_each_input_may_be_given_or_left_out(data_dir: Path) -> None:
    mentions = esc.load_mentions(data_dir / "mentions.csv.gz").data
    plan = esc.load_policy(data_dir / "policy.yaml")
    inputs = esc.load_inputs(
        mentions=mentions, incidents=False, policy=plan, planned_events=False, freq="2h"
    )
    assert inputs.incidents is None and inputs.planned_events is None
    assert inputs.policy is plan and inputs.freq == pd.Timedelta("2h")
    expected = esc.build_features(mentions, freq="2h")
    pd.testing.assert_frame_equal(inputs.features, expected)
    text = inputs.summary()
    assert "incidents" not in text and "planned events" not in text
    assert text.splitlines()[0] == f"mentions:  {inputs.mentions.summary}  (<DataFrame>)"
    assert f"policy:    {plan.name}, 3 tier(s)\n" in text
    assert "windows of 2 h" in text


def test_a_folder_without_plan_or_planned_events(data_dir: Path, tmp_path: Path) -> None:
    for name in ("mentions.csv.gz", "incidents.csv"):
        shutil.copy(data_dir / name, tmp_path / name)
    inputs = esc.load_inputs(tmp_path)
    assert inputs.policy is None and inputs.planned_events is None
    assert not inputs.features["planned_event"].any()
    with pytest.raises(esc.EscAnalyticsError, match="policy file not found"):
        esc.load_inputs(tmp_path, policy=tmp_path / "policy.yaml")
    with pytest.raises(esc.DataLoadError, match=r"incidents\.csv"):
        esc.load_inputs(tmp_path, incidents=tmp_path / "missing" / "incidents.csv")


def test_volume_series_give_each_topic_its_own_span(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    early = pd.date_range("2026-01-01", periods=300, freq="5min")
    late = pd.date_range("2026-01-03", periods=200, freq="5min")
    for name, times in (("early", early), ("late", late)):
        frame = pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"),
                              "value": rng.poisson(9, len(times))})
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    inputs = esc.load_inputs(series=[tmp_path / "early.csv", tmp_path / "late.csv"],
                             incidents=False, policy=False, planned_events=False)
    assert inputs.mentions is None and inputs.series.summary.accepted == 500
    assert inputs.freq == pd.Timedelta("5min")
    spans = inputs.features.groupby("topic")["window_start"].agg(["min", "size"])
    assert spans.loc["early", "size"] == 300 and spans.loc["late", "size"] == 200
    assert spans.loc["late", "min"] == pd.Timestamp("2026-01-03", tz="UTC")
    assert "negative_share" in inputs.features.attrs["absent_features"]
    assert inputs.summary().startswith("series:    read 500, accepted 500")
    assert "windows of 5 min over 2 topic(s)" in inputs.summary()


def test_no_usable_mention_is_an_error_with_the_reasons(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "mention_id,created_at,engagement\n1,2026-01-01T10:00Z,-3\n2,never,4\n"
    )
    with pytest.raises(esc.DataLoadError, match=r"no usable mention \(read 2, accepted 0"):
        esc.load_inputs(mentions=path, incidents=False, policy=False, planned_events=False)
    status = main(["detect", "--mentions", str(path), "--policy", "p.yaml",
                   "--out", str(tmp_path / "t.csv")])
    assert status == 2


def test_commands_read_inputs_through_load_inputs(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """``detect --mentions`` evaluates the plan on esc.load_inputs' features (plus the burst
    detection feature): the same tiers as the library path."""
    out = tmp_path / "tiers.csv"
    files = ["--mentions", str(data_dir / "mentions.csv.gz")]
    assert main(["detect", *files, "--policy", str(data_dir / "policy.yaml"),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    mentions = esc.load_mentions(data_dir / "mentions.csv.gz")
    assert f"mentions {mentions.summary.source}: {mentions.summary}" in printed
    inputs = esc.load_inputs(mentions=data_dir / "mentions.csv.gz", incidents=False,
                             policy=data_dir / "policy.yaml", planned_events=False)
    features = esc.add_detection_features(inputs.features)
    windows = esc.evaluate(inputs.policy, features).windows
    written = pd.read_csv(out)
    assert written["tier"].tolist() == windows["tier"].tolist()
    assert written["escalation"].tolist() == windows["escalation"].astype(int).tolist()


def _option(command: str, dest: str):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return next(a for a in sub._actions if a.dest == dest)


def test_option_defaults_come_from_the_library() -> None:
    from esc_analytics.backtesting._matching import DEFAULT_MAX_EARLY
    from esc_analytics.calibration._sweep import OBJECTIVES

    option = _option("backtest", "max_early")
    assert pd.Timedelta(option.default) == DEFAULT_MAX_EARLY
    assert option.default == "24h"  # as the help and the README write it
    # calibrate's default depends on the objective: the library's, 0h for NAB's scoring
    assert _option("calibrate", "max_early").default is None
    assert "(24h; 0h with --objective nab" in _option("calibrate", "max_early").help
    for objective, expected in (("recall", DEFAULT_MAX_EARLY), ("nab", pd.Timedelta(0))):
        args = argparse.Namespace(max_early=None, objective=objective)
        assert pd.Timedelta(max_early_of(args)) == expected
    assert max_early_of(argparse.Namespace(max_early="2h", objective="nab")) == "2h"
    for command in ("calibrate", "fit-model"):
        assert tuple(_option(command, "objective").choices) == OBJECTIVES
