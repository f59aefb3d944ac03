"""Why did a topic spike? The terms, authors and platforms that rose most against a baseline.

Pure computation over mentions: each item's share of mentions during the episode is compared
with its share in the preceding baseline period, with additive smoothing so that rare items do
not dominate; ties are broken deterministically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.times import to_utc, utc_timestamp

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

RISING_ITEM_COLUMNS = (
    "item",
    "episode_count",
    "baseline_count",
    "episode_share",
    "baseline_share",
    "log_ratio",
)
EXPLAIN_COLUMNS = ("kind", *RISING_ITEM_COLUMNS)
_TOKEN = re.compile(r"[#@]?[a-z0-9][a-z0-9_'’-]*[a-z0-9]|[#@]?[a-z0-9]")
_STOPWORD_TEXT = """a about after all also am an and any are as at be been before but by can could
did do does doing don't for from get got had has have he her here hers him his how i i'm if in into
is it it's its just me more most my no not now of off on once only or other our out over own rt
same she so some such than that that's the their them then there these they this those through to
too under until up very via was we were what when where which while who why will with would you
your yours amp https http www com"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Lower-cased words, hashtags and @handles of ``text``; stop words and 1–2 letter words out."""
    words = _TOKEN.findall(str(text).lower())
    return [w for w in words if len(w.lstrip("#@")) > 2 and w not in STOPWORDS and not w.isdigit()]


