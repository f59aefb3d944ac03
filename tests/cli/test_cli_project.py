"""The project file on the command line: `init`, `--project` (found in the working directory),
explicit options winning, paths read against the project's folder, incident-log columns,
a topic-less export explained, and hostile project files as one line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from own_exports import ZONE, write_brandwatch_like

import esc_analytics as esc
from esc_analytics.cli import main
from esc_analytics.cli._render import resolve_path_parameters


@pytest.fixture(autouse=True)
def _no_project_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESC_ANALYTICS_PROJECT", raising=False)


@pytest.fixture(scope="module")
def brand_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's folder: a Brandwatch-shaped export, a hand-made P1-P3 log, a calendar, and the
    project `init` wrote for it, with the export's zone set (what the notes ask to check)."""
    folder = tmp_path_factory.mktemp("brand")
    write_brandwatch_like(folder)
    assert main(["init", str(folder)]) == 0
    project = folder / "esc-analytics.toml"
    text = project.read_text(encoding="utf-8")
    project.write_text(text.replace('zone = "UTC"', f'zone = "{ZONE}"'), encoding="utf-8")
    return folder


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"esc-analytics {command}: error: ")
    assert "Traceback" not in err
    return lines[0]


# --- init ------------------------------------------------------------------------------------


def test_init_writes_a_project_that_reads_back_and_never_overwrites_it(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_brandwatch_like(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "init")
    assert code == 0
    path = tmp_path / "esc-analytics.toml"
    assert out.splitlines()[0] == f"wrote {path}"
    assert "'Query Name' → topic" in out and "'Opened' → started_at" in out
    assert "P1=3, P2=2, P3=1" in out
    project = esc.load_project(path)
    assert project.mentions == (tmp_path / "exports" / "Mentions export.csv",)
    before = path.read_bytes()
    code, _, err = _run(capsys, "init")
    assert code == 2
    assert "already exists" in _one_error_line(err, "init") and "--force" in err
    assert path.read_bytes() == before
    path.write_text(path.read_text().replace('zone = "UTC"', 'zone = "Asia/Tokyo"'))
    assert _run(capsys, "init", "--force")[0] == 0
    assert esc.load_project(path).tz == "UTC"
    assert "Asia/Tokyo" in (tmp_path / "esc-analytics.toml.bak").read_text()


def test_init_on_a_folder_that_is_not_there_is_one_line(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "init", str(tmp_path / "nope"))
    assert code == 2
    assert f"looked for {tmp_path / 'nope'}" in _one_error_line(err, "init") or str(
        tmp_path / "nope") in err


# --- the newcomer's journey: every command with its defaults --------------------------------


def test_commands_read_the_project_of_the_working_directory(
    brand_folder: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "team"
    shutil.copytree(brand_folder, folder)
    monkeypatch.chdir(folder)
    code, out, _ = _run(capsys, "check")
    assert code in (0, 1)
    assert out.startswith(f"project {folder / 'esc-analytics.toml'}:")
    assert "'Date' → created_at" in out and "'Priority' → severity" in out
    assert f"naive times taken as {ZONE} and converted to UTC" in out
    assert "measures:  absent (zeros): engagement" in out
    truth = pd.read_csv(folder / "incident log.csv")
    per_severity = truth["Priority"].map({"P1": 3, "P2": 2, "P3": 1}).value_counts()
    assert f"severity 1: {per_severity.get(1, 0)}" in out

    code, out, _ = _run(capsys, "backtest")
    assert code == 0
    assert "warning: no policy given: the bundled starter plan" in out
    assert re.search(rf"Backtest over [\d.]+ weeks: {len(truth)} incidents evaluated\n", out)

    code, out, _ = _run(capsys, "calibrate", "--out", "policy.yaml")
    assert code == 0 and (folder / "policy.yaml").is_file()
    code, out, _ = _run(capsys, "backtest")
    assert f"policy {folder / 'policy.yaml'} (beside the project file)" in out
    assert "starter plan" not in out

    code, out, _ = _run(capsys, "detect", "--out", "tiers.csv")
    assert code == 0
    tiers = pd.read_csv(folder / "tiers.csv")
    assert set(tiers["topic"]) == set(pd.read_csv(brand_folder / "exports" /
                                                  "Mentions export.csv")["Query Name"])

    code, out, _ = _run(capsys, "aggregate", "--out", "features.csv")
    assert code == 0
    assert "'Reach (new)' → author_followers" in out
    assert re.search(r"^measures: .*engagement", out, re.M)  # absent, or zero in every window


def test_explicit_options_win_over_the_project(
    brand_folder: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(brand_folder)
    code, out, _ = _run(capsys, "check", "--json")
    project_load = json.loads(out)["load"]
    code, out, _ = _run(capsys, "check", "--json", "--tz", "UTC")
    explicit_load = json.loads(out)["load"]
    assert "Europe/Paris" in project_load[1]["timezone_note"]
    assert explicit_load[1]["timezone_note"] == "naive times taken as UTC"
    # --column wins per column: the rest of the project's mapping stays
    code, out, _ = _run(capsys, "check", "--json", "--column", "topic=Page Type")
    load = json.loads(out)["load"]
    assert load[1]["columns_mapped"]["topic"] == "Page Type"
    assert load[1]["columns_mapped"]["created_at"] == "Date"
    # --incidents wins over the project's log; --severity over its labels
    log = pd.read_csv(brand_folder / "incident log.csv").head(3)
    log["Priority"] = "urgent"
    log.to_csv(tmp_path / "three.csv", index=False)
    code, out, _ = _run(capsys, "check", "--json", "--incidents", str(tmp_path / "three.csv"),
                        "--severity", "urgent=2")
    assert code in (0, 1)
    incidents = json.loads(out)["load"][2]
    assert incidents["source"] == str(tmp_path / "three.csv") and incidents["accepted"] == 3
    # --project names another project; --no-project ignores the one found here
    other = tmp_path / "other"
    other.mkdir()
    (other / "esc-analytics.toml").write_text(
        '[data]\nmentions = "gone.csv"\nincidents = "log.csv"\n')
    code, _, err = _run(capsys, "check", "--project", str(other / "esc-analytics.toml"))
    assert code == 2
    assert f"looked for {other / 'gone.csv'}" in err or str(other / "gone.csv") in err
    code, _, err = _run(capsys, "check", "--no-project")
    assert code == 2
    expected = "no input: give --mentions FILE..., --series FILE... or --features FILE"
    assert expected in _one_error_line(err, "check")


def test_project_paths_are_read_against_its_folder_not_the_working_directory(
    brand_folder: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    code, out, _ = _run(capsys, "check", "--project", str(brand_folder / "esc-analytics.toml"))
    assert code in (0, 1)
    assert f"mentions {brand_folder / 'exports' / 'Mentions export.csv'}: read" in out
    # a relative --project is read against the working directory, its paths against itself
    relative = Path("..") / ".." / ".." / brand_folder.relative_to(tmp_path.parent)
    code, out, _ = _run(capsys, "check", "--project", str(relative / "esc-analytics.toml"))
    assert code in (0, 1)
    assert "incidents " in out and "incident log.csv: read" in out


def test_a_missing_file_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "esc-analytics.toml").write_text(
        '[data]\nmentions = "exports/tweets.csv"\nincidents = "log.csv"\n')
    code, _, err = _run(capsys, "check")
    assert code == 2
    line = _one_error_line(err, "check")
    assert f"looked for {tmp_path / 'exports' / 'tweets.csv'}" in line or (
        str(tmp_path / "exports" / "tweets.csv") in line and "not found" in line)
    code, _, err = _run(capsys, "backtest", "--no-project", "--mentions", "tweets.csv",
                        "--incidents", "log.csv", "--policy", "p.yaml")
    assert f"tweets.csv: file not found (looked for {tmp_path / 'tweets.csv'})" in err


# --- incident-log columns --------------------------------------------------------------------


def test_the_incident_log_columns_map_on_the_command_line(
    brand_folder: Path, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    log = pd.read_csv(brand_folder / "incident log.csv")
    odd = log.rename(columns={"Opened": "When it blew up", "Brand": "Account name",
                              "Priority": "How bad"})
    odd.to_csv(tmp_path / "odd.csv", index=False)
    common = ["check", "--no-project", "--mentions",
              str(brand_folder / "exports" / "Mentions export.csv"), "--column", "topic=Query Name",
              "--incidents", str(tmp_path / "odd.csv"), "--tz", ZONE, "--json"]
    code, _, err = _run(capsys, *common)
    assert code == 2
    assert "--incident-column started_at=NAME" in _one_error_line(err, "check")
    assert "--column started_at" not in err
    code, out, _ = _run(capsys, *common, "--incident-column", "started_at=When it blew up",
                        "--incident-column", "topic=Account name",
                        "--incident-column", "severity=How bad",
                        "--severity", "P1=3", "--severity", "P2=2", "--severity", "P3=1")
    assert code in (0, 1)
    incidents = json.loads(out)["load"][1]
    assert incidents["accepted"] == len(log) and incidents["quarantined"] == 0
    assert incidents["columns_mapped"]["started_at"] == "When it blew up"
    code, _, err = _run(capsys, *common, "--incident-column", "started_at")
    assert "--incident-column 'started_at': expected CANONICAL=SOURCE" in err


# --- a topic-less export ---------------------------------------------------------------------


def test_a_topic_less_export_says_why_no_incident_is_evaluated_and_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
    sample_dir: Path,
) -> None:
    write_brandwatch_like(tmp_path, topic=False)
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "init")[0] == 0
    code, out, _ = _run(capsys, "backtest", "--policy", str(sample_dir / "policy.yaml"))
    assert code == 0
    assert "0 incidents evaluated" in out
    why = [line for line in out.splitlines() if line.startswith("  why: ")]
    assert len(why) == 1
    assert "every post is topic 'all'" in why[0]
    assert "--column topic=YOUR_COLUMN" in why[0] and "[columns.mentions] topic" in why[0]
    # the same reason before any result, in every command that reads an incident log
    code, out, _ = _run(capsys, "check")
    assert "warning: " in out and "every post is topic 'all'" in out


# --- hostile project files -------------------------------------------------------------------


HOSTILE = [
    ("bad toml", "[data\n", "not valid TOML"),
    ("unknown key", '[data]\nmention = "x.csv"\n', "did you mean data.mentions?"),
    ("odd path missing",
     '[data]\nmentions = "../\\u0007bell ☃ \\"q\\".csv"\nincidents = "i.csv"\n', "not found"),
    ("path with NUL", '[data]\nmentions = "a\\u0000b.csv"\n', "NUL"),
    ("bad zone", '[time]\nzone = "Paris"\n', "time.zone"),
    ("bad severity", "[severity]\nP1 = 100\n", "severity.P1"),
    ("huge", "[data]\n" + "".join(f"x{i} = 1\n" for i in range(100_000)), "unknown key"),
    ("deep", "a = " + "[" * 5000 + "]" * 5000 + "\n", "project"),
]


@pytest.mark.parametrize(("case", "text", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.parametrize("command", ["check", "backtest", "calibrate", "aggregate", "render"])
def test_a_hostile_project_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
    case: str, text: str, expected: str, command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "esc-analytics.toml").write_text(text, encoding="utf-8")
    extra = {"calibrate": ["--out", "p.yaml"], "aggregate": ["--out", "f.csv"],
             "render": ["nb.ipynb", "--out", "r.html"]}.get(command, [])
    code, _, err = _run(capsys, command, *extra)
    assert code == 2
    line = _one_error_line(err, command)
    assert expected in line
    assert not (tmp_path / "p.yaml").exists() and not (tmp_path / "f.csv").exists()


# --- render ----------------------------------------------------------------------------------


def test_render_reads_relative_path_parameters_against_the_callers_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    got = resolve_path_parameters({
        "mentions_path": "tweets.csv", "data_dir": "exports", "notes_file": "~/n.yaml",
        "policy_path": "/abs/p.yaml", "incidents_path": None, "freq": "1h",
        "sample_rows": 3, "project_path": "",
    })
    assert got == {
        "mentions_path": str(tmp_path / "tweets.csv"), "data_dir": str(tmp_path / "exports"),
        "notes_file": str(Path("~/n.yaml").expanduser()), "policy_path": "/abs/p.yaml",
        "incidents_path": None, "freq": "1h", "sample_rows": 3, "project_path": "",
    }


@pytest.mark.slow
def test_render_of_the_explore_notebook_on_a_project_from_another_folder(
    brand_folder: Path, repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The newcomer's render: run from their folder, a relative -p project_path (the kernel
    runs in notebooks/), the load summary of their own files in the page."""
    monkeypatch.chdir(brand_folder)
    out_html = tmp_path / "explore.html"
    code, _, err = _run(capsys, "render", str(repo_root / "notebooks" / "01_explore_data.ipynb"),
                          "-p", "project_path=esc-analytics.toml", "-p", "sample_rows=3",
                          "--out", str(out_html))
    assert code == 0, err
    page = out_html.read_text(encoding="utf-8")
    assert f"project:   {brand_folder / 'esc-analytics.toml'}" in page
    assert "&#x27;Query Name&#x27; → topic" in page or "'Query Name' → topic" in page
    assert "campaign calendar.csv" in page
