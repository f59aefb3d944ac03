"""The project file (esc-analytics.toml): read, validated, written, found, drafted from a folder."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from own_exports import write_brandwatch_like, write_sprout_like

import esc_analytics as esc


@pytest.fixture(autouse=True)
def _no_project_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESC_ANALYTICS_PROJECT", raising=False)


def _write(folder: Path, text: str, name: str = "esc-analytics.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- round trip ----------------------------------------------------------------------------


ODD_NAMES = [
    "mentions.csv",
    "exports/Brandwatch Mentions (Dec 2025).csv",
    'quote"and\\backslash.csv',
    "tab\tin name.csv",
    "Ünïcødé – données 📈.csv.gz",
    "[brackets]*star?.parquet",
    "#hash = not a comment.csv",
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_a_project_written_reads_back_to_the_same_project(tmp_path: Path, name: str) -> None:
    project = esc.Project(
        mentions=(tmp_path / name, tmp_path / "part 2.csv"),
        incidents=tmp_path / "logs" / name,
        planned_events=tmp_path / "campaigns.csv",
        policy=tmp_path / "plans" / "policy.yaml",
        tz="Europe/Paris",
        freq="15min",
        mention_columns={"created_at": "Date", "text": name, "topic": "Query Name"},
        incident_columns={"started_at": "Opened", "severity": 'Prio "rity"'},
        severity_map={"P1": 3, "Sev 2": 2, name: 1},
    )
    written = esc.save_project(project, tmp_path)
    assert written == tmp_path / esc.PROJECT_FILE
    back = esc.load_project(written)
    for key in ("mentions", "incidents", "planned_events", "policy", "tz", "freq",
                "mention_columns", "incident_columns", "severity_map"):
        assert getattr(back, key) == getattr(project, key), key
    # paths under the project's folder are written relative to it: the folder can move
    text = written.read_text(encoding="utf-8")
    assert str(tmp_path) not in text
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    tmp_path.rename(moved)
    assert esc.load_project(moved / esc.PROJECT_FILE).incidents == moved / "logs" / name


def test_paths_outside_the_folder_stay_absolute_and_relative_ones_read_against_the_file(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "shared" / "export.csv"
    project = esc.Project(mentions=(elsewhere,), incidents=tmp_path / "team" / "log.csv")
    written = esc.save_project(project, tmp_path / "team" / "brand" / "esc-analytics.toml")
    back = esc.load_project(written)
    assert back.mentions == (elsewhere,)  # ../../shared is not written: absolute
    assert back.incidents == tmp_path / "team" / "log.csv"
    # a hand-written relative path is read against the project file's folder, not the cwd
    path = _write(tmp_path / "team", '[data]\nmentions = "../shared/export.csv"\n')
    assert esc.load_project(path).mentions == (tmp_path / "team" / ".." / "shared" /
                                               "export.csv",)


def test_save_project_never_overwrites_without_being_asked(tmp_path: Path) -> None:
    first = esc.save_project(esc.Project(mentions=(tmp_path / "a.csv",)), tmp_path)
    with pytest.raises(esc.ProjectError, match="already exists"):
        esc.save_project(esc.Project(mentions=(tmp_path / "b.csv",)), tmp_path)
    assert esc.load_project(first).mentions == (tmp_path / "a.csv",)
    esc.save_project(esc.Project(mentions=(tmp_path / "b.csv",)), tmp_path, overwrite=True)
    assert esc.load_project(first).mentions == (tmp_path / "b.csv",)
    assert (tmp_path / "esc-analytics.toml.bak").read_text().count("a.csv") == 1


# --- hostile or mistaken files ---------------------------------------------------------------


BAD_FILES = [
    ("not toml", "[data\nmentions = 'x.csv'\n", "not valid TOML"),
    ("windows backslashes", '[data]\nmentions = "C:\\Users\\me\\x.csv"\n', "single quotes"),
    ("top-level typo", '[dta]\nmentions = "x.csv"\n', "dta: unknown key (did you mean data?)"),
    ("key outside its table", 'mentions = "x.csv"\n',
     "mentions: unknown key (did you mean data.mentions?)"),
    ("data typo", '[data]\nmentons = "x.csv"\n',
     "data.mentons: unknown key (did you mean data.mentions?)"),
    ("tz synonym", '[time]\ntz = "UTC"\n', "time.tz: unknown key (did you mean time.zone?)"),
    ("unknown canonical column", '[columns.mentions]\ncreated = "Date"\n',
     "columns.mentions.created: unknown key (did you mean columns.mentions.created_at?)"),
    ("unknown column kind", '[columns.mention]\ncreated_at = "Date"\n',
     "columns.mention: unknown key (did you mean columns.mentions?)"),
    ("column not text", "[columns.incidents]\nstarted_at = 3\n",
     "columns.incidents.started_at: expected the name of a column"),
    ("path not text", "[data]\nincidents = 42\n", "data.incidents: expected a file name"),
    ("empty path", '[data]\npolicy = ""\n', "data.policy: expected a file name"),
    ("empty list", "[data]\nmentions = []\n", "data.mentions: expected a file name"),
    ("both sources", '[data]\nmentions = "a.csv"\nseries = "b.csv"\n', "mentions or series"),
    ("unknown zone", '[time]\nzone = "Mars/Olympus"\n', "time.zone: unknown time zone"),
    ("calendar window", '[time]\nwindow = "1M"\n', "time.window: expected a fixed window"),
    ("negative window", '[time]\nwindow = "-1h"\n', "time.window"),
    ("severity not a tier", "[severity]\nP1 = 0\n", "severity.P1: expected a tier"),
    ("severity as text", '[severity]\nP1 = "high"\n', "severity.P1: expected a tier"),
    ("severity boolean", '[severity]\n"Sev 1" = true\n', 'severity."Sev 1": expected a tier'),
    ("table where a value goes", "[data.incidents]\nfile = 'x.csv'\n",
     "data.incidents: expected a file name"),
    ("value where a table goes", 'columns = "Date"\n', "columns: expected a table"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_mistaken_project_file_is_one_line_naming_the_file_and_key(
    tmp_path: Path, case: str, text: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(esc.ProjectError) as err:
        esc.load_project(path)
    message = str(err.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message
    assert "\n" not in message


def test_binary_or_non_utf8_files_and_folders_are_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "esc-analytics.toml"
    path.write_bytes(b"[data]\nmentions = \"caf\xe9.csv\"\n")
    with pytest.raises(esc.ProjectError, match="not UTF-8 text"):
        esc.load_project(path)
    path.write_bytes(b"\x00\x01\x02PAR1")
    with pytest.raises(esc.ProjectError, match="not valid TOML"):
        esc.load_project(path)
    path.unlink()
    (tmp_path / "sub").mkdir()
    with pytest.raises(esc.ProjectError, match="project file not found"):
        esc.load_project(tmp_path / "sub")  # a folder: its esc-analytics.toml, absent


def test_a_missing_project_file_says_where_it_looked(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(esc.ProjectError) as err:
        esc.load_project("brand/esc-analytics.toml")
    assert f"looked for {tmp_path / 'brand' / 'esc-analytics.toml'}" in str(err.value)
    with pytest.raises(esc.ProjectError, match=f"no esc-analytics.toml in {tmp_path}"):
        esc.load_project()


# --- finding it ------------------------------------------------------------------------------


def test_find_project_looks_in_the_env_var_then_the_folder_and_its_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _write(tmp_path, '[data]\nmentions = "m.csv"\n')
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    assert esc.find_project(start=notebooks) == root  # a kernel in notebooks/ finds it
    assert esc.find_project(start=notebooks, parents=False) is None  # the CLI: cwd only
    monkeypatch.chdir(notebooks)
    assert esc.find_project() == root
    other = _write(tmp_path / "notebooks", '[data]\nmentions = "x.csv"\n', "other.toml")
    monkeypatch.setenv("ESC_ANALYTICS_PROJECT", str(other))
    assert esc.find_project() == other  # Voilà pointed at other data without editing
    assert esc.find_project(root) == root  # a path given wins over the variable
    monkeypatch.setenv("ESC_ANALYTICS_PROJECT", str(tmp_path / "gone.toml"))
    with pytest.raises(esc.ProjectError, match=r"\$ESC_ANALYTICS_PROJECT"):
        esc.find_project()


# --- a first look at a folder ----------------------------------------------------------------


def test_draft_maps_a_brandwatch_like_export_and_a_hand_made_log(tmp_path: Path) -> None:
    written = write_brandwatch_like(tmp_path)
    project = esc.draft_project(tmp_path)
    assert project.mentions == (written.mentions,)
    assert project.incidents == written.incidents
    assert project.planned_events == written.planned_events
    assert project.mention_columns == {
        "mention_id": "Url", "created_at": "Date", "topic": "Query Name",
        "text": "Full Text", "author": "Author", "author_followers": "Reach (new)",
        "sentiment": "Sentiment", "platform": "Page Type",
    }
    assert project.incident_columns == {
        "incident_id": "Ticket", "topic": "Brand", "started_at": "Opened",
        "severity": "Priority", "ended_at": "Closed", "title": "Summary",
    }
    assert project.severity_map == {"P1": 3, "P2": 2, "P3": 1}
    notes = "\n".join(project.notes)
    assert "'Reach (new)' → author_followers (guessed from a word: check)" in notes
    assert "times in 'Date' have no offset" in notes
    # what init writes is what the loaders then read: every incident, at its true tier
    path = esc.save_project(project, tmp_path)
    text = path.read_text(encoding="utf-8").replace('zone = "UTC"', 'zone = "Europe/Paris"')
    path.write_text(text, encoding="utf-8")
    inputs = esc.load_inputs(project=path, policy=False)
    truth = written.truth
    assert inputs.mentions.summary.accepted == len(truth.mentions)
    loaded = inputs.incidents.data.set_index("incident_id").sort_index()
    expected = truth.incidents.set_index("incident_id").sort_index()
    assert loaded["severity"].tolist() == expected["severity"].tolist()
    # Paris wall-clock times converted back to the true UTC instants (to the minute written)
    assert (loaded["started_at"] == expected["started_at"].dt.floor("min")).all()
    first = inputs.mentions.data["created_at"].iloc[0]
    assert first == pd.Timestamp(truth.mentions["created_at"].iloc[0]).floor("s")


def test_draft_maps_a_sprout_like_export_by_the_words_of_its_headers(tmp_path: Path) -> None:
    write_sprout_like(tmp_path)
    project = esc.draft_project(tmp_path)
    assert project.mention_columns == {
        "created_at": "Timestamp (ISO)", "topic": "Brand Tag", "text": "Message",
        "author": "Profile", "author_followers": "Followers", "sentiment": "Sentiment score",
        "platform": "Network",
    }
    inputs = esc.load_inputs(project=project, policy=False)
    assert sorted(inputs.features["topic"].unique()) == sorted(
        write_sprout_like(tmp_path / "again").truth.mentions["topic"].unique()
    )


def test_draft_says_when_the_export_has_no_topic(tmp_path: Path) -> None:
    write_brandwatch_like(tmp_path, topic=False)
    project = esc.draft_project(tmp_path)
    assert "topic" not in project.mention_columns
    assert any("no topic column in the mentions" in note for note in project.notes)


def test_draft_reads_a_volume_series_folder_and_its_window(tmp_path: Path) -> None:
    times = pd.date_range("2026-01-01", periods=600, freq="5min")
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": 3}).to_csv(
        tmp_path / "Twitter_volume_ACME.csv", index=False)
    (tmp_path / "windows.json").write_text(
        '{"realTweets/Twitter_volume_ACME.csv": [["2026-01-01 10:00:00.000000", '
        '"2026-01-01 12:00:00.000000"]]}')
    project = esc.draft_project(tmp_path)
    assert project.series == (tmp_path / "Twitter_volume_ACME.csv",)
    assert project.mentions == ()
    assert project.incidents == tmp_path / "windows.json"
    assert project.freq == "5min"
    assert esc.load_project(esc.save_project(project, tmp_path)).freq == "5min"


def test_draft_finds_the_plan_and_ignores_what_is_not_data(tmp_path: Path, sample_dir: Path
                                                           ) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "our plan.yaml").write_text(
        (sample_dir / "policy.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "notes.yaml").write_text("agenda: [a, b]\n")
    (tmp_path / "readme.txt").write_text("hello\n")
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    project = esc.draft_project(tmp_path)
    assert project.policy == tmp_path / "plans" / "our plan.yaml"
    assert project.mentions == () and project.incidents is None
    assert any("no file looks like mentions" in note for note in project.notes)


def test_draft_of_a_large_export_reads_only_its_head(tmp_path: Path) -> None:
    """A 30 MB export is classified from its first rows (the loader would read it all)."""
    row = "2026-01-01 00:00:00,hello world,someone,negative\n"
    with open(tmp_path / "big.csv", "w") as handle:
        handle.write("Date,Full Text,Author,Sentiment\n")
        handle.write(row * (30_000_000 // len(row)))
        handle.write("not,a,valid,row,at all\n")
    project = esc.draft_project(tmp_path)
    assert project.mentions == (tmp_path / "big.csv",)
    assert os.path.getsize(tmp_path / "big.csv") > 29_000_000


def test_ranked_severity_labels_are_guessed_with_1_most_severe(tmp_path: Path) -> None:
    log = pd.DataFrame({
        "incident_id": ["a", "b", "c"], "topic": "x",
        "started_at": ["2026-01-01", "2026-01-02", "2026-01-03"],
        "severity": ["Sev-1", "Sev-4", "weird"],
    })
    log.to_csv(tmp_path / "incidents.csv", index=False)
    project = esc.draft_project(tmp_path)
    assert project.severity_map == {"Sev-1": 4, "Sev-2": 3, "Sev-3": 2, "Sev-4": 1}
    text = esc.project_toml(project, tmp_path)
    assert "# weird = ?" in text
    tomllib.loads(text)  # the commented guesses keep it valid TOML
