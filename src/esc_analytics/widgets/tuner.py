"""Threshold tuner: sliders over a policy's flat parameters with live backtest and charts.

A thin controller: a slider change calls the pure ``evaluate`` and ``backtest`` and assigns
their results to FigureWidgets inside ``batch_update()``. What does not change with the policy
(sorted features, per-topic row indices, incidents) is prepared once.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._util.atomic import atomic_write_text
from .._util.html import escape_text
from .._util.stats import wilson_bounds
from ..backtesting._backtest import backtest
from ..backtesting._live import PreparedBacktest
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..escalations._evaluate import evaluate, prepare_grid
from ..plots._timeline import figure_from_timeline_data, timeline_data
from ..plots._tradeoff import current_point, tradeoff_figure
from ..policy._policy import Policy, load_policy, save_policy
from ..policy._versions import save_policy_version
from ._common import DisplayMixin, html_table


def slider_spec(name: str, value: Any) -> dict[str, Any]:
    """Range and step of the slider for flat parameter ``name`` currently at ``value``."""
    if name.endswith("__persistence"):
        return {"kind": "int", "min": 1, "max": max(6, int(value) * 2), "step": 1}
    if name.endswith(("__cooldown", "__refractory")):
        return {"kind": "int", "min": 0, "max": max(24, int(value) * 2), "step": 1}
    v = float(value)
    hi = max(2 * abs(v), abs(v) + 1) if v >= 0 else 0.0
    lo = 0.0 if v >= 0 else 2 * v
    span = hi - lo
    step = 10.0 ** (math.floor(math.log10(span)) - 2) if span > 0 else 0.01
    return {"kind": "float", "min": lo, "max": hi, "step": step}


def _evaluate_cached(policy: Policy, features: pd.DataFrame, cache: dict[str, Any]) -> Any:
    """``evaluate(policy, features)`` reusing the window grid of ``features`` across calls (it
    depends on the features only)."""
    if "grid" not in cache:
        cache["grid"] = prepare_grid(features)
    return evaluate(policy, features, grid=cache["grid"])


class ThresholdTuner(DisplayMixin):
    """Tune a policy's thresholds by trying them, with the backtest and charts updated live.

    ``features``: Features frame; ``incidents``: Incidents frame; ``policy``: the starting
    :class:`Policy`; ``calibration``: an optional ``CalibrationResult`` (its policy is what
    "reset to calibrated" restores, its frontier is drawn on the trade-off chart).
    ``save_dir``: where "save policy" writes ``policy-vNNN.yaml`` and its backtest summary.
    """

    def __init__(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame,
        policy: Policy,
        calibration: Any = None,
        *,
        topic: str | None = None,
        save_dir: str | Path = "policies",
        max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    ) -> None:
        self.features = features.sort_values(["topic", "window_start"], kind="stable").reset_index(
            drop=True
        )
        self.incidents = incidents
        self.calibration = calibration
        self.calibrated_policy: Policy = calibration.policy if calibration is not None else policy
        self.policy: Policy = policy
        self.save_dir = Path(save_dir)
        self.max_early = max_early
        self.levels = sorted(int(t.level) for t in policy.tiers)
        topics = sorted(self.features["topic"].astype(str).unique().tolist())
        codes = self.features["topic"].astype(str).to_numpy()
        self._rows = {t: np.flatnonzero(codes == t) for t in topics}
        self._topic_frames = {t: self.features.iloc[rows] for t, rows in self._rows.items()}
        self._suspend = False
        self._grid_cache: dict[str, Any] = {}
        self._prepared: PreparedBacktest | None = None
        self.escalations = None
        self.result = None
        self.last_saved: Path | None = None

        # Controls.
        self.sliders: dict[str, W.Widget] = {}
        for name, value in policy.get_params().items():
            if value is None:  # e.g. min_volume not set: nothing to slide
                continue
            spec = slider_spec(name, self.calibrated_policy.get_params().get(name, value) or value)
            cls = W.IntSlider if spec["kind"] == "int" else W.FloatSlider
            slider = cls(
                value=value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                description=name.replace("__", " "),
                continuous_update=False,
                style={"description_width": "170px"},
                layout=W.Layout(width="460px"),
            )
            if spec["kind"] == "float":
                slider.readout_format = ".3g"
            slider.add_class("esc-threshold-slider")
            slider.observe(self._on_slider, names="value")
            self.sliders[name] = slider
        self.topic_picker = W.Dropdown(
            options=topics, value=topic or topics[0], description="topic"
        )
        self.topic_picker.add_class("esc-topic")
        self.topic_picker.observe(self._on_topic, names="value")
        self.tier_picker = W.Dropdown(options=self.levels, value=self.levels[0], description="tier")
        self.tier_picker.observe(self._on_topic, names="value")
        self.reset_button = W.Button(description="reset to calibrated", icon="undo")
        self.reset_button.add_class("esc-reset")
        self.reset_button.on_click(lambda _b: self.reset())
        self.save_button = W.Button(description="save policy", icon="save", button_style="primary")
        self.save_button.add_class("esc-save")
        self.save_button.on_click(lambda _b: self.save())
        self.status = W.HTML()
        self.tier_table = W.HTML()
        self.tier_table.add_class("esc-tier-table")
        self.incident_table = W.HTML()
        self.incident_table.add_class("esc-incidents")

        # Compute once, then build the figures from the results.
        self._compute()
        topic_now = self.topic_picker.value
        self.timeline = go.FigureWidget(
            figure_from_timeline_data(
                self._timeline_data(topic_now),
                incidents=incidents,
                topic=topic_now,
                threshold_tier=self.tier_picker.value,
            )
        )
        self.timeline.add_class("esc-timeline")
        frontier = calibration.frontier if calibration is not None else None
        self._calibrated_point = (
            current_point(calibration.backtest, self.tier_picker.value)
            if calibration is not None and getattr(calibration, "backtest", None) is not None
            else None
        )
        self.tradeoff = go.FigureWidget(
            tradeoff_figure(
                frontier,
                current_point(self.result, self.tier_picker.value),
                calibrated=self._calibrated_point,
                tier=self.tier_picker.value,
            )
        )
        self.tradeoff.add_class("esc-tradeoff")
        self._update_tables()

        controls = W.VBox(
            [
                W.HBox([self.topic_picker, self.tier_picker]),
                *self.sliders.values(),
                W.HBox([self.reset_button, self.save_button]),
                self.status,
            ]
        )
        self.widget = W.VBox(
            [
                W.HBox([controls, self.tradeoff]),
                self.timeline,
                W.HBox([self.tier_table, self.incident_table]),
            ]
        )
        self.widget.add_class("esc-tuner")

    # -- pure computation --------------------------------------------------------------------
    def _compute(self) -> None:
        self.escalations = _evaluate_cached(self.policy, self.features, self._grid_cache)
        if self._prepared is None:  # incidents' match intervals, coverage, weeks: once
            self._prepared = PreparedBacktest(
                self.escalations, self.incidents, max_early=self.max_early
            )
        self.result = self._prepared.run(self.escalations)

    def full_backtest(self) -> Any:
        """The complete ``BacktestResult`` of the current policy (cost, matrix, NAB...)."""
        return backtest(self.escalations, self.incidents, max_early=self.max_early)

    def _timeline_data(self, topic: str) -> dict[str, dict[str, Any]]:
        tiers = self.escalations.windows["tier"].to_numpy()[self._rows[topic]]
        return timeline_data(
            self._topic_frames[topic],
            tiers,
            policy=self.policy,
            threshold_tier=self.tier_picker.value,
            levels=self.levels,
        )

    # -- redraw ------------------------------------------------------------------------------
    def _redraw(self, *, full: bool = False) -> None:
        topic = self.topic_picker.value
        data = self._timeline_data(topic)
        with self.timeline.batch_update():
            for trace, (name, xy) in zip(self.timeline.data, data.items(), strict=True):
                if full or name.startswith("tier"):
                    trace.x = xy["x"]
                    trace.y = xy["y"]
                elif name == "threshold":  # same windows as before: only the bar moves
                    trace.y = xy["y"]
            if full:
                fresh = figure_from_timeline_data(
                    data,
                    incidents=self.incidents,
                    topic=topic,
                    threshold_tier=self.tier_picker.value,
                )
                self.timeline.layout.shapes = fresh.layout.shapes
                self.timeline.layout.annotations = fresh.layout.annotations
                self.timeline.layout.title = fresh.layout.title
                self.timeline.data[2].name = fresh.data[2].name
                self.timeline.data[2].line.color = fresh.data[2].line.color
        point = current_point(self.result, self.tier_picker.value)
        with self.tradeoff.batch_update():
            self.tradeoff.data[2].x = [point[0]]
            self.tradeoff.data[2].y = [point[1]]
        self._update_tables()

    def _update_tables(self) -> None:
        tiers = self.result.tiers.assign(
            recall=lambda t: (t["recall"] * 100).round(0),
            interval=lambda t: [
                f"{lo:.0%}–{hi:.0%}" if n else "—"
                for lo, hi, n in zip(
                    *wilson_bounds(t["caught"].to_numpy(), t["incidents"].to_numpy()),
                    t["incidents"],
                    strict=True,
                )
            ],
        )
        self.tier_table.value = "<b>Per tier</b>" + html_table(
            tiers,
            [
                "tier",
                "incidents",
                "caught",
                "recall",
                "interval",
                "false_per_week",
                "precision",
                "notifications",
            ],
            formats={"false_per_week": ".2f", "precision": ".0%", "recall": ".0f"},
        )
        key = (
            tuple(self.result.incidents["tier_reached"]),
            tuple(self.result.incidents["first_alert_at"].array.asi8),
        )
        if key == getattr(self, "_incident_key", None):  # outcomes unchanged: keep the table
            return
        self._incident_key = key
        inc = self.result.incidents.assign(
            lead_time_h=lambda f: f["lead_time"] / pd.Timedelta("1h")
        )
        self.incident_table.value = "<b>Incidents</b>" + html_table(
            inc,
            [
                "incident_id",
                "topic",
                "severity",
                "outcome",
                "tier_reached",
                "first_alert_at",
                "lead_time_h",
            ],
            formats={"lead_time_h": ".1f"},
        )

    # -- callbacks ---------------------------------------------------------------------------
    def _on_slider(self, change: dict[str, Any]) -> None:
        if self._suspend:
            return
        name = next(n for n, s in self.sliders.items() if s is change["owner"])
        self.set_param(name, change["new"])

    def _on_topic(self, _change: dict[str, Any]) -> None:
        self._redraw(full=True)
        if self.calibration is not None and getattr(self.calibration, "backtest", None):
            point = current_point(self.calibration.backtest, self.tier_picker.value)
        else:
            point = None
        fresh = tradeoff_figure(
            self.calibration.frontier if self.calibration is not None else None,
            current_point(self.result, self.tier_picker.value),
            calibrated=point,
            tier=self.tier_picker.value,
        )
        with self.tradeoff.batch_update():
            for trace, new in zip(self.tradeoff.data, fresh.data, strict=True):
                trace.x, trace.y = new.x, new.y
            self.tradeoff.layout.title = fresh.layout.title

    # -- public actions ----------------------------------------------------------------------
    def set_param(self, name: str, value: Any) -> None:
        """Change one flat parameter, recompute the backtest and redraw."""
        self.policy = self.policy.set_params(**{name: value})
        self._compute()
        self._redraw()

    def set_policy(self, policy: Policy) -> None:
        """Replace the whole policy (sliders follow), recompute once and redraw."""
        self.policy = policy
        self._suspend = True
        try:
            for name, value in policy.get_params().items():
                if name in self.sliders and value is not None:
                    slider = self.sliders[name]
                    slider.min = min(slider.min, value)
                    slider.max = max(slider.max, value)
                    slider.value = value
        finally:
            self._suspend = False
        self._compute()
        self._redraw()

    def reset(self) -> None:
        """Back to the calibrated policy (or the starting one without calibration)."""
        self.set_policy(self.calibrated_policy)
        self.status.value = "reset to the calibrated thresholds"

    def save(self, path: str | Path | None = None) -> Path:
        """Save the current policy as YAML (atomic, versioned ``policy-vNNN.yaml`` unless a path
        is given) and its backtest summary next to it (``policy-vNNN.backtest.json``)."""
        if path is None:  # the version's name is claimed atomically: concurrent saves differ
            target = save_policy_version(self.policy, self.save_dir)
        else:
            target = Path(path)
            save_policy(self.policy, target)
        full = self.full_backtest()
        summary = {"policy": target.name, "backtest": full.to_dict(), "summary": full.summary()}
        atomic_write_text(
            target.with_suffix(".backtest.json"),
            json.dumps(summary, indent=2, default=str),
            backup=False,
        )
        self.last_saved = target
        self.status.value = escape_text(
            f"saved {target.name} (+ {target.with_suffix('.backtest.json').name})"
        )
        return target

    @staticmethod
    def load(path: str | Path) -> Policy:
        """Read a saved policy back (same as ``load_policy``)."""
        return load_policy(path)
