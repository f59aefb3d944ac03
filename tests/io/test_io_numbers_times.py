"""Numbers and times as written by real exports: decimal commas vs thousands separators,
infinities, ``GMT+h`` / hour-only offsets, and a volume series passed as mentions.
Each case failed before the loader fix it guards."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esc_analytics import DataLoadError, load_mentions, load_series

NAB_DIR = Path("/work/shared/data/nab-realtweets-dev")
SAMPLE_MENTIONS = Path(__file__).resolve().parents[2] / "data" / "sample" / "mentions.csv.gz"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# --- 1. decimal comma or thousands separator: decided per column -----------------------------


def test_european_mentions_keep_decimal_commas(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text(
        "mention_id;created_at;topic;author_followers;engagement;sentiment\n"
        "1;2024-03-04 14:05:00;Acme;1.234;12,5;-0,25\n"
        "2;2024-03-04 15:05:00;Acme;2,5;3;0,5\n"
    )
    data = load_mentions(path, score_sentiment=False).data
    assert data["author_followers"].tolist() == [1234.0, 2.5]
    assert data["engagement"].tolist() == [12.5, 3.0]
    assert data["sentiment"].tolist() == [-0.25, 0.5]


# (delimiter, volume cells as written, volumes expected, substring of a note or None)
VOLUMES = [
    ("decimal_comma_semicolon_file", ";", ["10,5", "3"], [10.5, 3.0], None),
    ("decimal_comma_quoted_in_comma_file", ",", ['"1,5"', "2"], [1.5, 2.0], None),
    ("decimal_comma_with_dot_groups", ";", ["1.234,5", "2,25", "1.000"], [1234.5, 2.25, 1000.0],
     None),
    ("plain_dot_decimal_beside_decimal_commas", ";", ["2,5", "1.5"], [2.5, 1.5], None),
    ("decimal_comma_with_suffix", ",", ['"1,5K"', "12"], [1500.0, 12.0], None),
    ("leading_zero_is_never_a_group", ";", ["0,500", "2"], [0.5, 2.0], None),
    ("thousands_two_groups", ",", ['"1,234,567"', '"2,000"'], [1234567.0, 2000.0], None),
    ("thousands_with_dot_fraction", ",", ['"1,234.5"', "7"], [1234.5, 7.0], None),
    ("thousands_beside_a_dot_decimal", ",", ['"1,234"', "0.5"], [1234.0, 0.5], None),
    ("ambiguous_single_group_is_noted", ",", ['"1,234"', "5"], [1234.0, 5.0],
     "column 'value': 1 value(s) such as '1,234' read with ',' as a thousands separator"),
    ("ambiguous_in_semicolon_file_is_noted", ";", ["1,234", "2,500"], [1234.0, 2500.0],
     "read with ',' as a thousands separator"),
]


@pytest.mark.parametrize(
    ("delim", "cells", "expected", "note"),
    [case[1:] for case in VOLUMES],
    ids=[case[0] for case in VOLUMES],
)
def test_series_volume_decimal_comma_or_thousands(tmp_path, delim, cells, expected, note):
    path = tmp_path / "vol.csv"
    rows = [f"2015-02-26 21:{40 + k}:00{delim}{cell}" for k, cell in enumerate(cells)]
    path.write_text(f"timestamp{delim}value\n" + "\n".join(rows) + "\n")
    result = load_series(path)
    assert result.summary.quarantined == 0
    assert result.data["volume"].astype("float64").tolist() == expected
    notes = " | ".join(result.summary.notes)
    if note:
        assert note in notes and "vol.csv" in notes
    else:
        assert "thousands separator" not in notes


def test_a_malformed_comma_number_is_quarantined_not_guessed(tmp_path):
    path = tmp_path / "vol.csv"
    path.write_text("timestamp;value\n2015-02-26 21:40:00;1,2,3\n2015-02-26 21:45:00;2,5\n")
    result = load_series(path)
    assert result.data["volume"].tolist() == [2.5]
    assert result.quarantine[["line", "reason"]].values.tolist() == [[2, "bad_number"]]


def test_each_file_gets_its_own_reading(tmp_path):
    us, eu = tmp_path / "us.csv", tmp_path / "eu.csv"
    us.write_text('timestamp,value\n2015-02-26 21:40:00,"1,234,567"\n')
    eu.write_text("timestamp;value\n2015-02-26 21:40:00;10,5\n")
    data = load_series([us, eu]).data
    assert dict(zip(data["topic"], data["volume"], strict=True)) == {"us": 1234567.0, "eu": 10.5}


# --- 2. infinities are bad numbers, like nan -------------------------------------------------

INFINITIES = ["inf", "-inf", "Infinity", "-Infinity", "INF", "1e999"]


@pytest.mark.parametrize("cell", INFINITIES)
def test_infinite_volume_is_quarantined(tmp_path, cell):
    path = tmp_path / "vol.csv"
    path.write_text(f"timestamp,value\n2015-02-26 21:40:00,4\n2015-02-26 21:45:00,{cell}\n")
    result = load_series(path)
    assert result.data["volume"].tolist() == [4]
    assert result.quarantine[["line", "reason", "column"]].values.tolist() == [
        [3, "bad_number", "value"]
    ]


@pytest.mark.parametrize("column", ["followers", "engagement"])
@pytest.mark.parametrize("cell", INFINITIES)
def test_infinite_counts_are_quarantined(tmp_path, column, cell):
    path = tmp_path / "m.csv"
    path.write_text(f"id,created_at,{column}\n1,2024-01-01,3\n2,2024-01-02,{cell}\n")
    result = load_mentions(path, score_sentiment=False)
    assert result.data["mention_id"].tolist() == ["1"]
    assert result.quarantine[["line", "reason", "column"]].values.tolist() == [
        [3, "bad_number", column]
    ]


def test_infinite_numbers_in_a_frame_are_quarantined():
    frame = pd.DataFrame({"timestamp": ["2015-02-26 21:40", "2015-02-26 21:45"],
                          "value": [3.0, math.inf]})
    result = load_series(frame)
    assert result.data["volume"].tolist() == [3]
    assert result.quarantine["reason"].tolist() == ["bad_number"]


# --- 3. GMT+h / UTC+h:mm / hour-only offsets ------------------------------------------------

OFFSETS = [
    ("gmt_plus_hour", "2024-03-04 14:05 GMT+1", "2024-03-04 13:05"),
    ("utc_plus_hour", "2024-03-04 14:05 UTC+1", "2024-03-04 13:05"),
    ("gmt_minus_hour", "2024-03-04 14:05 GMT-3", "2024-03-04 17:05"),
    ("utc_hh_mm", "2024-03-04 14:05 UTC+05:30", "2024-03-04 08:35"),
    ("gmt_hhmm", "2024-03-04 14:05:00 GMT+0100", "2024-03-04 13:05"),
    ("gmt_no_space", "2024-03-04 14:05GMT+1", "2024-03-04 13:05"),
    ("lower_case", "2024-03-04 14:05 gmt+1", "2024-03-04 13:05"),
    ("javascript_date", "Mon Mar 04 2024 14:05:00 GMT+0100 (Central European Standard Time)",
     "2024-03-04 13:05"),
    ("hour_only_iso", "2024-03-04T14:05:00+02", "2024-03-04 12:05"),
    ("hour_only_minus", "2024-03-04 14:05-05", "2024-03-04 19:05"),
    ("plain_gmt", "2024-03-04 14:05 GMT", "2024-03-04 14:05"),
    ("plain_utc", "2024-03-04 14:05 UTC", "2024-03-04 14:05"),
    ("zulu", "2024-03-04T14:05:00Z", "2024-03-04 14:05"),
]


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
@pytest.mark.parametrize(
    ("written", "expected"), [case[1:] for case in OFFSETS], ids=[case[0] for case in OFFSETS]
)
def test_offsets_are_converted_once_whatever_tz(tmp_path, written, expected, tz):
    path = tmp_path / "m.csv"
    path.write_text(f"id,created_at\n1,{written}\n")
    result = load_mentions(path, tz=tz, score_sentiment=False)
    assert result.data["created_at"].tolist() == [utc(expected)]
    assert result.summary.timezone_note == "offsets converted to UTC"


def test_mixed_gmt_and_naive_times_with_tz(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,created_at\n1,2024-03-04 14:05 GMT+1\n2,2024-03-04T14:05:00+02\n"
                    "3,2024-03-04 14:05\n4,2024-03-04\n")
    result = load_mentions(path, tz="Europe/Paris", score_sentiment=False)
    assert result.data["created_at"].tolist() == [
        utc("2024-03-04 13:05"), utc("2024-03-04 12:05"), utc("2024-03-04 13:05"),
        utc("2024-03-03 23:00"),
    ]
    assert result.summary.timezone_note == (
        "offsets converted to UTC; naive times taken as Europe/Paris and converted to UTC"
    )


# --- 4. a volume series is not a mention file -------------------------------------------------


@pytest.mark.parametrize(
    ("header", "row", "refused"),
    [
        ("timestamp,value", "2015-02-26 21:42:53,104", True),
        ("date,brand,volume", "2024-01-01,acme,12", True),
        ("datetime,count", "2024-01-01T00:00Z,3", True),
        # mention files load: an id column, a text column, or no count column
        ("id,created_at,topic", "1,2024-01-01,acme", False),
        ("id,timestamp,value", "1,2024-01-01,7", False),
        ("created_at,text,count", "2024-01-01,late again,3", False),
        ("timestamp,value", "2024-01-01,not a number", False),
    ],
)
def test_a_volume_series_is_refused_as_mentions(tmp_path, header, row, refused):
    path = tmp_path / "Twitter_volume_X.csv"
    path.write_text(f"{header}\n{row}\n")
    if refused:
        with pytest.raises(DataLoadError, match="looks like a volume series") as err:
            load_mentions(path, score_sentiment=False)
        text = str(err.value)
        assert str(path) in text and "load_series" in text and "--series" in text
        assert len(load_series(path).data) == 1
    else:
        assert len(load_mentions(path, score_sentiment=False).data) == 1


@pytest.mark.skipif(not NAB_DIR.is_dir(), reason="NAB dev data not present")
def test_real_nab_volume_file_is_refused_as_mentions_and_loads_as_series():
    path = NAB_DIR / "Twitter_volume_AAPL.csv"
    with pytest.raises(DataLoadError, match="looks like a volume series"):
        load_mentions(path)
    result = load_series(path)
    assert result.summary.quarantined == 0
    assert result.data["volume"].dtype == np.int64


@pytest.mark.skipif(not SAMPLE_MENTIONS.is_file(), reason="sample data not present")
def test_sample_mentions_still_load():
    result = load_mentions(SAMPLE_MENTIONS, score_sentiment=False)
    assert result.summary.accepted > 0
    with gzip.open(SAMPLE_MENTIONS, "rt") as handle:
        assert result.summary.rows_read == sum(1 for _ in handle) - 1
