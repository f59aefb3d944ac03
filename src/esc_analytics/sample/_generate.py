"""Seeded generator of realistic social-listening history: mentions, an incident log and planned
events, so that every part of esc-analytics can be tried, tested and demonstrated without data.

Pure computation (one ``numpy.random.Generator`` from the seed, deterministic ordering) except
:func:`write_sample`, which writes the three files of ``data/sample/`` atomically.
"""

from __future__ import annotations

import gzip
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._util.atomic import atomic_write_bytes
from .._util.errors import EscAnalyticsError

DEFAULT_SEED = 20261124
DEFAULT_START = "2026-01-05"
DEFAULT_DAYS = 140
PLATFORMS = ("x", "instagram", "tiktok", "facebook", "reddit")
INCIDENT_CATEGORIES = (
    "outage",
    "product_safety",
    "data_breach",
    "boycott",
    "customer_service",
    "pricing",
)
SAMPLE_FILES = ("mentions.csv.gz", "incidents.csv", "planned_events.csv")
_UNITS = "us"
_WARMUP_DAYS = 14  # quiet history at the start so that baselines have something to learn from
_TAIL_DAYS = 2

# --- Brands: four fictional topics with their own vocabulary ---------------------------------


@dataclass(frozen=True)
class _Brand:
    name: str
    level: float  # mean baseline mentions per hour
    weekend: float  # weekend multiplier of the baseline
    products: tuple[str, ...]  # the first three are physical products (safety, pricing titles)
    features: tuple[str, ...]
    categories: tuple[str, ...]  # incident categories that fit this brand, most typical first
    launches: tuple[tuple[str, str, str], ...]  # (event name, kind, featured item)
    platform_weights: tuple[float, ...]


_BRANDS = (
    _Brand(
        "Lumo",
        13.0,
        0.85,
        ("Lumo X2", "Lumo X2 Pro", "Lumo Air", "Lumo Buds", "Lumo Watch", "Lumo Cloud"),
        ("battery", "camera", "screen", "charger", "update", "fingerprint sensor"),
        ("outage", "product_safety", "data_breach", "pricing", "customer_service"),
        (
            ("Lumo X3 launch", "launch", "Lumo X3"),
            ("Lumo Buds 2 launch", "launch", "Lumo Buds 2"),
            ("Spring trade-in campaign", "campaign", "trade-in offer"),
        ),
        (0.4, 0.15, 0.15, 0.1, 0.2),
    ),
    _Brand(
        "NimbusAir",
        16.0,
        1.15,
        ("flight NB214", "flight NB730", "Nimbus lounge", "Nimbus app", "NimbusMiles"),
        ("check-in", "baggage", "seat", "boarding", "wifi", "crew"),
        ("outage", "customer_service", "data_breach", "boycott", "pricing"),
        (
            ("Summer routes announcement", "launch", "new summer routes"),
            ("Double-miles week", "campaign", "double miles"),
            ("Nimbus app redesign launch", "launch", "new Nimbus app"),
        ),
        (0.45, 0.15, 0.1, 0.2, 0.1),
    ),
    _Brand(
        "Brewhaus",
        9.0,
        1.2,
        ("oat latte", "cold brew", "croissant", "pumpkin spice latte", "Brewhaus app"),
        ("order", "rewards", "cup", "barista", "queue", "price"),
        ("boycott", "product_safety", "pricing", "outage", "customer_service"),
        (
            ("Spring menu launch", "launch", "spring menu"),
            ("Free refill Friday campaign", "campaign", "free refills"),
            ("Brewhaus rewards relaunch", "launch", "new rewards"),
        ),
        (0.2, 0.35, 0.25, 0.15, 0.05),
    ),
    _Brand(
        "Voltra",
        6.0,
        0.9,
        ("Voltra S", "Voltra Cargo", "Voltra Mini", "Voltra charger", "Voltra app"),
        ("range", "brakes", "battery", "software update", "motor", "display"),
        ("product_safety", "outage", "customer_service", "data_breach", "boycott"),
        (
            ("Voltra Cargo 2 launch", "launch", "Voltra Cargo 2"),
            ("Ride-free weekend campaign", "campaign", "free rides"),
            ("Voltra Mini launch", "launch", "Voltra Mini"),
        ),
        (0.35, 0.1, 0.15, 0.1, 0.3),
    ),
)

# --- Mention text templates, by (kind, stance) ------------------------------------------------
# Slots: {brand} {product} {feature} {item} {n}. Incident kinds use distinctive vocabulary so that
# a text model has something to learn; everyday chatter is kept mostly free of it.

_TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("everyday", "pos"): (
        "Loving my {product}, the {feature} is great",
        "{brand} never disappoints. {product} is my favourite",
        "Shoutout to {brand} for the quick help today",
        "honestly the {feature} on the {product} is so good",
        "me pretending I don't need another {product} from {brand}",
        "{brand} got my morning sorted, thank you!",
        "new {product} day, so happy with it",
        "10/10 would recommend {brand} to anyone",
        "when the {product} just works. love it",
        "Best {feature} I've had, well done {brand}",
    ),
    ("everyday", "neu"): (
        "Anyone know if {brand} ships the {product} internationally?",
        "Is the {feature} on the {product} worth it?",
        "Thinking about switching to {brand}, thoughts?",
        "{brand} posted their opening hours for the holidays",
        "how do I change the {feature} settings on {product}",
        "{brand} vs the competition, which {product} would you pick",
        "Question for {brand}: does the {product} come in blue?",
        "saw a {brand} ad on the bus this morning",
        "just used {product} for the first time",
        "what time does {brand} support open?",
        "does anyone use {product} for work",
        "Reading the {brand} FAQ about the {feature}",
    ),
    ("everyday", "neg"): (
        "{product} {feature} is a bit annoying today",
        "kinda disappointed with the {feature} on my {product}",
        "why is {brand} so slow to answer emails",
        "meh, the {product} is overrated",
        "{brand} {feature} could be better tbh",
        "not a fan of the new {feature}, {brand}",
        "waited ages for {product}, not impressed",
    ),
    ("outage", "neg"): (
        "Is {brand} down?? {product} won't load at all",
        "{brand} outage again, can't use {product} for {n} hours now",
        "{product} is down and {brand} says nothing. unacceptable",
        "Total outage at {brand}. error 503 everywhere",
        "the {brand} service is down, nothing works, no status page update",
        "{brand} down for everyone? login keeps failing",
        "another {brand} outage, I'm done with this",
        "Can't {feature}, {product} keeps crashing. outage since this morning",
    ),
    ("outage", "neu"): (
        "Anyone else seeing the {brand} outage?",
        "Looks like {product} is down in my area",
        "{brand} status page now confirms an outage affecting {product}",
        "Reports of {brand} being down are spiking",
    ),
    ("product_safety", "neg"): (
        "My {product} {feature} overheated and melted, this is dangerous",
        "{brand} needs to recall the {product} NOW before someone gets hurt",
        "safety issue with {product}: {feature} failed while in use",
        "Why is there no recall yet? {product} {feature} is defective",
        "{product} caught fire?? {brand} explain yourselves",
        "scary: {feature} on my {product} just failed. recall it",
        "{brand} ignoring the {product} safety defect is disgraceful",
    ),
    ("product_safety", "neu"): (
        "Is there an official recall for the {product}?",
        "Reports of {product} {feature} failures, {brand} investigating",
        "{brand} statement on {product} safety recall",
        "how do I check if my {product} is part of the recall",
    ),
    ("data_breach", "neg"): (
        "{brand} data breach leaked my email and password. furious",
        "Got a phishing email right after the {brand} data breach",
        "my {brand} account was hacked, thanks for protecting our data",
        "{brand} leaked customer data and waited {n} days to tell us",
        "data breach at {brand}: change your passwords now",
        "how does {brand} lose millions of customer records?? breach",
        "{brand} breach: my card was charged by someone else",
    ),
    ("data_breach", "neu"): (
        "{brand} confirms a data breach affecting customer accounts",
        "Should I reset my {brand} password after the breach?",
        "Reading the {brand} breach notice now",
        "what data was exposed in the {brand} breach?",
    ),
    ("boycott", "neg"): (
        "#Boycott{brand} that ad was tone deaf and offensive",
        "Never buying {product} again. boycott {brand}",
        "{brand} should apologise. we boycott until they do",
        "Disgusting statement from {brand}, joining the boycott",
        "deleted the {brand} app. boycott now",
        "{brand} thinks we will forget. we won't. boycott",
        "the {brand} CEO comments are a disgrace #Boycott{brand}",
    ),
    ("boycott", "neu"): (
        "What's the {brand} boycott about?",
        "Everyone is talking about #Boycott{brand} today",
        "{brand} responds to boycott calls",
        "context on the {brand} controversy thread",
    ),
    ("customer_service", "neg"): (
        "Still waiting for my refund from {brand} after {n} weeks",
        "{brand} customer service hung up on me twice. refund please",
        "charged twice for {product} and no refund. awful service",
        "{n} hours on hold with {brand} support. ridiculous",
        "{brand} cancelled my order and kept the money. refund??",
        "worst customer service ever, {brand} ignores complaints",
        "asked {brand} for a refund on the broken {product}, nothing",
    ),
    ("customer_service", "neu"): (
        "How long do {brand} refunds usually take?",
        "Anyone got a refund from {brand} yet?",
        "{brand} support says refunds are delayed",
        "is there a number to call {brand} about refunds",
    ),
    ("pricing", "neg"): (
        "{brand} price hike again? {product} costs {n}0% more now",
        "hidden fees everywhere at {brand}. rip-off",
        "{brand} raised the price of {product} and made it worse",
        "the new {brand} subscription is a scam",
        "paying more for less, thanks {brand}. price hike",
        "{brand} greed: {product} price up again",
    ),
    ("pricing", "neu"): (
        "Did {brand} just change the price of {product}?",
        "{brand} announces new pricing for {product}",
        "comparing the old and new {brand} prices",
    ),
    ("incident", "pos"): (  # people defending the brand during an incident
        "Honestly {brand} is handling this well, give them a break",
        "still love my {product}, {brand} will fix it",
        "{brand} support was great with me today, thanks",
        "people overreacting, {brand} is fine",
    ),
    ("launch", "pos"): (
        "The {item} is here!! preordered already",
        "unboxing the {item}, first impressions: wow",
        "{brand} nailed it with the {item}",
        "so hyped for the {item} from {brand}",
        "just got the {item}, it's gorgeous",
        "{item} event was amazing, well done {brand}",
        "can't wait to try {item}",
    ),
    ("launch", "neu"): (
        "{brand} announces {item}",
        "price and availability of the {item}?",
        "watching the {brand} keynote for {item}",
        "is {item} worth the upgrade?",
        "first reviews of {item} are out",
    ),
    ("launch", "neg"): (
        "{item} looks like the same old thing",
        "not impressed by {item} tbh",
    ),
    ("campaign", "pos"): (
        "{brand} {item} this week, let's go!",
        "love the {item} from {brand}",
        "thank you {brand} for the {item}",
        "grabbed the {item}, what a deal",
        "{item} made my week",
    ),
    ("campaign", "neu"): (
        "how does the {brand} {item} work?",
        "{brand} {item} starts today",
        "is the {item} only online?",
    ),
    ("campaign", "neg"): ("{item} sold out in minutes, typical",),
    ("viral", "pos"): (
        "this {brand} video is everywhere lol",
        "the {product} trend is the best thing on my feed today",
        "ok the {brand} meme is hilarious",
        "everyone is doing the {product} challenge now and I love it",
        "{brand} replying to everyone with jokes, legendary",
        "this is why {brand} is the best",
        "iconic {brand} moment",
    ),
    ("viral", "neu"): (
        "why is {brand} trending?",
        "can someone explain the {product} meme",
        "{brand} trending again",
    ),
    ("viral", "neg"): ("the {brand} meme is getting old already",),
    ("roast", "neg"): (  # jokes: negative words, no incident vocabulary
        "my {product} is slower than a sleepy snail lol",
        "{brand} roast thread, I'll start: the {feature}",
        "ranking {brand} products from worst to worst 😂",
        "the {brand} {feature} is a crime against design lmao",
        "my {product} took one look at me and gave up",
        "{brand} fans be like: the {feature} is fine. it is not lol",
        "worst {feature} award goes to {product} again haha",
    ),
    ("roast", "neu"): (
        "why is everyone roasting {brand} today",
        "the {brand} roast thread is going wild",
        "{brand} jokes are trending",
    ),
    ("roast", "pos"): (
        "{brand} replying to the roasts is gold",
        "ok {brand} took the roast well, respect",
    ),
}
_EMOJI = {
    "pos": ("😍", "🔥", "🙌", "❤️", "✨", "😂", "👏"),
    "neu": ("🤔", "👀", "🤷", "📢"),
    "neg": ("😡", "🤬", "👎", "😤", "💀", "🙄"),
}
_MARKUP = (
    "<b>{text}</b>",
    "{text} <3",
    "{text} <script>alert('{brand}')</script>",
    '{text} <img src=x onerror="alert(1)">',
    "<i>{text}</i> &amp; more",
    "{text} <a href='javascript:void(0)'>link</a>",
)
_SENTIMENT = {"pos": (0.62, 0.2), "neu": (0.05, 0.15), "neg": (-0.6, 0.22)}
_STANCES = ("pos", "neu", "neg")
_HANDLE_A = (
    "sunny", "night", "coffee", "tech", "city", "urban", "retro", "quiet", "happy", "lazy",
    "green", "blue", "pixel", "north", "wild", "mellow", "rapid", "cosmic", "daily", "little",
)  # fmt: skip
_HANDLE_B = (
    "fox", "runner", "reader", "otter", "panda", "traveler", "critic", "mom", "dad", "nerd",
    "chef", "rider", "gamer", "owl", "fan", "crafter", "pilot", "lion", "bee", "writer",
)  # fmt: skip


