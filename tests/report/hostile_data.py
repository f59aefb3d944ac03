"""A small dataset whose every text field carries markup, script and Markdown-link payloads,
written to a folder in the layout the notebooks read (``data_dir``): mentions, incidents,
planned events, an escalation plan, previous notes and a participant's notes."""

from __future__ import annotations

from pathlib import Path

import yaml

from esc_analytics.sample import SampleData, generate_sample, write_sample

# Each payload sets window.__xss (or navigates) when it runs; none may.
IMG = "Voltra<img src=x onerror=window.__xss=1>"
SCRIPT_END = "Lumo</script><script>window.__xss=2</script>"
MD_LINK = "[x](javascript:window.__xss=3)"
MD_IMAGE = "![y](javascript:window.__xss=4)"
COMMENT = "<!--<script>window.__xss=5</script>"
DATA_URL = "[d](data:text/html,<script>window.__xss=6</script>)"
SVG = '<svg onload="window.__xss=7"></svg> & \u2028 \u2029 \'q\' "dq"'
AUTOLINK = "<javascript:window.__xss=8>"
PAYLOADS = (IMG, SCRIPT_END, MD_LINK, MD_IMAGE, COMMENT, DATA_URL, SVG, AUTOLINK)

TOPICS = (IMG, SCRIPT_END)


def write_hostile_data(folder: Path, *, days: int = 40) -> Path:
    """Write the hostile dataset into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = generate_sample(topics=list(TOPICS), days=days, volume_scale=0.6, seed=7)
    n = len(sample.mentions)
    mentions = sample.mentions.copy()
    mentions["author"] = [PAYLOADS[i % len(PAYLOADS)] for i in range(n)]
    mentions["text"] = [
        f"{PAYLOADS[(i + 3) % len(PAYLOADS)]} {t}" for i, t in enumerate(mentions["text"])
    ]
    incidents = sample.incidents.copy()
    k = len(incidents)
    incidents["incident_id"] = [f"{PAYLOADS[i % len(PAYLOADS)]}#{i}" for i in range(k)]
    incidents["title"] = [PAYLOADS[(i + 2) % len(PAYLOADS)] for i in range(k)]
    incidents["category"] = [PAYLOADS[(i + 5) % len(PAYLOADS)] for i in range(k)]
    planned = sample.planned_events.copy()
    if "name" in planned:
        planned["name"] = MD_LINK
    write_sample(SampleData(mentions, incidents, planned, sample.benign_spikes), folder)
    policy = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "data" / "sample" / "policy.yaml").read_text(
            encoding="utf-8"
        )
    )
    policy["name"] = SCRIPT_END + MD_LINK
    policy["description"] = COMMENT + " " + MD_IMAGE + " " + IMG
    for i, tier in enumerate(policy["tiers"]):
        tier["name"] = PAYLOADS[(i + 1) % len(PAYLOADS)]
        tier["owner"] = PAYLOADS[(i + 4) % len(PAYLOADS)]
    (folder / "policy.yaml").write_text(
        yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8"
    )
    previous = {
        "incident_id": MD_LINK,
        "sections": {
            "improvements": "\n".join(f"- {p}" for p in PAYLOADS),
            "open_questions": f"- {COMMENT}\n- {SCRIPT_END}",
        },
    }
    (folder / "previous-notes.yaml").write_text(
        yaml.safe_dump(previous, allow_unicode=True), encoding="utf-8"
    )
    return folder
