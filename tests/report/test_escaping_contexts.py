"""Each context a value lands in has its escaping: Markdown (inline values and notes bodies),
JSON inside <script>, the retrospective's Markdown, the plan's Markdown and the rendered page's
embedded widget state. Fast unit tests; the browser test is test_hostile_render.py."""

from __future__ import annotations

import json
import re

import mistune
import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics import Policy, markdown_text, policy_to_markdown
from esc_analytics._util.html import markdown_defang, script_json
from esc_analytics.report import render_html
from esc_analytics.retro._notes import notes_to_markdown

LINKS = [
    "[x](javascript:alert(1))",
    "![y](javascript:alert(1))",
    "[d](data:text/html,<script>alert(1)</script>)",
    "<javascript:alert(1)>",
    "[r]\n\n[r]: javascript:alert(1)",
    "<a href='javascript:alert(1)'>a</a>",
    "<img src=x onerror=alert(1)>",
    "[x](<javascript:alert(1)>)",
    "\\[x](javascript:alert(1))",
    "[`x`](javascript:alert(1))",
    "`a` [x](javascript:alert(1)) `b`",
]


# raw HTML passes through, as in notebooks and nbconvert: only the escaping protects
_MARKDOWN = mistune.create_markdown(escape=False, plugins=["table", "url", "strikethrough"])


def _html(markdown: str) -> str:
    return str(_MARKDOWN(markdown))


def _live(html: str) -> bool:
    """A link, image, script or other active element in rendered HTML (escaped text is not)."""
    return re.search(r"<(a|img|script|svg|iframe|object|embed|video|audio)\b", html) is not None


@pytest.mark.parametrize("payload", LINKS)
def test_markdown_text_never_makes_a_link_image_or_tag(payload: str) -> None:
    out = _html(f"**{markdown_text(payload)}** and # {markdown_text(payload)}")
    assert not _live(out), out


@pytest.mark.parametrize("payload", LINKS)
def test_markdown_defang_never_makes_a_link_image_or_tag(payload: str) -> None:
    kept = _html(markdown_defang(f"- **kept** {payload}\n- `code [x](y)`"))
    assert not _live(kept), kept
    assert "<strong>kept</strong>" in kept and "<code>code [x](y)</code>" in kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("volume_ratio >= 2.5", "volume_ratio &gt;= 2.5"),
        ("_em_ *b* a|b $x$", "\\_em\\_ \\*b\\* a\\|b \\$x\\$"),
        ("- not a list", "\\- not a list"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "\\1. not a list"),
        ("two\nlines\u2028x", "two lines x"),
        (None, ""),
    ],
)
def test_markdown_text_values(value: object, expected: str) -> None:
    assert markdown_text(value) == expected


@settings(deadline=None, max_examples=200)
@given(st.text())
def test_markdown_text_renders_back_to_the_same_text(text: str) -> None:
    out = _html(markdown_text(text))
    assert not _live(out)
    assert markdown_defang(markdown_text(text)) == markdown_text(text)


@settings(deadline=None, max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_script_json_parses_back_and_cannot_end_the_script(value: object) -> None:
    text = script_json(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert script_json(value) == text or isinstance(value, str)  # a value is dumped first
    assert not set("<>&\u2028\u2029") & set(text)


def test_script_json_of_the_known_payloads() -> None:
    text = script_json(json.dumps({"a": "</script><!--<script>\u2028&"}))
    assert text == '{"a": "\\u003c/script\\u003e\\u003c!--\\u003cscript\\u003e\\u2028\\u0026"}'


def test_retro_notes_markdown_neutralises_links_in_ids_titles_and_sections() -> None:
    notes = {
        "incident_id": "[x](javascript:alert(1))",
        "sections": {"improvements": "- **add** [x](javascript:alert(1))\n- <img src=x>"},
    }
    out = _html(notes_to_markdown(notes))
    assert not _live(out) and "<strong>add</strong>" in out and "<li>" in out


def test_plan_markdown_escapes_names_owners_and_description() -> None:
    policy = Policy.from_dict(
        {
            "name": "[n](javascript:alert(1))",
            "description": "![d](data:text/html,x) <script>alert(1)</script>",
            "tiers": [
                {
                    "level": 1,
                    "name": "<img src=x onerror=alert(1)>",
                    "owner": "[o](javascript:alert(1)) | pipe",
                    "all": ["volume_ratio >= 2"],
                }
            ],
        }
    )
    text = policy_to_markdown(policy)
    out = _html(text)
    assert not _live(out), out
    assert (
        "| 1 | &lt;img src=x onerror=alert(1)&gt; | \\[o\\](javascript:alert(1)) \\| pipe |" in text
    )


def test_embedded_widget_state_cannot_be_ended_or_commented_out() -> None:
    nb = nbformat.v4.new_notebook()
    payload = "<!--<script></script>\u2028</script><script>window.__xss=1</script>"
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {
                "m": {
                    "model_name": "TextareaModel",
                    "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {"value": payload},
                }
            },
            "version_major": 2,
            "version_minor": 0,
        }
    }
    page = render_html(nb)
    assert payload not in page and "<!--<script>" not in page
    start = page.index('<script type="application/vnd.jupyter.widget-state+json">')
    block = page[start:].split(">", 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["state"]["m"]["state"]["value"] == payload
