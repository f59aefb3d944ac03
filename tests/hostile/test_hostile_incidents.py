"""Hostile incident logs, mention and series files: each is quarantined with a reason or refused
with one library error naming the file (and row or key) and what is allowed — never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esc_analytics import (
    DataLoadError,
    aggregate_files,
    incidents_from_nab_windows,
    load_incidents,
    load_mentions,
    load_series,
)
from esc_analytics.io import is_nab_windows

HEADER = "incident_id,topic,started_at,severity\n"
GOOD = "OK1,x,2024-01-02T00:00:00Z,1\n"

# (case id, file name, content, expected quarantine reason of the hostile row)
QUARANTINED = [
    ("severity-inf", "i.csv", HEADER + "A,x,2024-01-01T00:00:00Z,inf\n" + GOOD, "bad_severity"),
    ("severity-minus-inf", "i.csv", HEADER + "A,x,2024-01-01,-inf\n" + GOOD, "bad_severity"),
    ("severity-nan", "i.csv", HEADER + "A,x,2024-01-01,nan\n" + GOOD, "bad_severity"),
    ("severity-1e20", "i.csv", HEADER + "A,x,2024-01-01,1e20\n" + GOOD, "bad_severity"),
    ("severity-20-digits", "i.csv", HEADER + "A,x,2024-01-01," + "9" * 20 + "\n" + GOOD,
     "bad_severity"),
    ("severity-hex", "i.csv", HEADER + "A,x,2024-01-01,0x10\n" + GOOD, "bad_severity"),
    ("severity-underscore", "i.csv", HEADER + "A,x,2024-01-01,2_5\n" + GOOD, "bad_severity"),
    ("severity-zero", "i.csv", HEADER + "A,x,2024-01-01,0\n" + GOOD, "bad_severity"),
    ("severity-100", "i.csv", HEADER + "A,x,2024-01-01,100\n" + GOOD, "bad_severity"),
    ("severity-fraction", "i.csv", HEADER + "A,x,2024-01-01,1.5\n" + GOOD, "bad_severity"),
    ("severity-json-1e20", "i.json",
     json.dumps([{"incident_id": "A", "started_at": "2024-01-01", "severity": 1e20},
                 {"incident_id": "OK1", "started_at": "2024-01-02", "severity": 1}]),
     "bad_severity"),
    ("year-1", "i.csv", HEADER + "A,x,0001-01-01T00:00:00Z,1\n" + GOOD, "time_out_of_range"),
    ("year-9999", "i.csv", HEADER + "A,x,9999-12-31T23:00:00Z,1\n" + GOOD, "time_out_of_range"),
    ("year-1899", "i.csv", HEADER + "A,x,1899-12-31T23:59:59Z,1\n" + GOOD, "time_out_of_range"),
    ("year-2201", "i.csv", HEADER + "A,x,2201-01-01T00:00:00Z,1\n" + GOOD, "time_out_of_range"),
    ("ended-year-9999", "i.csv",
     "incident_id,topic,started_at,ended_at,severity\nA,x,2024-01-01,9999-01-01,1\n"
     "OK1,x,2024-01-02,2024-01-03,1\n", "time_out_of_range"),
    ("ends-before-start", "i.csv",
     "incident_id,topic,started_at,ended_at,severity\nA,x,2024-01-02,2024-01-01,1\n"
     "OK1,x,2024-01-02,2024-01-03,1\n", "ended_before_started"),
]


@pytest.mark.parametrize(("name", "content", "reason"),
                         [pytest.param(*c[1:], id=c[0]) for c in QUARANTINED])
def test_hostile_incident_rows_are_quarantined_with_a_reason(tmp_path, name, content,
                                                             reason) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = load_incidents(path)
    assert result.data["incident_id"].tolist() == ["OK1"]
    assert result.quarantine["reason"].tolist() == [reason]
    assert result.summary.rows_read == 2
    assert result.data["severity"].between(1, 99).all()


def _deep(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


# (case id, file name, content, words the one-line error must hold)
REFUSED = [
    ("json-array-100k-deep", "i.json", "[" * 100_000 + "]" * 100_000, "nested deeper"),
    ("json-object-100k-deep", "i.json", _deep(100_000), "nested deeper"),
    ("json-lines-one-deep-line", "i.jsonl",
     '{"incident_id": "A", "started_at": "2024-01-01"}\n' + _deep(100_000) + "\n",
     "nested deeper"),
    ("json-two-lists", "i.json", json.dumps({"incidents": [{"a": 1}], "more": []}),
     "exactly one"),
    ("json-list-of-numbers", "i.json", "[1, 2, 3]", "no record"),
    ("json-empty-list", "i.json", "[]", "no records"),
    ("json-invalid", "i.json", "[{\"a\": 1},", "invalid JSON"),
    ("binary", "i.csv", bytes(range(256)) * 4, "does not look like text"),
    ("empty", "i.csv", "", "empty"),
    ("header-only", "i.csv", HEADER, "no data rows"),
    ("no-time-column", "i.csv", "incident_id,topic\nA,x\n", "no started_at column"),
    ("all-times-unreadable", "i.csv", HEADER + "A,x,soon,1\n", "could be read"),
]


@pytest.mark.parametrize(("name", "content", "words"),
                         [pytest.param(*c[1:], id=c[0]) for c in REFUSED])
def test_hostile_incident_files_are_refused_in_one_line(tmp_path, name, content, words) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DataLoadError) as caught:
        load_incidents(path)
    message = str(caught.value)
    assert words in message
    assert str(path) in message
    assert "\n" not in message and len(message) < 1000


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty"])
def test_json_incident_log_wrapped_in_an_object_is_read(tmp_path, indent) -> None:
    path = tmp_path / "incidents.json"
    records = [{"incident_id": "A", "topic": "x", "started_at": "2024-01-01", "severity": 2}]
    path.write_text(json.dumps({"incidents": records}, indent=indent), encoding="utf-8")
    result = load_incidents(path)
    assert result.data["incident_id"].tolist() == ["A"]
    assert result.data["severity"].tolist() == [2]
    assert not is_nab_windows(path)  # the CLI must not take it for NAB windows
    with pytest.raises(DataLoadError, match="incident log"):
        incidents_from_nab_windows(path)


# (case id, windows JSON, words of the error)
NAB_REFUSED = [
    ("one-edge", {"a.csv": [["2024-01-01"]]}, "is not a window"),
    ("three-edges", {"a.csv": [["2024-01-01", "2024-01-02", "2024-01-03"]]}, "is not a window"),
    ("a-number", {"a.csv": [5]}, "is not a window"),
    ("windows-a-number", {"a.csv": 5}, "expected a list of windows"),
    ("a-string", {"a.csv": ["2024-01-01"]}, "is not a window"),
    ("empty-object", {"a.csv": [{}]}, "is not a window"),
    ("start-only", {"a.csv": [{"start": "2024-01-01"}]}, "is not a window"),
    ("null-edges", {"a.csv": [[None, None]]}, "unparseable start"),
    ("number-edges", {"a.csv": [[1, 2]]}, "unparseable start"),
    ("ends-before-start", {"a.csv": [["2024-01-02", "2024-01-01"]]}, "before it starts"),
    ("year-1", {"a.csv": [["0001-01-01", "0001-01-02"]]}, "outside 1900-2200"),
    ("year-9999", {"a.csv": [["2024-01-01", "9999-01-02"]]}, "outside 1900-2200"),
    ("no-files", {}, "lists no data file"),
    ("a-list", [], "expected an object"),
]


@pytest.mark.parametrize(("payload", "words"), [pytest.param(*c[1:], id=c[0]) for c in NAB_REFUSED])
def test_hostile_nab_windows_are_refused(tmp_path, payload, words) -> None:
    path = tmp_path / "anomaly_windows.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(DataLoadError, match=words) as caught:
        incidents_from_nab_windows(path)
    assert "\n" not in str(caught.value)


def test_nab_windows_nested_100k_deep_and_binary_are_refused(tmp_path) -> None:
    path = tmp_path / "anomaly_windows.json"
    path.write_text(_deep(100_000), encoding="utf-8")
    with pytest.raises(DataLoadError, match="nested deeper"):
        incidents_from_nab_windows(path)
    assert not is_nab_windows(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataLoadError, match="not UTF-8"):
        incidents_from_nab_windows(path)


@pytest.mark.parametrize("year", ["0001", "1850", "2300", "9999"])
def test_mention_and_series_times_outside_1900_2200_are_quarantined(tmp_path, year) -> None:
    mentions = tmp_path / "m.csv"
    mentions.write_text(
        f"mention_id,topic,created_at,author\nA,x,{year}-06-01T00:00:00Z,a\n"
        "B,x,2024-01-01T00:00:00Z,b\n",
        encoding="utf-8",
    )
    for result in (load_mentions(mentions), aggregate_files(mentions)):
        assert result.summary.reasons == {"time_out_of_range": 1}
        assert result.summary.accepted == 1
    series = tmp_path / "s.csv"
    series.write_text(
        f"topic,window_start,volume\nx,{year}-06-01T00:00:00Z,3\nx,2024-01-01T00:00:00Z,4\n",
        encoding="utf-8",
    )
    assert load_series(series).summary.reasons == {"time_out_of_range": 1}


def _cli_inputs(tmp_path: Path) -> tuple[Path, Path]:
    series = tmp_path / "series.csv"
    rows = [f"x,2024-01-{d:02d}T{h:02d}:00:00Z,{3 + (h % 5)}" for d in (1, 2, 3) for h in range(24)]
    series.write_text("topic,window_start,volume\n" + "\n".join(rows) + "\n", encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text("tiers:\n- level: 1\n  all: ['volume >= 6']\n", encoding="utf-8")
    return series, policy


CLI_REFUSED = [
    pytest.param(*c[1:], id=c[0])
    for c in REFUSED
    if c[0] in ("json-array-100k-deep", "json-object-100k-deep", "json-two-lists", "binary")
]


@pytest.mark.parametrize(("name", "content", "words"),
                         CLI_REFUSED
                         + [pytest.param("w.json", json.dumps(c[1]), c[2], id="nab-" + c[0])
                            for c in NAB_REFUSED if c[0] in ("one-edge", "empty-object",
                                                              "ends-before-start", "year-9999")])
def test_cli_refuses_hostile_incident_files_in_one_line(tmp_path, capsys, name, content,
                                                        words) -> None:
    from esc_analytics.cli import main

    series, policy = _cli_inputs(tmp_path)
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code = main(["backtest", "--series", str(series), "--incidents", str(path),
                 "--policy", str(policy)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert words in err