@dataclass(frozen=True)
class SampleData:
    """A generated history: mentions (Mentions contract), the incident log (Incidents contract),
    planned events (launches, campaigns) and the unplanned benign spikes that are no incident:
    ``kind`` "viral" (positive) or "roast" (jokes a sentiment score reads as negative)."""

    mentions: pd.DataFrame
    incidents: pd.DataFrame
    planned_events: pd.DataFrame
    benign_spikes: pd.DataFrame

    def summary(self) -> str:
        """A few lines saying what is in the sample (period, topics, rows, incidents per tier)."""
        m = self.mentions
        tiers = self.incidents["severity"].value_counts().sort_index()
        per_tier = ", ".join(f"tier {int(k)}: {int(v)}" for k, v in tiers.items())
        return (
            f"{len(m):,} mentions, {m['created_at'].min():%Y-%m-%d} to "
            f"{m['created_at'].max():%Y-%m-%d}, topics {', '.join(sorted(m['topic'].unique()))}\n"
            f"{len(self.incidents)} incidents ({per_tier}); "
            f"{len(self.planned_events)} planned events; "
            f"{len(self.benign_spikes)} unplanned benign spikes"
        )


@dataclass(frozen=True)
class _Event:
    kind: str  # "incident" | "planned" | "benign" (unplanned, harmless)
    topic: int
    severity: int  # 0 for benign events
    category: str  # incident category, "launch"/"campaign", or "viral"/"roast"
    ramp: float  # hours from start to peak
    ramp_power: float  # 1 = linear, >1 = slow build that explodes late
    plateau: float  # hours at peak
    half_life: float  # hours of decay half-life
    peak: float  # extra mentions per hour at the peak, as a multiple of the topic level
    stance_p: tuple[float, float, float]  # probabilities of pos, neu, neg
    influencers: int  # extra posts by high-follower authors around the peak
    name: str = ""
    item: str = ""

    @property
    def duration(self) -> float:
        """Hours from start to the end of the social wave (rate below 10% of its peak)."""
        return self.ramp + self.plateau + self.half_life * math.log2(10)


