"""load_inputs(project=...): the project's files, mappings, zone and window, what is given
winning, and summaries that say which column became which and which measures are missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from own_exports import ZONE, write_brandwatch_like

import esc_analytics as esc
from esc_analytics.features._inputs import measures_line, unmatched_topics_line


@pytest.fixture(scope="module")
def brand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, esc.Project]:
    folder = tmp_path_factory.mktemp("brand")
    write_brandwatch_like(folder)
    drafted = esc.draft_project(folder)
    path = esc.save_project(drafted, folder)
    path.write_text(path.read_text().replace('zone = "UTC"', f'zone = "{ZONE}"'))
    return folder, esc.load_project(path)


def test_the_project_supplies_files_columns_zone_severities_and_window(brand) -> None:
    folder, project = brand
    inputs = esc.load_inputs(project=project, policy=False)
    assert inputs.mentions.summary.source == str(folder / "exports" / "Mentions export.csv")
    assert inputs.incidents.summary.columns_mapped["started_at"] == "Opened"
    assert inputs.incidents.summary.quarantined == 0
    assert set(inputs.incidents.data["severity"]) <= {1, 2, 3}
    assert f"naive times taken as {ZONE}" in inputs.mentions.summary.timezone_note
    assert inputs.planned_events is not None and len(inputs.planned_events)
    assert inputs.freq == pd.Timedelta("1h")
    text = inputs.summary()
    assert text.splitlines()[0] == f"project:   {project.path}"
    assert "  columns: 'Url' → mention_id, 'Date' → created_at, 'Query Name' → topic" in text
    assert "measures:  absent (zeros): engagement (the mentions do not carry" in text
    # the same data given by hand gives the same features: the project is only defaults
    by_hand = esc.load_inputs(
        mentions=folder / "exports" / "Mentions export.csv",
        incidents=folder / "incident log.csv",
        planned_events=folder / "campaign calendar.csv",
        policy=False,
        columns=dict(project.mention_columns),
        incident_columns=dict(project.incident_columns),
        severity_map={"P1": 3, "P2": 2, "P3": 1},
        tz=ZONE,
    )
    pd.testing.assert_frame_equal(by_hand.features, inputs.features)
    pd.testing.assert_frame_equal(by_hand.incidents.data, inputs.incidents.data)


def test_what_is_given_wins_over_the_project(brand, sample_dir: Path) -> None:
    _, project = brand
    utc = esc.load_inputs(project=project, policy=False, tz="UTC")
    paris = esc.load_inputs(project=project, policy=False)
    shift = paris.mentions.data["created_at"] - utc.mentions.data["created_at"]
    assert set(shift.dt.total_seconds() / 3600) <= {-1.0, -2.0}  # Paris is UTC+1/+2
    fine = esc.load_inputs(project=project, policy=False, freq="15min")
    assert fine.freq == pd.Timedelta("15min")
    # a column given replaces the project's for that column only
    other = esc.load_inputs(project=project, policy=False, columns={"topic": "Page Type"})
    assert set(other.features["topic"]) == set(other.mentions.data["topic"])
    assert other.mentions.summary.columns_mapped["topic"] == "Page Type"
    assert other.mentions.summary.columns_mapped["created_at"] == "Date"
    # a label given replaces the project's: P3 now tier 2
    relabel = esc.load_inputs(project=project, policy=False, severity_map={"P3": 2})
    assert set(relabel.incidents.data["severity"]) <= {2, 3}
    # data_dir's files win over the project's, and do not get the project's mappings (which
    # describe its own export): the sample's own column names are read; the zone still applies
    sample = esc.load_inputs(sample_dir, project=project, policy=False)
    assert sample.mentions.summary.source == str(sample_dir / "mentions.csv.gz")
    assert sample.mentions.summary.columns_mapped["created_at"] == "created_at"
    assert sample.incidents.summary.columns_mapped["started_at"] == "started_at"
    # a file given instead of the project's is read with its own names too
    given = esc.load_inputs(project=project, policy=False,
                            incidents=sample_dir / "incidents.csv")
    assert given.incidents.summary.columns_mapped["started_at"] == "started_at"
    assert given.mentions.summary.columns_mapped["created_at"] == "Date"


def test_the_project_may_be_a_path_and_a_plan_it_lacks_is_the_starter_plan(
    brand, sample_dir: Path
) -> None:
    _, project = brand
    inputs = esc.load_inputs(project=project.path)
    assert inputs.policy == esc.load_policy(sample_dir / "policy.yaml")
    assert "the bundled starter plan (the project names none)" in inputs.summary()


def test_a_project_naming_a_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "esc-analytics.toml").write_text('[data]\nmentions = "exports/x.csv"\n')
    with pytest.raises(esc.DataLoadError, match="file not found"):
        esc.load_inputs(project=tmp_path / "esc-analytics.toml")
    (tmp_path / "exports").mkdir()
    pd.DataFrame({"created_at": ["2026-01-01T00:00:00Z"], "text": ["hi"]}).to_csv(
        tmp_path / "exports" / "x.csv", index=False)
    with pytest.raises(esc.DataLoadError) as err:  # no incidents.csv beside the project
        esc.load_inputs(project=tmp_path / "esc-analytics.toml", policy=False)
    assert str(tmp_path / "incidents.csv") in str(err.value)


def _features(columns: dict[str, list[float]], topic: str = "A") -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"topic": topic, "window_start": pd.date_range(
        "2026-01-01", periods=n, freq="1h", tz="UTC"), **columns})


MEASURES = [
    ({"volume": [1, 2], "reach": [0, 0], "engagement": [0, 5]}, {},
     "measures:  zero in every window: reach"),
    ({"volume": [1, 2], "reach": [0, 0], "influencer_mentions": [0, 0]},
     {"reach": "the mentions do not carry (no author_followers column)",
      "influencer_mentions": "the mentions do not carry (no author_followers column)"},
     "measures:  absent (zeros): reach, influencer_mentions (the mentions do not carry "
     "(no author_followers column))"),
    ({"volume": [1, 2], "reach": [3, 0]}, {}, ""),
    ({"volume": [0, 0], "reach": [1, 1]}, {"negative_share": "volume series do not carry"},
     "measures:  absent (zeros): negative_share (volume series do not carry); "
     "zero in every window: volume"),
]


@pytest.mark.parametrize(("columns", "absent", "expected"), MEASURES)
def test_measures_line_names_absent_and_all_zero_measures(columns, absent, expected) -> None:
    features = _features(columns)
    features.attrs["absent_features"] = absent
    assert measures_line(features) == expected


def test_unmatched_topics_line_explains_a_topic_less_export() -> None:
    incidents = pd.DataFrame({"topic": ["Acme", "Acme", "Globex"]})
    line = unmatched_topics_line(_features({"volume": [1]}, topic="all"), incidents)
    assert line.startswith("3 of 3 incident(s) have a topic the data does not hold "
                           "(Acme, Globex)")
    assert "columns={'topic': 'your column'}" in line
    cli = unmatched_topics_line(_features({"volume": [1]}, topic="all"), incidents, cli=True)
    assert "--column topic=YOUR_COLUMN" in cli
    # one topic's file of several is a choice: nothing to say; none matching is said
    some = pd.concat([_features({"volume": [1]}, "Acme")])
    assert unmatched_topics_line(some, incidents) == ""
    none = unmatched_topics_line(_features({"volume": [1]}, "Initech"), incidents)
    assert "the data's topics: Initech" in none
    assert unmatched_topics_line(some, incidents.iloc[:2]) == ""
