"""Malformed inputs: each either loads with exact counts and reasons or raises DataLoadError
naming the file, the column and the offending lines. Files are built in tmp_path."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from esc_analytics import DataLoadError, load_incidents, load_mentions, load_series

HEADER = "id,created_at,topic,text\n"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# (name, file bytes, accepted ids, [(line, reason)], substring expected in notes or None)
LOADABLE = [
    (
        "some_unparseable_times",
        HEADER + "1,2024-01-01 00:00,a,x\n2,not a date,a,x\n3,,a,x\n4,2024-13-45 00:00,a,x\n",
        ["1"],
        [(3, "unparseable_time"), (4, "missing_time"), (5, "unparseable_time")],
        None,
    ),
    (
        "duplicate_ids",
        HEADER + "1,2024-01-01,a,x\n1,2024-01-02,a,y\n2,2024-01-03,a,z\n1,2024-01-04,a,w\n",
        ["1", "2"],
        [(3, "duplicate_id"), (5, "duplicate_id")],
        None,
    ),
    (
        "wrong_delimiter_is_sniffed",
        "id;created_at;topic;text\n1;2024-01-01;a;x, with comma\n2;2024-01-02;b;y\n",
        ["1", "2"],
        [],
        "delimiter ';' detected",
    ),
    (
        "tab_delimited",
        "id\tcreated_at\ttopic\ttext\n1\t2024-01-01\ta\tx\n",
        ["1"],
        [],
        "delimiter '\\t' detected",
    ),
    (
        "truncated_last_line_in_quotes",
        HEADER + '1,2024-01-01,a,x\n2,2024-01-02,a,"cut off',
        ["1"],
        [(3, "malformed_row")],
        None,
    ),
    (
        "truncated_last_line_missing_fields",
        HEADER + "1,2024-01-01,a,x\n2,2024-01-0",
        ["1"],
        [(3, "malformed_row")],
        None,
    ),
    (
        "too_many_fields_in_the_middle",
        HEADER + "1,2024-01-01,a,x\n2,2024-01-02,a,x,extra\n3,2024-01-03,a,x\n",
        ["1", "3"],
        [(3, "malformed_row")],
        None,
    ),
    (
        "bom",
        "\ufeff" + HEADER + "1,2024-01-01,a,x\n",
        ["1"],
        [],
        None,
    ),
    (
        "crlf",
        HEADER.replace("\n", "\r\n") + "1,2024-01-01,a,x\r\n2,2024-01-02,a,\"multi\r\nline\"\r\n"
        "3,2024-01-03,a,y\r\n",
        ["1", "2", "3"],
        [],
        None,
    ),
    (
        "quoted_newlines_keep_start_lines",
        HEADER + '1,2024-01-01,a,"one\ntwo\nthree"\n2,bad,a,x\n3,2024-01-03,a,"a ""quote"""\n',
        ["1", "3"],
        [(5, "unparseable_time")],  # record 2 starts on line 5 (record 1 spans lines 2-4)
        None,
    ),
    (
        "blank_lines_are_skipped_but_counted",
        HEADER + "\n1,2024-01-01,a,x\n\n\n2,nope,a,x\n",
        ["1"],
        [(6, "unparseable_time")],
        None,
    ),
    (
        "empty_topic_cells",
        HEADER + "1,2024-01-01,,x\n2,2024-01-02,b,x\n3,2024-01-03,  ,x\n",
        ["1", "2", "3"],
        [],
        "2 empty topic cell(s) set to 'all'",
    ),
    (
        "negative_or_non_numeric_counts",
        "id,created_at,followers,engagement\n1,2024-01-01,10,1\n2,2024-01-01,-5,1\n"
        "3,2024-01-01,lots,1\n4,2024-01-01,3,-2\n5,2024-01-01,,\n",
        ["1", "5"],
        [(3, "negative_number"), (4, "bad_number"), (5, "negative_number")],
        None,
    ),
]


@pytest.mark.parametrize(
    ("content", "ids", "quarantined", "note"),
    [case[1:] for case in LOADABLE],
    ids=[case[0] for case in LOADABLE],
)
def test_loadable_dirty_csv(tmp_path, content, ids, quarantined, note):
    path = tmp_path / "mentions.csv"
    path.write_bytes(content.encode("utf-8"))
    result = load_mentions(path, score_sentiment=False)
    assert result.data["mention_id"].tolist() == ids
    assert list(zip(result.quarantine["line"], result.quarantine["reason"], strict=True)) == (
        quarantined
    )
    summary = result.summary
    assert summary.rows_read == summary.accepted + summary.quarantined
    assert summary.accepted == len(ids) and summary.quarantined == len(quarantined)
    if note:
        assert any(note in n for n in summary.notes), summary.notes


