"""Reports: notebooks executed headless and rendered to one self-contained HTML file —
the interactive page, or the light static meeting report (``meeting=True``)."""

from ._meeting import Block, MeetingReport, meeting_report
from ._render import execute_notebook, export_figure, render_html, render_notebook

__all__ = [
    "Block",
    "MeetingReport",
    "execute_notebook",
    "export_figure",
    "meeting_report",
    "render_html",
    "render_notebook",
]