@dataclass(frozen=True)
class SpikeExplanation:
    """What rose most during an episode against its baseline period.

    ``terms``, ``authors``, ``platforms``: ``item, episode_count, baseline_count,
    episode_share, baseline_share, log_ratio`` ranked by log_ratio (highest first); counts are
    mentions containing the term / written by the author / posted on the platform.
    """

    topic: str
    start: pd.Timestamp
    end: pd.Timestamp
    baseline_start: pd.Timestamp
    n_episode: int
    n_baseline: int
    terms: pd.DataFrame
    authors: pd.DataFrame
    platforms: pd.DataFrame

    def summary(self, top: int = 5) -> str:
        """One line per kind with the top items and their rise."""
        lines = [
            f"{self.topic}: {self.n_episode} mentions {self.start:%Y-%m-%d %H:%M}–"
            f"{self.end:%H:%M} UTC vs {self.n_baseline} in the baseline"
        ]
        for kind, frame in (
            ("terms", self.terms),
            ("authors", self.authors),
            ("platforms", self.platforms),
        ):
            if len(frame):
                items = ", ".join(
                    f"{r.item} (×{np.exp(r.log_ratio):.1f})" for r in frame.head(top).itertuples()
                )
                lines.append(f"  {kind}: {items}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """All kinds in one table (``kind`` column first)."""
        parts = [
            f.assign(kind=k)
            for k, f in (
                ("term", self.terms),
                ("author", self.authors),
                ("platform", self.platforms),
            )
        ]
        out = pd.concat(parts, ignore_index=True)
        return out[list(EXPLAIN_COLUMNS)]

    def plot(self, **kwargs: Any) -> go.Figure:
        """Bar chart of the top rising items (see ``plots._explain.explanation_figure``)."""
        from ..plots._explain import explanation_figure

        return explanation_figure(self, **kwargs)


def rising_items(
    episode_items: pd.Series,
    baseline_items: pd.Series,
    n_episode: int,
    n_baseline: int,
    *,
    alpha: float = 1.0,
    min_count: int = 2,
    top: int = 20,
) -> pd.DataFrame:
    """Rank items by the smoothed log ratio of their share of mentions, episode vs baseline.

    ``*_items`` hold one entry per (mention, item) pair (an item counted once per mention).
    share = (count + alpha) / (n + 2·alpha); log_ratio = log(share_episode / share_baseline).
    Items seen fewer than ``min_count`` times in the episode are left out. Ties: higher
    episode count first, then item name.
    """
    e = episode_items.value_counts()
    b = baseline_items.value_counts()
    e = e[e >= min_count]
    cols = list(RISING_ITEM_COLUMNS)
    if e.empty:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame({"item": e.index.astype(str), "episode_count": e.to_numpy(dtype=int)})
    out["baseline_count"] = b.reindex(e.index).fillna(0).to_numpy(dtype=int)
    out["episode_share"] = (out["episode_count"] + alpha) / (n_episode + 2 * alpha)
    out["baseline_share"] = (out["baseline_count"] + alpha) / (n_baseline + 2 * alpha)
    out["log_ratio"] = np.log(out["episode_share"] / out["baseline_share"])
    out = out.sort_values(
        ["log_ratio", "episode_count", "item"], ascending=[False, False, True], kind="stable"
    )
    return out.head(top).reset_index(drop=True)[cols]


def episode_mentions(
    mentions: pd.DataFrame,
    topic: str | None,
    start: Any,
    end: Any,
    *,
    containing: str | None = None,
) -> pd.DataFrame:
    """The mentions of ``topic`` (None = all) created in ``[start, end)``; with ``containing``,
    only those whose lower-cased text contains it — the sample posts behind an explanation."""
    if "created_at" not in mentions:
        raise DataLoadError("mentions lack the 'created_at' column")
    m = mentions
    if topic is not None and "topic" in m:
        m = m[m["topic"] == topic]
    start_ts, end_ts = utc_timestamp(start), utc_timestamp(end)
    if start_ts is None or end_ts is None:  # an unknown bound holds no mention
        return m.iloc[0:0]
    at = to_utc(m["created_at"])
    m = m[(at >= start_ts) & (at < end_ts)]
    if containing and "text" in m:
        m = m[m["text"].astype(str).str.lower().str.contains(containing.lower(), regex=False)]
    return m


def explain_episode(
    mentions: pd.DataFrame,
    topic: str | None,
    start: Any,
    end: Any,
    baseline_days: float = 7,
    *,
    alpha: float = 1.0,
    min_count: int = 2,
    top: int = 20,
) -> SpikeExplanation:
    """Explain a spike of ``topic`` between ``start`` (inclusive) and ``end`` (exclusive).

    The baseline is the ``baseline_days`` before ``start``. ``topic=None`` uses all mentions.
    """
    if "created_at" not in mentions:
        raise DataLoadError("mentions lack the 'created_at' column")
    start_ts, end_ts = utc_timestamp(start), utc_timestamp(end)
    if start_ts is None or end_ts is None or end_ts <= start_ts:
        raise DataLoadError(f"episode end {end_ts} is not after its start {start_ts}")
    if baseline_days <= 0:
        raise DataLoadError(f"baseline_days must be positive, got {baseline_days}")
    base_start = start_ts - pd.Timedelta(days=baseline_days)
    episode = episode_mentions(mentions, topic, start_ts, end_ts)
    baseline = episode_mentions(mentions, topic, base_start, start_ts)
    n_e, n_b = len(episode), len(baseline)

    def per_mention(frame: pd.DataFrame, column: str, split: bool) -> pd.Series:
        if column not in frame or frame.empty:
            return pd.Series([], dtype=str)
        values = frame[column].dropna().astype(str)
        if not split:
            return values[values.str.len() > 0]
        tokens = values.map(lambda t: sorted(set(tokenize(t))))
        return tokens.explode().dropna().astype(str)

    kw = {"alpha": alpha, "min_count": min_count, "top": top}
    return SpikeExplanation(
        topic=str(topic) if topic is not None else "all topics",
        start=start_ts,
        end=end_ts,
        baseline_start=base_start,
        n_episode=n_e,
        n_baseline=n_b,
        terms=rising_items(
            per_mention(episode, "text", True), per_mention(baseline, "text", True), n_e, n_b, **kw
        ),
        authors=rising_items(
            per_mention(episode, "author", False),
            per_mention(baseline, "author", False),
            n_e,
            n_b,
            **kw,
        ),
        platforms=rising_items(
            per_mention(episode, "platform", False),
            per_mention(baseline, "platform", False),
            n_e,
            n_b,
            **{**kw, "min_count": 1},
        ),
    )
