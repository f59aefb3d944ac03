"""Loading: column recognition, UTC times, sentiment, series, incidents (hand-computed cases)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from esc_analytics import (
    DataLoadError,
    incidents_from_nab_windows,
    load_incidents,
    load_mentions,
    load_series,
    resolve_columns,
    score_sentiment,
)
from esc_analytics._util.schema import QUARANTINE_COLUMNS

AIRLINE_CSV = (
    "tweet_id,airline,airline_sentiment,text,tweet_created\n"
    "570306133677760513,Virgin America,neutral,@VirginAmerica What @dhepburn said.,"
    "2015-02-24 11:35:52 -0800\n"
    "570301130888122368,Virgin America,positive,plus you've added commercials,"
    "2015-02-24 11:15:59 -0800\n"
    "570306133677760513,Virgin America,neutral,@VirginAmerica What @dhepburn said.,"
    "2015-02-24 11:35:52 -0800\n"
    "570301083672813571,United,NEGATIVE,\"lost my bag, again\",2015-02-24 23:15:48 -0800\n"
)
AIRLINE_MAPPING = {
    "mention_id": "tweet_id",
    "created_at": "tweet_created",
    "topic": "airline",
    "sentiment": "airline_sentiment",
}


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize("mapping", [AIRLINE_MAPPING, None], ids=["explicit", "recognised"])
def test_airline_export_loads_to_exact_utc_with_duplicates_quarantined(tmp_path, mapping):
    path = tmp_path / "Tweets.csv"
    path.write_text(AIRLINE_CSV)
    result = load_mentions(path, columns=mapping)
    data = result.data
    assert data["mention_id"].tolist() == [
        "570306133677760513",
        "570301130888122368",
        "570301083672813571",
    ]
    assert data["created_at"].tolist() == [
        utc("2015-02-24 19:35:52"),
        utc("2015-02-24 19:15:59"),
        utc("2015-02-25 07:15:48"),  # 23:15:48 -0800 crosses midnight in UTC
    ]
    assert str(data["created_at"].dtype) == "datetime64[us, UTC]"
    assert data["topic"].tolist() == ["Virgin America", "Virgin America", "United"]
    assert data["sentiment"].tolist() == [0.0, 1.0, -1.0]
    assert not data["sentiment_estimated"].any()
    assert data["text"].iloc[2] == "lost my bag, again"
    assert result.summary.columns_mapped["created_at"] == "tweet_created"
    assert result.summary.columns_mapped["topic"] == "airline"
    q = result.quarantine
    assert list(q.columns) == list(QUARANTINE_COLUMNS)
    assert q[["line", "reason", "column"]].values.tolist() == [[4, "duplicate_id", "tweet_id"]]
    assert q["raw"].iloc[0].startswith("570306133677760513,Virgin America")
    assert str(result.summary) == "read 4, accepted 3, quarantined 1 (duplicate_id: 1)"
    assert result.summary.timezone_note == "offsets converted to UTC"
    # the hourly counts the CLI would produce
    hours = data["created_at"].dt.floor("1h").value_counts().sort_index()
    assert hours.to_dict() == {utc("2015-02-24 19:00"): 2, utc("2015-02-25 07:00"): 1}


@pytest.mark.parametrize(
    ("available", "mapping", "expected"),
    [
        (["Tweet_ID", "Date", "Brand", "Full_Text"], None,
         {"mention_id": "Tweet_ID", "created_at": "Date", "topic": "Brand", "text": "Full_Text"}),
        (["id", "published_at", "keyword", "followers_count", "Verified", "source"], None,
         {"mention_id": "id", "created_at": "published_at", "topic": "keyword",
          "author_followers": "followers_count", "platform": "source", "is_verified": "Verified"}),
        (["when", "id", "timestamp"], {"created_at": "WHEN"},  # mapping wins, any case
         {"mention_id": "id", "created_at": "when"}),
        (["user", "screen_name", "time"], None,
         {"created_at": "time", "author": "screen_name"}),
    ],
)
def test_resolve_columns_recognises_export_names(available, mapping, expected):
    assert resolve_columns(available, mapping, "mentions") == expected


def test_resolve_columns_mapping_to_absent_column_names_file_mapping_and_columns():
    with pytest.raises(DataLoadError) as err:
        resolve_columns(["a", "b"], {"created_at": "tweet_created"}, "mentions", source="x.csv")
    message = str(err.value)
    assert "x.csv" in message and "created_at='tweet_created'" in message
    assert "the columns are: a, b" in message
    with pytest.raises(DataLoadError, match="unknown column 'when'"):
        resolve_columns(["a"], {"when": "a"}, "mentions")


@pytest.mark.parametrize(
    ("cells", "expected", "bad"),
    [
        (["negative", "Neutral", "POSITIVE", "neg", "pos"], [-1.0, 0.0, 1.0, -1.0, 1.0], 0),
        (["-0.5", "0.25", "1"], [-0.5, 0.25, 1.0], 0),
        (["1.5", "angry", "-0.2"], [-0.2], 2),
    ],
)
def test_sentiment_labels_and_numbers(cells, expected, bad):
    frame = pd.DataFrame({
        "id": [str(i) for i in range(len(cells))],
        "created_at": ["2024-01-01T00:00:00Z"] * len(cells),
        "sentiment": cells,
    })
    result = load_mentions(frame)
    assert result.data["sentiment"].tolist() == expected
    assert result.summary.reasons.get("bad_sentiment", 0) == bad


def test_sentiment_scored_from_text_when_absent():
    frame = pd.DataFrame({
        "id": ["1", "2", "3", "4"],
        "created_at": ["2024-01-01 00:00"] * 4,
        "text": ["I love this, wonderful service!", "terrible, awful, worst delay ever",
                 "I love this, wonderful service!", ""],
    })
    result = load_mentions(frame)
    sentiment = result.data["sentiment"].to_numpy()
    assert sentiment[0] > 0.5 and sentiment[1] < -0.5 and sentiment[0] == sentiment[2]
    assert np.isnan(sentiment[3])
    assert result.data["sentiment_estimated"].tolist() == [True, True, True, False]
    assert result.summary.sentiment_estimated
    unscored = load_mentions(frame, score_sentiment=False)
    assert "sentiment" not in unscored.data and not unscored.summary.sentiment_estimated


def test_score_sentiment_matches_vader_and_handles_missing():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = ["good", "bad", None, "good"]
    scores = score_sentiment(texts)
    reference = SentimentIntensityAnalyzer().polarity_scores("good")["compound"]
    assert scores[0] == reference == scores[3]
    assert scores[1] < 0 and np.isnan(scores[2])


@pytest.mark.parametrize(
    ("cells", "tz", "expected", "note"),
    [
        (["2024-03-01 12:00:00"], None, ["2024-03-01 12:00"], "naive times taken as UTC"),
        (["2024-03-01 12:00:00"], "Europe/Paris", ["2024-03-01 11:00"],
         "naive times taken as Europe/Paris and converted to UTC"),
        (["2024-07-01T12:00:00+02:00", "2024-07-01 12:00:00 -0500", "2024-07-01T12:00:00Z"],
         "Europe/Paris", ["2024-07-01 10:00", "2024-07-01 17:00", "2024-07-01 12:00"],
         "offsets converted to UTC"),
        (["Tue Feb 24 11:35:52 +0000 2015"], None, ["2015-02-24 11:35:52"],
         "offsets converted to UTC"),
        (["1700000000", "1700000060"], None, ["2023-11-14 22:13:20", "2023-11-14 22:14:20"],
         "epoch numbers read as UTC"),
        (["1700000000000"], None, ["2023-11-14 22:13:20"], "epoch numbers read as UTC"),
        # DST: 02:30 does not exist on 2024-03-31 in Paris (shifted to 03:00 local = 01:00 UTC);
        # 02:30 on 2024-10-27 happens twice (first occurrence, CEST = 00:30 UTC)
        (["2024-03-31 02:30", "2024-10-27 02:30"], "Europe/Paris",
         ["2024-03-31 01:00", "2024-10-27 00:30"],
         "naive times taken as Europe/Paris and converted to UTC"),
    ],
)
def test_times_to_utc(cells, tz, expected, note):
    frame = pd.DataFrame({"id": [str(i) for i in range(len(cells))], "date": cells})
    result = load_mentions(frame, tz=tz)
    assert result.data["created_at"].tolist() == [utc(t) for t in expected]
    assert result.summary.timezone_note == note


def test_dst_adjustments_are_noted():
    frame = pd.DataFrame({"id": ["1", "2"], "date": ["2024-03-31 02:30", "2024-10-27 02:30"]})
    notes = " ".join(load_mentions(frame, tz="Europe/Paris").summary.notes)
    assert "1 ambiguous" in notes and "1 nonexistent" in notes


def test_unknown_time_zone_raises():
    with pytest.raises(DataLoadError, match="unknown time zone 'Mars/Olympus'"):
        load_mentions(pd.DataFrame({"id": ["1"], "date": ["2024-01-01"]}), tz="Mars/Olympus")


def test_counts_topics_ids_and_flags(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        "post_id,created_at,brand,followers,engagement,verified\n"
        "a,2024-01-01T00:00Z,Acme,1200,3,yes\n"
        ",2024-01-01T00:01Z,,1.5K,,false\n"
        "c,2024-01-01T00:02Z,Acme,-4,1,TRUE\n"
        "d,2024-01-01T00:03Z,Acme,many,1,\n"
        "e,2024-01-01T00:04Z,Acme,\"1,234\",-1,\n"
    )
    result = load_mentions(path, topic="fallback")
    data = result.data
    assert data["mention_id"].tolist() == ["a", "m.csv:3"]
    assert data["topic"].tolist() == ["Acme", "fallback"]
    assert data["author_followers"].tolist() == [1200.0, 1500.0]
    assert data["engagement"].iloc[0] == 3.0 and np.isnan(data["engagement"].iloc[1])
    assert data["is_verified"].tolist() == [True, False]
    assert str(data["is_verified"].dtype) == "boolean"
    q = result.quarantine
    assert q[["line", "reason", "column"]].values.tolist() == [
        [4, "negative_number", "followers"],
        [5, "bad_number", "followers"],
        [6, "negative_number", "engagement"],
    ]
    assert "1 empty topic cell(s) set to 'fallback'" in result.summary.notes


def test_several_files_keep_source_and_line(tmp_path):
    first, second = tmp_path / "one.csv", tmp_path / "two.csv.gz"
    first.write_text("id,date\n1,2024-01-01\n2,bad\n")
    second.write_bytes(gzip.compress(b"id,date\n3,2024-01-02\n\n4,\n"))
    result = load_mentions([first, second])
    assert result.data["mention_id"].tolist() == ["1", "3"]
    assert result.quarantine[["source", "line", "reason"]].values.tolist() == [
        [str(first), 3, "unparseable_time"],
        [str(second), 4, "missing_time"],
    ]


def test_parquet_jsonl_and_frame_give_the_same_mentions(tmp_path):
    frame = pd.DataFrame({
        "id": ["1", "2"],
        "created_at": ["2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"],
        "topic": ["a", "b"],
        "sentiment": [-0.5, 0.5],
    })
    frame.to_parquet(tmp_path / "m.parquet")
    (tmp_path / "m.ndjson").write_text(
        "\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n"
    )
    expected = load_mentions(frame).data
    for name in ("m.parquet", "m.ndjson"):
        pd.testing.assert_frame_equal(load_mentions(tmp_path / name).data, expected)


def test_write_quarantine_round_trips(tmp_path):
    frame = pd.DataFrame({"id": ["1", "1"], "date": ["2024-01-01", "2024-01-02"]})
    result = load_mentions(frame)
    out = result.write_quarantine(tmp_path / "sub" / "q.csv")
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back[["line", "reason"]].values.tolist() == [["2", "duplicate_id"]]


# --- series ----------------------------------------------------------------------------------


def test_series_topic_from_file_stem_and_checks(tmp_path):
    path = tmp_path / "Twitter_volume_ACME.csv"
    path.write_text(
        "timestamp,value\n2015-03-01 00:00:00,5\n2015-03-01 00:05:00,-1\n"
        "2015-03-01 00:05:00,x\n2015-03-01 00:00:00,7\n2015-02-28 23:55:00,3\n"
    )
    result = load_series(path)
    assert result.data["topic"].unique().tolist() == ["Twitter_volume_ACME"]
    assert result.data["window_start"].tolist() == [utc("2015-02-28 23:55"), utc("2015-03-01")]
    assert result.data["volume"].tolist() == [3, 5]
    assert result.quarantine[["line", "reason"]].values.tolist() == [
        [3, "negative_number"], [4, "bad_number"], [5, "duplicate_id"]
    ]
    named = load_series(path, topic="acme")
    assert set(named.data["topic"]) == {"acme"}


def test_series_missing_volume_column_raises(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("timestamp,foo\n2024-01-01,1\n")
    with pytest.raises(DataLoadError, match="no volume column") as err:
        load_series(path)
    assert str(path) in str(err.value)


def test_nab_files_load_and_windows_give_17_incidents(nab_dir):
    files = sorted(nab_dir.glob("Twitter_volume_*.csv"))
    result = load_series(files)
    raw_rows = sum(len(pd.read_csv(f)) for f in files)
    assert result.summary.rows_read == raw_rows == result.summary.accepted
    assert result.summary.timezone_note == "naive times taken as UTC"
    assert sorted(result.data["topic"].unique()) == sorted(f.stem for f in files)
    first = pd.read_csv(files[0], nrows=1)
    row = result.data[result.data["topic"] == files[0].stem].iloc[0]
    assert row["window_start"] == utc(first["timestamp"].iloc[0])
    assert row["volume"] == first["value"].iloc[0]
    incidents = incidents_from_nab_windows(nab_dir / "anomaly_windows.json")
    assert len(incidents) == 17
    assert set(incidents["topic"]) <= set(result.data["topic"])
    assert (incidents["ended_at"] > incidents["started_at"]).all()
    windows = json.loads((nab_dir / "anomaly_windows.json").read_text())
    first_window = windows[files[0].name][0]
    mine = incidents[incidents["incident_id"] == f"{files[0].stem}#1"].iloc[0]
    assert mine["started_at"] == utc(first_window["start"])
    assert mine["ended_at"] == utc(first_window["end"])
    # window edges are row timestamps of the series
    starts = set(result.data["window_start"])
    assert set(incidents["started_at"]) <= starts and set(incidents["ended_at"]) <= starts


# --- incidents -------------------------------------------------------------------------------


def test_incident_log_severity_and_time_checks(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(
        "id,brand,start,end,detected_at,severity,title\n"
        "I1,Acme,2024-01-01 10:00,2024-01-01 12:00,2024-01-01 11:00,High,Outage\n"
        "I2,Acme,2024-01-02 10:00,2024-01-02 09:00,,low,Backwards\n"
        "I3,Acme,2024-01-03 10:00,,2024-01-03 09:00,2,Early detection\n"
        "I4,Acme,2024-01-04 10:00,,,apocalyptic,Unknown label\n"
        "I5,Acme,2024-01-05 10:00,,,urgent,Custom label\n"
        "I6,Acme,2024-01-06 10:00,,,0,Zero\n"
    )
    result = load_incidents(path, severity_map={"Urgent": 3})
    data = result.data
    assert data["incident_id"].tolist() == ["I1", "I3", "I5"]
    assert data["severity"].tolist() == [3, 2, 3]
    assert data["ended_at"].iloc[0] == utc("2024-01-01 12:00") and pd.isna(data["ended_at"].iloc[1])
    assert result.quarantine[["line", "reason", "column"]].values.tolist() == [
        [3, "ended_before_started", "end"],  # the source column name
        [5, "bad_severity", "severity"],
        [7, "bad_severity", "severity"],
    ]
    assert "1 incident(s) detected before started_at (kept)" in result.summary.notes


def test_incidents_from_json_array(tmp_path):
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps([
        {"incident_id": "b", "topic": "x", "started_at": "2024-01-02T00:00:00Z", "severity": 1},
        {"incident_id": "a", "topic": "x", "started_at": "2024-01-01T00:00:00+01:00",
         "severity": "critical"},
        {"incident_id": "c", "topic": "x", "started_at": "soon", "severity": 1},
    ]))
    result = load_incidents(path)
    assert result.data["incident_id"].tolist() == ["a", "b"]  # sorted by started_at
    assert result.data["started_at"].tolist() == [utc("2023-12-31 23:00"), utc("2024-01-02")]
    assert result.data["severity"].tolist() == [3, 1]
    assert result.quarantine[["line", "reason"]].values.tolist() == [[3, "unparseable_time"]]
