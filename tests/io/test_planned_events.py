"""Planned events (launches, campaigns): loaded and validated like the other inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import main

UTC = pd.Timestamp("2026-01-01", tz="UTC").tz


def _write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_events_load_in_utc_with_their_other_columns(sample_dir: Path) -> None:
    events = esc.load_planned_events(sample_dir / "planned_events.csv")
    raw = pd.read_csv(sample_dir / "planned_events.csv")
    assert list(events.columns) == ["topic", "started_at", "ended_at", "event_id", "name", "kind"]
    assert len(events) == len(raw) > 0
    for column in ("started_at", "ended_at"):
        assert events[column].dt.tz == UTC
        expected = pd.to_datetime(raw[column], utc=True)
        assert (events[column] == expected).all()
    assert events["topic"].tolist() == raw["topic"].tolist()


def test_an_event_without_topic_or_end_concerns_every_topic_for_an_instant(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "started_at,ended_at\n2026-02-01T10:00:00Z,\n")
    events = esc.load_planned_events(path)
    assert events["topic"].isna().all()
    assert events.loc[0, "ended_at"] == events.loc[0, "started_at"]
    assert events.loc[0, "started_at"] == pd.Timestamp("2026-02-01T10:00:00Z")

    no_columns = esc.load_planned_events(_write(tmp_path, "started_at\n2026-02-01\n", "b.csv"))
    assert list(no_columns.columns) == ["topic", "started_at", "ended_at"]
    assert no_columns["topic"].isna().all()


def test_naive_times_are_taken_in_tz_and_offsets_are_kept(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "topic,started_at,ended_at\n"
        "acme,2026-07-01 10:00,2026-07-01T12:00:00+00:00\n"
        "acme,2026-03-29 02:30,2026-03-29 04:00\n",  # 02:30 does not exist in Paris that day
    )
    events = esc.load_planned_events(path, tz="Europe/Paris")
    assert events.loc[0, "started_at"] == pd.Timestamp("2026-07-01T08:00:00Z")
    assert events.loc[0, "ended_at"] == pd.Timestamp("2026-07-01T12:00:00Z")
    assert events.loc[1, "started_at"] == pd.Timestamp("2026-03-29T01:00:00Z")  # shifted forward
    utc = esc.load_planned_events(path)
    assert utc.loc[0, "started_at"] == pd.Timestamp("2026-07-01T10:00:00Z")


def test_a_dataframe_with_datetimes_is_accepted() -> None:
    frame = pd.DataFrame(
        {
            "topic": ["acme", " "],
            "started_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-02 10:00"]),
            "ended_at": pd.to_datetime(["2026-01-01T12:00Z", "2026-01-02T12:00Z"], utc=True),
        }
    )
    events = esc.load_planned_events(frame)
    assert events["started_at"].tolist() == [
        pd.Timestamp("2026-01-01T10:00Z"),
        pd.Timestamp("2026-01-02T10:00Z"),
    ]
    assert events["topic"].iloc[0] == "acme" and pd.isna(events["topic"].iloc[1])


def test_a_header_without_rows_is_no_event(tmp_path: Path) -> None:
    events = esc.load_planned_events(_write(tmp_path, "topic,started_at,ended_at\n"))
    assert events.empty and list(events.columns) == ["topic", "started_at", "ended_at"]


@pytest.mark.parametrize(
    ("text", "column", "lines", "message"),
    [
        ("topic,ended_at\nacme,2026-01-01\n", "started_at", (), "no started_at column"),
        ("topic,started_at\nacme,2026-01-01\nacme,soon\nacme,later\n", "started_at", (3, 4),
         "unparseable time"),
        ("topic,started_at\nacme,2026-01-01\nacme,\n", "started_at", (3,), "missing time"),
        ("topic,started_at,ended_at\nacme,2026-01-01,2026-01-02\nacme,2026-01-05,2026-01-04\n",
         "ended_at", (3,), "end before they start"),
        ("topic,started_at,ended_at\nacme,2026-01-01,never\n", "ended_at", (2,),
         "unparseable time"),
    ],
)
def test_bad_files_are_refused_naming_file_column_and_lines(
    tmp_path: Path, text: str, column: str, lines: tuple[int, ...], message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(esc.DataLoadError) as caught:
        esc.load_planned_events(path)
    error = caught.value
    assert error.source == str(path) and error.column == column
    assert error.lines == lines
    assert message in str(error) and str(path) in str(error)


def test_a_missing_file_and_a_wrong_type_are_refused(tmp_path: Path) -> None:
    with pytest.raises(esc.DataLoadError, match="planned events file not found"):
        esc.load_planned_events(tmp_path / "nope.csv")
    with pytest.raises(esc.DataLoadError, match="expected a path or a DataFrame"):
        esc.load_planned_events(42)  # type: ignore[arg-type]
    with pytest.raises(esc.DataLoadError, match="unknown time zone"):
        esc.load_planned_events(tmp_path / "nope.csv", tz="Mars/Olympus")


def test_rows_of_the_wrong_width_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "topic,started_at\nacme,2026-01-01\nacme,2026-01-02,extra\n")
    with pytest.raises(esc.DataLoadError) as caught:
        esc.load_planned_events(path)
    assert caught.value.lines == (3,)


def test_loaded_events_keep_the_same_windows_out_of_the_baselines(sample_dir: Path) -> None:
    """The loader gives build_features what the hand-written reading of the notebooks and the
    demo gave it (pd.read_csv + to_datetime): same features, planned windows flagged."""
    hours = pd.date_range("2026-01-20", "2026-03-20", freq="1h", tz="UTC")
    rng = np.random.default_rng(3)
    series = pd.concat(
        [
            pd.DataFrame({"topic": topic, "window_start": hours,
                          "volume": rng.poisson(20, len(hours))})
            for topic in ("NimbusAir", "Lumo", "Brewhaus")
        ],
        ignore_index=True,
    )
    by_hand = pd.read_csv(sample_dir / "planned_events.csv")
    for column in ("started_at", "ended_at"):
        by_hand[column] = pd.to_datetime(by_hand[column], utc=True)
    loaded = esc.load_planned_events(sample_dir / "planned_events.csv")
    expected = esc.features_from_series(series, planned_events=by_hand)
    features = esc.features_from_series(series, planned_events=loaded)
    pd.testing.assert_frame_equal(features, expected)
    assert features["planned_event"].any()


def test_aggregate_refuses_a_bad_planned_events_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    mentions = _write(
        tmp_path, "mention_id,created_at,topic,text\n1,2026-01-01T10:00:00Z,acme,hi\n", "m.csv"
    )
    events = _write(tmp_path, "topic,started_at\nacme,2026-01-01\nacme,tomorrow\n")
    status = main(["aggregate", str(mentions), "--planned-events", str(events),
                   "--out", str(tmp_path / "f.csv")])
    assert status == 2
    err = capsys.readouterr().err
    assert str(events) in err and "'started_at'" in err and "line 3" in err
