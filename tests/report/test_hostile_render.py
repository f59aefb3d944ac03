"""Text from data, files and parameters is text in every rendered report: every notebook
rendered (``--hide-code``) on a dataset whose topics, authors, texts, incident ids, titles,
categories, tier names, owners, policy description and previous notes are script, markup and
Markdown-link payloads, then opened in chromium offline with dialog, error and navigation
listeners: nothing runs, nothing navigates, no ``javascript:``/``data:`` link or image is
emitted, every chart is drawn and the payloads are on the page as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_utils import artifact_path, browser_page, real_page_errors, require_browser
from hostile_data import IMG, MD_LINK, PAYLOADS, SCRIPT_END, write_hostile_data

from esc_analytics.report import render_notebook

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What every payload would do if it ran: set window.__xss, or navigate/open a dialog.
PAGE_FACTS = """() => ({
  xss: window.__xss === undefined ? null : window.__xss,
  plots: document.querySelectorAll('.js-plotly-plot').length,
  drawn: Array.from(document.querySelectorAll('.js-plotly-plot'))
           .filter(p => p.querySelector('.main-svg')).length,
  unsafe: Array.from(document.querySelectorAll('[href], [src], [srcdoc], [action], [formaction]'))
           .map(e => ['href', 'src', 'srcdoc', 'action', 'formaction']
                       .map(a => e.getAttribute(a)).find(v => v !== null))
           .filter(v => /^\\s*(javascript|data|vbscript):/i.test(v || '')),
  images: document.querySelectorAll('.jp-OutputArea img, .widget-html img').length,
  text: document.body.innerText,
  areas: Array.from(document.querySelectorAll('textarea')).map(a => a.value),
})"""


def _render(name: str, params: dict, tmp: Path) -> Path:
    return render_notebook(
        NOTEBOOKS / name, artifact_path(f"hostile-{name}.html"), params,
        timeout=300, cwd=tmp, hide_code=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_data(tmp_path_factory.mktemp("hostile") / "data")


CASES = {
    "01_explore_data.ipynb": lambda d: {
        "mentions_path": str(d / "mentions.csv.gz"),
        "incidents_path": str(d / "incidents.csv"),
        "planned_events_path": str(d / "planned_events.csv"),
    },
    "02_tune_thresholds.ipynb": lambda d: {
        "data_dir": str(d),
        "save_dir": str(d.parent / "policies"),
    },
    "03_classifiers.ipynb": lambda d: {"data_dir": str(d), "text_max_features": 50},
    "04_retrospective.ipynb": lambda d: {
        "data_dir": str(d),
        "previous_notes_path": str(d / "previous-notes.yaml"),
        "notes_dir": str(d.parent / "notes"),
    },
    "05_policy_what_if.ipynb": lambda d: {"data_dir": str(d)},
    "06_period_review.ipynb": lambda d: {
        "data_dir": str(d),
        "notes_dir": str(d.parent / "notes"),
        "name": "Q1 <img src=x onerror=window.__xss=9>",
    },
}
MIN_CHARTS = {
    "01_explore_data.ipynb": 1,
    "02_tune_thresholds.ipynb": 1,
    "03_classifiers.ipynb": 1,
    "04_retrospective.ipynb": 2,
    "05_policy_what_if.ipynb": 1,
    "06_period_review.ipynb": 2,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_text_is_shown_never_run(name: str, hostile_dir: Path) -> None:
    require_browser()
    out = _render(name, CASES[name](hostile_dir), hostile_dir.parent)
    source = out.read_text(encoding="utf-8")
    # the raw payloads never reach the HTML as markup (only escaped forms)
    assert SCRIPT_END not in source and IMG not in source
    assert "<!--<script>" not in source
    with browser_page(allow_local_http=False) as (page, log):
        dialogs: list[str] = []
        errors: list[str] = []
        navigations: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("popup", lambda p: navigations.append(f"popup {p.url}"))
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        page.goto(out.resolve().as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg")
        if name.startswith(("04", "06")):
            page.wait_for_selector(".esc-retro-improvements textarea")
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".every(p => p.querySelector('.main-svg'))"
        )
        page.wait_for_timeout(500)  # onload/onerror handlers have had their chance
        facts = page.evaluate(PAGE_FACTS)
        assert dialogs == [] and real_page_errors(errors) == []
        assert facts["xss"] is None
        assert {url.split("#")[0] for url in navigations} <= {out.resolve().as_uri()}
        assert facts["unsafe"] == [] and facts["images"] == 0
        assert facts["plots"] >= MIN_CHARTS[name] and facts["drawn"] == facts["plots"]
        assert log.aborted == []
        text = facts["text"]
        if name.startswith("01"):  # topics in the overview, the spike line and the tables
            assert IMG in text and SCRIPT_END in text
        elif name.startswith("06"):  # topics and ids in the incidents table, the name as typed
            assert IMG in text and SCRIPT_END in text
            assert "Q1 <img src=x onerror=window.__xss=9>" in text
        elif name.startswith("04"):  # ids/titles in the draft; previous notes in the editor
            assert MD_LINK in text or any(MD_LINK in a for a in facts["areas"])
            improvements = next(a for a in facts["areas"] if "carried over" in a)
            assert all(p.replace("\u2028", "").split()[0] in improvements for p in PAYLOADS)
        else:  # the plan's tier names/owners or the topics are shown, as typed
            assert any(p in text for p in PAYLOADS), text[:2000]