def generate_sample(
    *,
    seed: int = DEFAULT_SEED,
    start: str | pd.Timestamp = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    topics: Sequence[str] | None = None,
    volume_scale: float = 1.0,
) -> SampleData:
    """Generate a reproducible social-listening history with incidents, launches and viral spikes.

    ``topics`` names the brands (default: the four built-in fictional ones; other names borrow a
    built-in brand's vocabulary); ``volume_scale`` multiplies every mention rate.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise EscAnalyticsError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(days, (int, np.integer)) or days < _WARMUP_DAYS + _TAIL_DAYS + 7:
        raise EscAnalyticsError(
            f"days must be an integer >= {_WARMUP_DAYS + _TAIL_DAYS + 7} (history needs a "
            f"{_WARMUP_DAYS}-day warm-up before the first event), got {days!r}"
        )
    if not (isinstance(volume_scale, (int, float)) and 0 < volume_scale <= 100):
        raise EscAnalyticsError(f"volume_scale must be in (0, 100], got {volume_scale!r}")
    try:
        t0 = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise EscAnalyticsError(f"start {start!r} is not a date: {exc}") from None
    t0 = (t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")).floor("D")
    brands = _resolve_brands(topics)

    rng = np.random.default_rng(int(seed))
    authors = _make_authors(rng)
    events = _plan_events(rng, brands, int(days))
    starts = _place_events(rng, events, len(brands), int(days))

    parts = [_baseline_mentions(rng, brands, int(days), t0.day_of_week, volume_scale, authors)]
    for event, start_min in zip(events, starts, strict=True):
        level = brands[event.topic].level * volume_scale
        parts.append(_event_mentions(rng, event, int(start_min), level, authors))
    raw = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    mentions = _finish_mentions(rng, raw, brands, authors, t0)
    incidents, planned, spikes = _event_frames(rng, events, starts, brands, t0)
    return SampleData(mentions, incidents, planned, spikes)


def write_sample(sample: SampleData, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``mentions.csv.gz``, ``incidents.csv`` and ``planned_events.csv`` into ``directory``
    (created if needed), each atomically and byte-reproducibly; returns the paths written."""
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise EscAnalyticsError(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in zip(
        SAMPLE_FILES, (sample.mentions, sample.incidents, sample.planned_events), strict=True
    ):
        text = sample_csv_text(frame)
        if name.endswith(".gz"):
            buffer = io.BytesIO()
            with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as gz:
                gz.write(text.encode("utf-8"))
            payload = buffer.getvalue()
        else:
            payload = text.encode("utf-8")
        written.append(atomic_write_bytes(out / name, payload))
    return written


# --- Building blocks ----------------------------------------------------------------------------


def _resolve_brands(topics: Sequence[str] | None) -> list[_Brand]:
    if topics is None:
        return list(_BRANDS)
    if isinstance(topics, str) or not len(topics):
        raise EscAnalyticsError("topics must be a non-empty list of names, e.g. ['Lumo']")
    names = [str(t).strip() for t in topics]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise EscAnalyticsError(f"topics must be distinct non-empty names, got {list(topics)!r}")
    known = {b.name: b for b in _BRANDS}
    brands = []
    for i, name in enumerate(names):
        base = known.get(name, _BRANDS[i % len(_BRANDS)])
        if name != base.name:  # borrow the vocabulary, rename the brand everywhere
            base = _Brand(
                name,
                base.level,
                base.weekend,
                tuple(p.replace(base.name, name) for p in base.products),
                base.features,
                base.categories,
                tuple((n.replace(base.name, name), k, it) for n, k, it in base.launches),
                base.platform_weights,
            )
        brands.append(base)
    return brands


def _make_authors(rng: np.random.Generator, n: int = 40_000) -> dict[str, np.ndarray]:
    """An author pool with heavy-tailed followers, a home platform, verification and activity."""
    followers = np.exp(rng.normal(5.3, 1.9, n))
    celebrities = rng.choice(n, 60, replace=False)
    followers[celebrities] = np.exp(rng.uniform(np.log(2e5), np.log(6e6), 60))
    followers = np.floor(followers).astype(np.int64)
    p_verified = np.where(followers >= 100_000, 0.7, np.where(followers >= 10_000, 0.08, 0.003))
    verified = rng.random(n) < p_verified
    activity = 1.0 / (rng.permutation(n) + 15.0) ** 0.9
    a = rng.integers(0, len(_HANDLE_A), n)
    b = rng.integers(0, len(_HANDLE_B), n)
    num = rng.integers(0, 1000, n)
    sep = rng.random(n) < 0.4
    handles = np.array(
        [
            f"{_HANDLE_A[i]}{'_' if s else ''}{_HANDLE_B[j]}{k}"
            for i, j, k, s in zip(a, b, num, sep, strict=True)
        ]
    )
    handles = np.char.add(handles, np.char.mod("%d", np.arange(n) % 7))  # keep handles distinct
    platform_u = rng.random(n)
    return {
        "handle": handles,
        "followers": followers,
        "verified": verified,
        "activity": activity / activity.sum(),
        "platform_u": platform_u,
        "influencers": np.flatnonzero(followers >= 50_000),
    }


def _daily_profile(hour_of_day: np.ndarray) -> np.ndarray:
    """Relative activity by UTC hour: quiet early morning, busiest in the evening (mean 1)."""
    raw = np.exp(0.6 * np.cos(2 * np.pi * (hour_of_day - 18.0) / 24.0))
    return raw / np.exp(0.6 * np.cos(2 * np.pi * (np.arange(24) - 18.0) / 24.0)).mean()


def _plan_events(rng: np.random.Generator, brands: list[_Brand], days: int) -> list[_Event]:
    """Choose incidents (tier mix ~50/30/20 with ramps), planned events and viral spikes."""
    n_topics = len(brands)
    usable = n_topics * (days - _WARMUP_DAYS - _TAIL_DAYS)  # topic-days where events may fall
    n_incidents = max(1, round(usable / 20))
    n3 = round(0.2 * n_incidents)
    n2 = round(0.3 * n_incidents)
    n1 = n_incidents - n2 - n3
    n_planned = round(usable / 62)
    n_viral = round(usable / 165)
    n_roast = round(usable / 250)

    specs: list[tuple[str, int]] = (
        [("incident", 3)] * n3 + [("incident", 2)] * n2 + [("incident", 1)] * n1
    )
    specs += [("planned", 0)] * n_planned + [("viral", 0)] * n_viral + [("roast", 0)] * n_roast
    offset = int(rng.integers(0, n_topics))
    events = []
    launch_used = [0] * n_topics
    for index, (kind, severity) in enumerate(specs):
        topic = (index + offset) % n_topics
        brand = brands[topic]
        u = rng.random()
        if kind == "incident":
            events.append(_incident_event(rng, brand, topic, severity, u))
        elif kind == "planned":
            name, category, item = brand.launches[launch_used[topic] % len(brand.launches)]
            launch_used[topic] += 1
            events.append(
                _Event(
                    "planned", topic, 0, category,
                    ramp=float(rng.uniform(4, 12)), ramp_power=1.5,
                    plateau=float(rng.uniform(6, 24)), half_life=float(rng.uniform(6, 14)),
                    peak=float(rng.uniform(2.0, 4.5)), stance_p=(0.62, 0.3, 0.08),
                    influencers=int(rng.integers(2, 7)), name=name, item=item,
                )
            )  # fmt: skip
        elif kind == "roast":  # harmless jokes that a sentiment score reads as negative
            events.append(
                _Event(
                    "benign", topic, 0, "roast",
                    ramp=float(rng.uniform(1.0, 3.0)), ramp_power=1.0,
                    plateau=float(rng.uniform(2, 5)), half_life=float(rng.uniform(2, 5)),
                    peak=float(rng.uniform(3.5, 6.0)), stance_p=(0.15, 0.3, 0.55),
                    influencers=int(rng.integers(1, 5)),
                    name=f"{brand.name} {rng.choice(['roast thread', 'joke trend'])}",
                )
            )  # fmt: skip
        else:
            events.append(
                _Event(
                    "benign", topic, 0, "viral",
                    ramp=float(rng.uniform(0.5, 2.0)), ramp_power=1.0,
                    plateau=float(rng.uniform(2, 6)), half_life=float(rng.uniform(3, 7)),
                    peak=float(rng.uniform(7, 14)), stance_p=(0.72, 0.24, 0.04),
                    influencers=int(rng.integers(5, 11)),
                    name=f"{brand.name} {rng.choice(['meme', 'video', 'challenge'])} goes viral",
                )
            )  # fmt: skip
    return events


def _incident_event(
    rng: np.random.Generator, brand: _Brand, topic: int, severity: int, u: float
) -> _Event:
    """One incident: tier 3 big (fast or slow-exploding), tier 2 medium, tier 1 small or tiny."""
    weights = np.linspace(2.0, 1.0, len(brand.categories))
    if severity == 3:  # the gravest categories first for tier 3
        weights = np.array(
            [3.0 if c in ("data_breach", "product_safety", "boycott") else 1.0
             if c == "outage" else 0.0 for c in brand.categories]
        )  # fmt: skip
    elif severity == 1:
        weights = np.array(
            [3.0 if c in ("customer_service", "pricing", "outage") else 0.5
             for c in brand.categories]
        )  # fmt: skip
    category = str(rng.choice(brand.categories, p=weights / weights.sum()))
    if severity == 3:
        slow = u < 0.4
        ramp = rng.uniform(24, 44) if slow else rng.uniform(0.5, 2.0)
        return _Event(
            "incident", topic, 3, category, float(ramp), 3.0 if slow else 1.0,
            plateau=float(rng.uniform(4, 10)), half_life=float(rng.uniform(5, 10)),
            peak=float(rng.uniform(10, 20)), stance_p=(0.02, 0.13, 0.85),
            influencers=int(rng.integers(10, 26)),
        )  # fmt: skip
    if severity == 2:
        slow = u < 0.5
        ramp = rng.uniform(12, 30) if slow else rng.uniform(1.0, 3.0)
        return _Event(
            "incident", topic, 2, category, float(ramp), 2.0 if slow else 1.0,
            plateau=float(rng.uniform(2, 6)), half_life=float(rng.uniform(3, 7)),
            peak=float(rng.uniform(4, 8)), stance_p=(0.03, 0.2, 0.77),
            influencers=int(rng.integers(3, 8)),
        )  # fmt: skip
    tiny = u < 0.5
    return _Event(
        "incident", topic, 1, category,
        ramp=float(rng.uniform(1, 3) if tiny else rng.uniform(1, 8)), ramp_power=1.0,
        plateau=float(rng.uniform(1, 3) if tiny else rng.uniform(1, 4)),
        half_life=float(rng.uniform(1, 2.5) if tiny else rng.uniform(2, 5)),
        peak=float(rng.uniform(0.8, 1.2) if tiny else rng.uniform(1.6, 3.2)),
        stance_p=(0.03, 0.17, 0.8), influencers=int(rng.integers(0, 2)),
    )  # fmt: skip


def _place_events(
    rng: np.random.Generator, events: list[_Event], n_topics: int, days: int
) -> np.ndarray:
    """Start minute of each event: per topic, events in random order with random gaps between
    them (at least a day), all after the warm-up and before the tail."""
    starts = np.zeros(len(events), dtype=np.int64)
    span_h = (days - _WARMUP_DAYS - _TAIL_DAYS) * 24.0
    for topic in range(n_topics):
        idx = [i for i, e in enumerate(events) if e.topic == topic]
        if not idx:
            continue
        order = rng.permutation(len(idx))
        idx = [idx[k] for k in order]
        lengths = np.array([events[i].duration + 24.0 for i in idx])
        slack = span_h - lengths.sum()
        if slack < 0:
            raise EscAnalyticsError(
                f"{days} days are too few for the {len(idx)} events of a topic; use more days"
            )
        gaps = rng.dirichlet(np.ones(len(idx) + 1)) * slack
        t = _WARMUP_DAYS * 24.0
        for k, i in enumerate(idx):
            t += gaps[k]
            starts[i] = round((t + rng.uniform(0, 1)) * 60)
            t += lengths[k]
    return starts


def _baseline_mentions(
    rng: np.random.Generator,
    brands: list[_Brand],
    days: int,
    first_weekday: int,
    scale: float,
    authors: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Everyday chatter: hourly negative-binomial counts with daily and weekly seasonality."""
    hours = np.arange(days * 24)
    hod = hours % 24
    dow = (hours // 24 + first_weekday) % 7  # 0 = Monday
    parts = []
    for topic, brand in enumerate(brands):
        weekly = np.where(np.isin(dow, (5, 6)), brand.weekend, 1.0)
        trend = 1.0 + 0.15 * np.sin(2 * np.pi * hours / (24 * 60) + topic)
        daily_noise = rng.gamma(30.0, 1 / 30.0, days)[hours // 24]
        rate = brand.level * scale * _daily_profile(hod) * weekly * trend * daily_noise
        counts = rng.poisson(rate * rng.gamma(8.0, 1 / 8.0, hours.size))
        hour_of = np.repeat(hours, counts)
        seconds = hour_of * 3600 + rng.integers(0, 3600, hour_of.size)
        parts.append((topic, seconds))
    seconds = np.concatenate([s for _, s in parts])
    topic_idx = np.concatenate([np.full(s.size, t) for t, s in parts])
    n = seconds.size
    stance = rng.choice(3, n, p=(0.3, 0.55, 0.15))
    return {
        "seconds": seconds,
        "topic": topic_idx,
        "kind": np.full(n, "everyday", dtype=object),
        "item": np.full(n, "", dtype=object),
        "stance": stance,
        "author": rng.choice(authors["activity"].size, n, p=authors["activity"]),
        "boost": np.zeros(n),
    }


def _event_mentions(
    rng: np.random.Generator,
    event: _Event,
    start_min: int,
    level: float,
    authors: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The extra mentions of one event: times drawn from its ramp/plateau/decay shape."""
    step = 1.0 / 12.0  # 5-minute grid, in hours
    t = np.arange(0.0, event.duration, step) + step / 2
    shape = np.where(
        t < event.ramp,
        (t / event.ramp) ** event.ramp_power,
        np.where(
            t < event.ramp + event.plateau,
            1.0,
            0.5 ** ((t - event.ramp - event.plateau) / event.half_life),
        ),
    )
    hod = (start_min / 60.0 + t) % 24
    rate = shape * (0.6 + 0.4 * _daily_profile(hod)) * event.peak * level
    expected = rate.sum() * step
    n_crowd = int(rng.poisson(expected * rng.gamma(20.0, 1 / 20.0)))
    cdf = np.cumsum(rate)
    cdf /= cdf[-1]
    crowd_t = _sample_times(rng, cdf, step, n_crowd)
    peaky = np.cumsum(shape**3)
    peaky /= peaky[-1]
    n_infl = event.influencers
    infl_t = _sample_times(rng, peaky, step, n_infl)
    n = n_crowd + n_infl
    seconds = start_min * 60 + np.floor(np.concatenate([crowd_t, infl_t]) * 3600).astype(np.int64)
    seconds = np.minimum(seconds, start_min * 60 + int(event.duration * 3600) - 1)
    crowd_authors = rng.choice(authors["activity"].size, n_crowd)  # a crowd, not the regulars
    infl_authors = rng.choice(authors["influencers"], n_infl) if n_infl else np.zeros(0, int)
    kind = event.category
    stance = rng.choice(3, n, p=event.stance_p)
    boost = {"incident": 0.4 * event.severity, "planned": 0.3, "benign": 1.0}[event.kind]
    return {
        "seconds": seconds,
        "topic": np.full(n, event.topic),
        "kind": np.full(n, kind, dtype=object),
        "item": np.full(n, event.item, dtype=object),
        "stance": stance,
        "author": np.concatenate([crowd_authors, infl_authors]).astype(np.int64),
        "boost": np.full(n, boost),
    }


def _sample_times(rng: np.random.Generator, cdf: np.ndarray, step: float, n: int) -> np.ndarray:
    """Hours since the event start, drawn from a gridded distribution (inverse CDF + jitter)."""
    if n == 0:
        return np.zeros(0)
    cell = np.searchsorted(cdf, rng.random(n), side="right")
    cell = np.minimum(cell, cdf.size - 1)
    return (cell + rng.random(n)) * step


def _finish_mentions(
    rng: np.random.Generator,
    raw: dict[str, np.ndarray],
    brands: list[_Brand],
    authors: dict[str, np.ndarray],
    t0: pd.Timestamp,
) -> pd.DataFrame:
    """Sort, then derive ids, texts, sentiment, platform, engagement for every mention."""
    order = np.lexsort((raw["topic"], raw["seconds"]))
    raw = {k: v[order] for k, v in raw.items()}
    n = raw["seconds"].size
    author = raw["author"]
    followers = authors["followers"][author]
    stance = raw["stance"]
    mean = np.array([_SENTIMENT[s][0] for s in _STANCES])[stance]
    sd = np.array([_SENTIMENT[s][1] for s in _STANCES])[stance]
    sentiment = np.round(np.clip(rng.normal(mean, sd), -1.0, 1.0), 3)
    # lexicon scorers give exactly 0 to most plain questions and statements
    sentiment[(stance == _STANCES.index("neu")) & (rng.random(n) < 0.6)] = 0.0
    sentiment[rng.random(n) < 0.02] = np.nan  # a few rows the listening tool did not score
    engagement = np.floor(
        np.exp(rng.normal(0.2 + 0.42 * np.log1p(followers) + raw["boost"], 1.0))
    ).astype(np.int64)
    # platform: the author's home platform, weighted by the topic's audience
    weights = np.array([b.platform_weights for b in brands])
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)[raw["topic"]]
    platform_idx = (authors["platform_u"][author][:, None] > cum).sum(axis=1)
    platform_idx = np.minimum(platform_idx, len(PLATFORMS) - 1)
    texts = _texts(rng, raw, brands)
    created = t0 + pd.to_timedelta(raw["seconds"], unit="s")
    frame = pd.DataFrame(
        {
            "mention_id": pd.array([f"m{i:07d}" for i in range(1, n + 1)], dtype="str"),
            "created_at": pd.DatetimeIndex(created).as_unit(_UNITS),
            "topic": pd.array(np.array([b.name for b in brands])[raw["topic"]], dtype="str"),
            "text": pd.array(texts, dtype="str"),
            "author": pd.array(authors["handle"][author], dtype="str"),
            "author_followers": followers,
            "engagement": engagement,
            "sentiment": sentiment,
            "platform": pd.array(np.array(PLATFORMS)[platform_idx], dtype="str"),
            "is_verified": authors["verified"][author],
        }
    )
    return frame


def _texts(rng: np.random.Generator, raw: dict[str, np.ndarray], brands: list[_Brand]) -> list[str]:
    """Fill templates (by kind and stance) with the brand's words; add hashtags, emoji, URLs
    and, rarely, HTML-like markup as real posts have."""
    n = raw["seconds"].size
    pick = rng.random((n, 4))
    deco = rng.random((n, 4))
    numbers = rng.integers(2, 10, n)
    url_ids = rng.integers(36**5, 36**6, n)
    markup_pick = rng.integers(0, len(_MARKUP), n)
    emoji_pick = rng.random(n)
    out = []
    kinds = raw["kind"]
    for i in range(n):
        brand = brands[raw["topic"][i]]
        stance = _STANCES[raw["stance"][i]]
        templates = _TEMPLATES.get((kinds[i], stance)) or _TEMPLATES[("incident", stance)]
        template = templates[int(pick[i, 0] * len(templates))]
        text = template.format(
            brand=brand.name,
            product=brand.products[int(pick[i, 1] * len(brand.products))],
            feature=brand.features[int(pick[i, 2] * len(brand.features))],
            item=raw["item"][i],
            n=numbers[i],
        )
        if deco[i, 0] < 0.3:
            tag = brand.name
            if stance == "neg" and kinds[i] != "everyday" and pick[i, 3] < 0.5:
                tag = f"{brand.name}Fail" if kinds[i] != "boycott" else f"Boycott{brand.name}"
            text += f" #{tag}"
        if deco[i, 1] < 0.25:
            emoji = _EMOJI[stance]
            text += " " + emoji[int(emoji_pick[i] * len(emoji))]
        if deco[i, 2] < 0.08:
            text += f" https://t.example/{np.base_repr(int(url_ids[i]), 36).lower()}"
        if deco[i, 3] < 0.003:
            text = _MARKUP[markup_pick[i]].format(text=text, brand=brand.name)
        out.append(text)
    return out


def _event_frames(
    rng: np.random.Generator,
    events: list[_Event],
    starts: np.ndarray,
    brands: list[_Brand],
    t0: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The incident log (with human detection delays), planned events and benign spikes."""
    incident_rows, planned_rows, spike_rows = [], [], []
    for event, start_min in zip(events, starts, strict=True):
        end_min = start_min + math.ceil(event.duration * 60)
        brand = brands[event.topic]
        if event.kind == "incident":
            incident_rows.append(_incident_row(rng, event, int(start_min), int(end_min), brand))
        elif event.kind == "planned":
            planned_rows.append(
                {"topic": brand.name, "name": event.name, "kind": event.category,
                 "started_at": start_min, "ended_at": end_min}
            )  # fmt: skip
        else:
            spike_rows.append(
                {"topic": brand.name, "name": event.name, "kind": event.category,
                 "started_at": start_min, "ended_at": end_min}
            )  # fmt: skip

    def times(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
        for column in columns:
            minutes = frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            stamps = pd.to_datetime(
                t0.value // 1000 + minutes * 60_000_000, unit="us", utc=True
            ).as_unit(_UNITS)
            frame[column] = stamps
        return frame

    incidents = pd.DataFrame(incident_rows)
    incidents = incidents.sort_values(["started_at", "topic"], kind="stable").reset_index(drop=True)
    incidents.insert(0, "incident_id", [f"INC-{i:03d}" for i in range(1, len(incidents) + 1)])
    incidents = times(
        incidents, ["started_at", "detected_at", "escalated_at", "resolved_at", "ended_at"]
    )
    for column in ("incident_id", "topic", "title", "category"):
        incidents[column] = incidents[column].astype("str")
    incidents["severity"] = incidents["severity"].astype(np.int64)

    def benign(rows: list[dict], prefix: str) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=["topic", "name", "kind", "started_at", "ended_at"])
        frame = frame.sort_values(["started_at", "topic"], kind="stable").reset_index(drop=True)
        frame.insert(0, "event_id", [f"{prefix}-{i:03d}" for i in range(1, len(frame) + 1)])
        frame = times(frame, ["started_at", "ended_at"])
        for column in ("event_id", "topic", "name", "kind"):
            frame[column] = frame[column].astype("str")
        return frame

    return incidents, benign(planned_rows, "EVT"), benign(spike_rows, "SPK")


_TITLES = {
    "outage": ("{brand} service outage", "{brand} app and website outage", "{brand} login outage"),
    "product_safety": ("{product} safety defect reports", "{product} recall demands"),
    "data_breach": ("{brand} customer data breach", "{brand} account takeover wave"),
    "boycott": ("Boycott call over {brand} advert", "{brand} executive remarks backlash"),
    "customer_service": ("{brand} refund delays", "{brand} support complaints"),
    "pricing": ("{product} price increase backlash", "{brand} hidden fees complaints"),
}


def _incident_row(
    rng: np.random.Generator, event: _Event, start: int, end: int, brand: _Brand
) -> dict[str, object]:
    """Timeline of one incident in minutes: the team's detection delay depends on how fast and
    how loud the wave was (and a bit of luck); escalation for tiers 2 and 3; resolution."""
    fast = event.ramp_power == 1.0 and event.ramp <= 3
    if rng.random() < 0.2:  # noticed early by other means (ops alarm, a customer call)
        delay = rng.uniform(5, 40)
    elif event.severity == 1:
        delay = math.exp(rng.normal(math.log(8 * 60), 0.8))  # hours, sometimes a day
    elif fast:
        delay = math.exp(rng.normal(math.log(50 * (4 - event.severity)), 0.6))
    else:  # slow build: noticed when it took off, or later
        delay = event.ramp * 60 * rng.uniform(0.7, 1.15)
    detected = start + max(5, int(delay))
    escalated: float = float("nan")
    last = detected
    if event.severity >= 2:
        escalated = detected + max(10, int(math.exp(rng.normal(math.log(45), 0.7))))
        last = int(escalated)
    peak_end = start + int((event.ramp + event.plateau) * 60)
    resolved = max(last + int(rng.uniform(60, 8 * 60)), peak_end + int(rng.uniform(-60, 6 * 60)))
    template = _TITLES[event.category][int(rng.integers(0, len(_TITLES[event.category])))]
    title = template.format(
        brand=brand.name,
        product=brand.products[int(rng.integers(0, 3))],  # the first three are physical
        feature=brand.features[int(rng.integers(0, len(brand.features)))],
    )
    return {
        "topic": brand.name,
        "title": title[0].upper() + title[1:],
        "category": event.category,
        "severity": event.severity,
        "started_at": start,
        "detected_at": detected,
        "escalated_at": escalated,
        "resolved_at": resolved,
        "ended_at": end,
    }


def sample_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text :func:`write_sample` writes for a frame: times as ISO 8601 UTC ending in Z,
    booleans as true/false, missing values as empty cells."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif out[column].dtype == bool:
            out[column] = np.where(out[column], "true", "false")
    return out.to_csv(index=False, lineterminator="\n")
