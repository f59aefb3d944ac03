"""Reports: notebooks executed headless and rendered to one self-contained HTML file."""

from ._render import execute_notebook, export_figure, render_html, render_notebook

__all__ = ["execute_notebook", "export_figure", "render_html", "render_notebook"]
