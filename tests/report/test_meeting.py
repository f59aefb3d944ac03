"""The meeting report (``render --meeting``) of notebook 04 on data lacking a measure the plan
reads: no code, no warning text, no text area, one plotly.js, under 3 MB, the same bytes twice,
drawn offline in chromium with no page error and no request; and the interactive page says
its controls are frozen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from browser_utils import artifact_path, browser_page, require_browser, write_notebook
from hostile_data import PAYLOADS, write_hostile_data

from esc_analytics.report import render_notebook
from esc_analytics.sample import SampleData, generate_sample, write_sample

REPO_ROOT = Path(__file__).resolve().parents[2]
RETRO = REPO_ROOT / "notebooks" / "04_retrospective.ipynb"
PERIOD = REPO_ROOT / "notebooks" / "06_period_review.ipynb"
MAX_BYTES = 3_000_000

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def lacking_data(tmp_path_factory) -> Path:
    """A month of two topics whose mentions carry no follower counts and no verified flag:
    ``influencer_mentions``, read by the starter plan's tier 3, is absent."""
    folder = tmp_path_factory.mktemp("lacking") / "export"
    sample = generate_sample(topics=["Lumo", "Voltra"], days=30, volume_scale=0.5, seed=11)
    mentions = sample.mentions.drop(columns=["author_followers", "is_verified"])
    write_sample(SampleData(mentions, sample.incidents, sample.planned_events, ()), folder)
    shutil.copy(REPO_ROOT / "data" / "sample" / "policy.yaml", folder / "policy.yaml")
    return folder


@pytest.fixture(scope="module")
def meeting_html(lacking_data, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("meeting")
    paths = []
    for name in ("a.html", "b.html"):
        paths.append(
            render_notebook(
                RETRO,
                out / name,
                {"data_dir": str(lacking_data), "notes_dir": str(out / "notes")},
                meeting=True,
            )
        )
    return paths[0], paths[1]


def test_meeting_report_is_light_static_and_reproducible(meeting_html, lacking_data):
    first, second = meeting_html
    data = first.read_bytes()
    assert data == second.read_bytes()  # identical inputs, identical bytes
    assert len(data) < MAX_BYTES
    html = data.decode("utf-8")
    for raw in ("AbsentFeatureWarning", "UserWarning", "FutureWarning", ".py:", "Traceback"):
        assert raw not in html
    assert str(lacking_data) not in html and str(lacking_data.parent) not in html
    assert "<textarea" not in html.lower()
    assert "application/vnd.jupyter.widget-state+json" not in html  # no widget manager
    assert html.count("* plotly.js") == 1 and html.count("Copyright 2012-") == 1
    assert "esc_analytics" not in html and "import " not in html  # no code
    # one data-notes box, in plain words, naming the measure the data lacks
    assert html.count('class="esc-data-notes"') == 1
    box = html.split('class="esc-data-notes"', 1)[1].split("</aside>", 1)[0]
    assert "influencer_mentions" in box and "do not carry" in box
    assert "Snapshot of the data up to" in html and "mentions.csv.gz" in html
    # proposals never name the measure the data lacks
    notes = html.split("The notes", 1)[1]
    assert "influencer_mentions 5" not in notes and "`influencer_mentions` from" not in notes


@pytest.mark.browser
def test_meeting_report_draws_offline_with_no_request(meeting_html):
    require_browser()
    first, _ = meeting_html
    with browser_page(allow_local_http=False) as (page, log):
        errors: list[str] = []
        failed: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("requestfailed", lambda req: failed.append(req.url))
        page.goto(first.as_uri())
        page.wait_for_function(
            "() => { const p = document.querySelectorAll('.esc-figure');"
            " return p.length > 0 && Array.from(p).every(d => d.querySelector('.main-svg')); }"
        )
        assert page.locator(".esc-data-notes").is_visible()
        page.screenshot(path=str(artifact_path("meeting-report.png")), full_page=True)
        assert errors == [] and failed == []
        assert [u for u in log.allowed if not u.startswith("file:")] == []
        assert log.aborted == []


def test_period_review_meeting_report(lacking_data, tmp_path):
    out = render_notebook(
        PERIOD,
        tmp_path / "period.html",
        {"data_dir": str(lacking_data), "notes_dir": str(tmp_path / "notes"), "name": "Q1"},
        meeting=True,
        snapshot="2026-04-01",
    )
    html = out.read_text(encoding="utf-8")
    assert "Snapshot of 2026-04-01" in html and "<textarea" not in html
    assert html.count('class="esc-figure"') == 2  # the timeline and the alert load
    assert "Every incident of the period" in html and "Action items" in html


def test_interactive_page_says_its_controls_are_frozen(tmp_path):
    nb = write_notebook(
        tmp_path / "w.ipynb",
        "n = 1",
        "import ipywidgets as w\nw.IntSlider(value=n, description='n')",
    )
    html = render_notebook(nb, tmp_path / "w.html").read_text(encoding="utf-8")
    assert "The controls on this page are frozen" in html
    static = render_notebook(nb, tmp_path / "m.html", meeting=True).read_text(encoding="utf-8")
    assert "The controls on this page are frozen" not in static
    assert "Settings shown: <b>n</b>: 1" in static  # the control as one line


@pytest.mark.browser
def test_meeting_report_of_hostile_data_shows_payloads_as_text(tmp_path):
    """Every text field of the data carries markup, script or a Markdown link: in the meeting
    report they are shown, never run or followed."""
    require_browser()
    data = write_hostile_data(tmp_path / "hostile")
    out = render_notebook(
        RETRO,
        tmp_path / "hostile.html",
        {
            "data_dir": str(data),
            "notes_dir": str(tmp_path / "notes"),
            "previous_notes_path": str(data / "previous-notes.yaml"),
        },
        meeting=True,
    )
    html = out.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<svg onload" not in html
    with browser_page(allow_local_http=False) as (page, log):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri())
        page.wait_for_selector(".esc-figure .main-svg")
        page.wait_for_timeout(500)
        assert page.evaluate("window.__xss") is None
        assert page.url == out.as_uri() and errors == [] and log.aborted == []
        text = page.inner_text("main")
        assert "Voltra<img src=x onerror=window.__xss=1>" in text
        assert sum(p.split()[0] in text for p in PAYLOADS) == len(PAYLOADS)