def test_nul_bytes_are_removed_and_noted(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,created_at,topic,text\n1,2024-01-01,a,he\x00llo\n2,2024-01-02,a,x\n")
    result = load_mentions(path)
    assert result.data["text"].tolist() == ["hello", "x"]
    assert "1 NUL byte(s) removed" in " ".join(result.summary.notes)


def test_non_utf8_text_falls_back_to_cp1252(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,created_at,topic,text\n1,2024-01-01,a,x\n2,2024-01-02,Caf\u00e9,\u201cq\u201d\n"
                     .encode("cp1252"))
    result = load_mentions(path, score_sentiment=False)
    assert result.data["topic"].tolist() == ["a", "Caf\u00e9"]
    assert result.data["text"].iloc[1] == "\u201cq\u201d"
    assert any("not valid UTF-8 (first at line 3): decoded as cp1252" in n
               for n in result.summary.notes)


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv", ".gzip"])
def test_gzip_is_detected_by_magic_bytes(tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    path.write_bytes(gzip.compress((HEADER + "1,2024-01-01T10:00:00+02:00,a,x\n").encode()))
    result = load_mentions(path)
    assert result.data["created_at"].tolist() == [utc("2024-01-01 08:00")]


def test_truncated_gzip_keeps_what_decompresses(tmp_path):
    rows = "".join(f"{i},2024-01-01,a,x\n" for i in range(2000))
    blob = gzip.compress((HEADER + rows).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(blob[: len(blob) * 3 // 4])
    result = load_mentions(path, score_sentiment=False)
    assert 0 < result.summary.accepted < 2000
    assert result.summary.rows_read == result.summary.accepted + result.summary.quarantined
    assert any("gzip stream truncated" in n for n in result.summary.notes)


def test_mixed_zones_in_one_column(tmp_path):
    path = tmp_path / "zones.csv"
    path.write_text(
        "id,created_at\n1,2024-01-01 12:00:00 -0800\n2,2024-01-01T12:00:00+05:30\n"
        "3,2024-01-01T12:00:00Z\n4,2024-01-01 12:00:00\n"
    )
    result = load_mentions(path, tz="America/New_York")
    assert result.data["created_at"].tolist() == [
        utc("2024-01-01 20:00"), utc("2024-01-01 06:30"), utc("2024-01-01 12:00"),
        utc("2024-01-01 17:00"),  # naive, taken as New York (EST, UTC-5)
    ]
    assert result.summary.timezone_note == (
        "offsets converted to UTC; naive times taken as America/New_York and converted to UTC"
    )


# --- unusable files: DataLoadError naming file / column / lines ------------------------------

UNUSABLE = [
    ("empty_file", b"", "file is empty", None, ()),
    ("whitespace_only", b"\n\n  \n", "file is empty", None, ()),
    ("header_only", HEADER.encode(), "has a header (id, created_at, topic, text) but no data rows",
     None, ()),
    ("header_only_crlf", HEADER.replace("\n", "\r\n").encode(), "but no data rows", None, ()),
    ("binary_garbage", bytes(range(256)) * 40, "does not look like text", None, ()),
    ("zip_or_excel", b"PK\x03\x04" + b"\x00" * 100, "Excel workbook", None, ()),
    ("no_timestamp_column", b"id,topic,text\n1,a,x\n", "no created_at column", "created_at", ()),
    ("all_times_unparseable", (HEADER + "1,soon,a,x\n2,later,a,x\n").encode(),
     "no value of the time column could be read", "created_at", (2, 3)),
    ("no_row_has_header_width", b"a,b,c\n1,2\n3,4\n", "no row splits into the header's 3 fields",
     None, (2, 3)),
]


@pytest.mark.parametrize(
    ("content", "message", "column", "lines"),
    [case[1:] for case in UNUSABLE],
    ids=[case[0] for case in UNUSABLE],
)
def test_unusable_file_raises_naming_file_column_lines(tmp_path, content, message, column, lines):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataLoadError) as err:
        load_mentions(path)
    text = str(err.value)
    assert str(path) in text and message in text
    assert err.value.source == str(path)
    if column:
        assert f"column {column!r}" in text
    assert err.value.lines[: len(lines)] == lines


def test_one_column_file_hints_at_its_delimiter(tmp_path):
    path = tmp_path / "colon.csv"
    path.write_text("id:created_at\n1:2024-01-01\n")
    with pytest.raises(DataLoadError, match="looks ':'-separated"):
        load_mentions(path)


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataLoadError, match="file not found") as err:
        load_mentions(missing)
    assert str(missing) in str(err.value)
    with pytest.raises(DataLoadError, match="is a directory") as err:
        load_series(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_mapping_to_absent_column_names_file_mapping_and_columns(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "1,2024-01-01,a,x\n")
    with pytest.raises(DataLoadError) as err:
        load_mentions(path, columns={"created_at": "tweet_created"})
    text = str(err.value)
    assert str(path) in text
    assert "created_at='tweet_created'" in text
    assert "the columns are: id, created_at, topic, text" in text
    assert err.value.column == "tweet_created"


def test_incident_json_truncated_raises_with_line(tmp_path):
    path = tmp_path / "incidents.json"
    path.write_text('[\n{"incident_id": "a", "started_at": "2024-01-01"},\n{"incident_id": ')
    with pytest.raises(DataLoadError, match="invalid JSON") as err:
        load_incidents(path)
    assert err.value.lines == (3,)


def test_bad_json_lines_are_quarantined(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"id": "1", "created_at": "2024-01-01"}\n\n{"id": "2", "created_at": \n'
        '[1, 2]\n{"id": "3", "created_at": "2024-01-03"}\n'
    )
    result = load_mentions(path)
    assert result.data["mention_id"].tolist() == ["1", "3"]
    assert list(zip(result.quarantine["line"], result.quarantine["reason"], strict=True)) == [
        (3, "malformed_row"), (4, "malformed_row")
    ]


@pytest.mark.parametrize(
    ("header", "row", "refused"),
    [
        # A mention export passed as the incident log: every post would become an incident.
        ("id,created_at,topic,text,author", "1,2024-01-01,acme,late again,@bo", True),
        ("tweet_id,date,brand,followers", "9,2024-01-02,acme,1200", True),
        # Incident logs, even minimal ones or with a 'name' (title) column, load.
        ("incident_id,topic,started_at", "INC-1,acme,2024-01-01", False),
        ("incident_id,topic,started_at,name", "INC-1,acme,2024-01-01,outage", False),
        ("id,topic,created_at,text,severity", "INC-2,acme,2024-01-01,a note,2", False),
        # an incident id column named as such is enough, whatever else the log carries
        ("incident_id,topic,started_at,message,author", "INC-3,acme,2024-01-01,down,@ops", False),
        ("ticket_id,brand,date,title,engagement", "T-9,acme,2024-01-01,outage,12", False),
    ],
)
def test_a_mention_file_is_refused_as_an_incident_log(tmp_path, header, row, refused):
    path = tmp_path / "log.csv"
    path.write_text(f"{header}\n{row}\n")
    if refused:
        with pytest.raises(DataLoadError, match="looks like a mention file") as err:
            load_incidents(path)
        assert str(path) in str(err.value) and "load_mentions" in str(err.value)
    else:
        assert len(load_incidents(path).data) == 1


@pytest.mark.parametrize("word", ["N/A", "n/a", "-", "--", "null", "None", "#N/A", " NA "])
def test_a_no_value_word_in_an_optional_measure_keeps_the_mention(tmp_path, word):
    """'N/A' followers or '-' sentiment mean no value: the mention still counts in the volume
    (quarantining it would drop a real post over an optional field)."""
    path = tmp_path / "m.csv"
    path.write_text(
        "id,created_at,topic,followers,sentiment,engagement\n"
        f"1,2024-01-01T10:00Z,acme,{word},{word},{word}\n"
        "2,2024-01-01T11:00Z,acme,1200,negative,3\n"
    )
    result = load_mentions(path)
    assert result.data["mention_id"].tolist() == ["1", "2"] and result.quarantine.empty
    first = result.data.iloc[0]
    assert pd.isna(first["author_followers"]) and pd.isna(first["engagement"])
    assert result.data["author_followers"].iloc[1] == 1200


@pytest.mark.parametrize("word", ["ongoing", "Open", "N/A", "-", "TBD", ""])
def test_an_open_incident_has_no_end_instead_of_being_quarantined(tmp_path, word):
    path = tmp_path / "i.csv"
    path.write_text(
        "incident_id,topic,started_at,ended_at,severity\n"
        f"A,acme,2024-01-01T10:00Z,{word},1\n"
        "B,acme,2024-01-02T10:00Z,not a date,1\n"
    )
    result = load_incidents(path)
    assert result.data["incident_id"].tolist() == ["A"]
    assert pd.isna(result.data["ended_at"].iloc[0])
    assert result.quarantine["reason"].tolist() == ["unparseable_time"]  # B: a real bad value


@pytest.mark.parametrize(
    ("dates", "noted"),
    [
        (["03/04/2024 14:05", "04/04/2024 09:00"], True),  # could be 3 April or 4 March
        (["03/04/2024 14:05", "25/04/2024 09:00"], False),  # 25 decides: day-first
        (["03/04/2024 14:05", "04/25/2024 09:00"], False),  # 25 decides: month-first
        (["04/04/2024 14:05", "05/05/2024 09:00"], False),  # same either way
        (["2024-03-04 14:05", "2024-04-04 09:00"], False),  # ISO
    ],
)
def test_ambiguous_numeric_dates_are_noted(tmp_path, dates, noted):
    path = tmp_path / "m.csv"
    rows = "".join(f"{i},{d},acme\n" for i, d in enumerate(dates))
    path.write_text("id,created_at,topic\n" + rows)
    result = load_mentions(path)
    assert len(result.data) == 2
    notes = " ".join(result.summary.notes)
    assert ("read month-first" in notes) is noted, notes


def test_comma_fractional_seconds_parse(tmp_path):
    """Python logging writes '2024-03-01 10:00:00,123' (ISO allows the comma)."""
    path = tmp_path / "m.csv"
    path.write_text(
        'id,created_at,topic\n1,"2024-03-01 10:00:00,123",a\n2,"2024-03-01 11:00:00,5",a\n'
    )
    result = load_mentions(path)
    assert result.data["created_at"].tolist() == [
        pd.Timestamp("2024-03-01 10:00:00.123", tz="UTC"),
        pd.Timestamp("2024-03-01 11:00:00.5", tz="UTC"),
    ]
