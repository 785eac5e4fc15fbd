"""A seeded simulator of shoppers, for a demo event log until a shop sends real events.

The log is synthetic. Each simulated shopper has latent tastes that a good
recommender should be able to recover: interest in a few categories, loyalty
to a couple of brands, a budget per category (price sensitivity), and sessions
that browse several products before some of them end in a cart or a purchase.
Products also have a latent appeal shared by all shoppers, tied to their rating,
so popularity is real but not the whole story.
"""
from __future__ import annotations

import gzip
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from recsys.catalog import Catalog
from recsys.events import EVENT_COLUMNS, EVENT_TYPES, load_events
from recsys.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationParams:
    """Every knob of the simulator; written next to the generated log."""

    n_shoppers: int = 3000
    seed: int = 0
    start: str = "2026-08-01T00:00:00Z"
    days: int = 90
    sessions_per_shopper_mean: float = 3.0
    views_per_session_mean: float = 5.0
    brand_loyalty: float = 0.6  # chance a view stays within the shopper's favourite brands
    cart_rate: float = 0.35  # chance a session puts its favourite viewed item in the cart
    purchase_rate: float = 0.5  # chance a cart ends in a purchase
    rating_rate: float = 0.3  # chance a purchase is rated
    price_tolerance: float = 0.35  # log-scale width of a shopper's acceptable price band
    #: Relative share of shoppers' attention per category (unlisted categories get the smallest share).
    category_share: Tuple[Tuple[str, float], ...] = (
        ("phone", 0.24), ("laptop", 0.14), ("headphones", 0.12), ("accessory", 0.10), ("tablet", 0.08),
        ("smartwatch", 0.08), ("monitor", 0.06), ("tv", 0.06), ("camera", 0.05), ("speaker", 0.05),
    )
    accessory_follow_rate: float = 0.4  # chance a device purchase brings a later session for its accessories
    accessory_purchase_rate: float = 0.5  # chance that session ends in buying one


def simulate_events(
    catalog: Catalog, params: SimulationParams = SimulationParams(), show_progress: bool = False
) -> pd.DataFrame:
    """Generate an event log with the columns of :data:`recsys.events.EVENT_COLUMNS`."""
    rng = np.random.default_rng(params.seed)
    categories = sorted(set(catalog.categories))
    items_by_category: Dict[str, np.ndarray] = {c: np.flatnonzero(catalog.categories == c) for c in categories}
    log_prices = np.log(catalog.prices)
    ratings = np.array([p.rating if p.rating is not None else 3.5 for p in catalog.products])
    appeal = 0.8 * (ratings - ratings.mean()) + rng.normal(0.0, 0.7, len(catalog))
    shares = dict(params.category_share)
    share = np.array([shares.get(c, min(shares.values())) for c in categories])
    share = share / share.sum()
    brands_by_category = {c: sorted(set(catalog.brands[idx])) for c, idx in items_by_category.items()}
    start = pd.Timestamp(params.start)

    rows: List[tuple] = []
    for shopper in tqdm(range(params.n_shoppers), desc="simulating shoppers", disable=not show_progress):
        user_id = f"shopper-{shopper:05d}"
        interest = rng.dirichlet(2.0 * share)
        favourite_brands = {
            c: set(rng.choice(brands_by_category[c], size=min(2, len(brands_by_category[c])), replace=False))
            for c in categories
        }
        # Budget: a quantile of the category's price range, the same quantile across categories.
        quantile = rng.beta(2.0, 2.5)
        budgets = {c: np.quantile(log_prices[idx], quantile) for c, idx in items_by_category.items()}
        n_sessions = 1 + rng.poisson(params.sessions_per_shopper_mean - 1)
        session_starts = np.sort(rng.uniform(0, params.days * 86400, n_sessions))
        for s, offset in enumerate(session_starts):
            category = categories[rng.choice(len(categories), p=interest)]
            candidates = items_by_category[category]
            affinity = appeal[candidates] - ((log_prices[candidates] - budgets[category]) / params.price_tolerance) ** 2
            loyal = np.array([b in favourite_brands[category] for b in catalog.brands[candidates]])
            if loyal.any() and rng.random() < params.brand_loyalty:
                affinity = np.where(loyal, affinity + 2.0, affinity)
            probabilities = np.exp(affinity - affinity.max())
            probabilities /= probabilities.sum()
            n_views = min(len(candidates), 1 + rng.poisson(params.views_per_session_mean - 1))
            viewed = rng.choice(candidates, size=n_views, replace=False, p=probabilities)
            session_id = f"{user_id}-s{s}"
            t = start + pd.Timedelta(seconds=float(offset))
            for item in viewed:
                rows.append((t, user_id, session_id, "view", catalog.products[item].id, np.nan))
                t += pd.Timedelta(seconds=float(rng.exponential(60)))
            if rng.random() < params.cart_rate:
                # The first view was drawn straight from the shopper's preferences: it is the one they want.
                chosen = viewed[0]
                product_id = catalog.products[chosen].id
                rows.append((t, user_id, session_id, "cart", product_id, np.nan))
                if rng.random() < params.purchase_rate:
                    t += pd.Timedelta(seconds=float(rng.exponential(120)))
                    rows.append((t, user_id, session_id, "purchase", product_id, np.nan))
                    if rng.random() < params.rating_rate:
                        stars = int(np.clip(np.round(ratings[chosen] + rng.normal(0, 0.8)), 1, 5))
                        rows.append((t + pd.Timedelta(days=float(rng.uniform(2, 10))), user_id, session_id, "rating", product_id, float(stars)))
                    fitting = np.array([catalog.index[a] for a in catalog.accessories_for(product_id)], dtype=np.int64)
                    if fitting.size and rng.random() < params.accessory_follow_rate:
                        rows.extend(_accessory_session(rng, params, catalog, appeal, fitting, user_id, f"{session_id}-acc", t))
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.sort_values(["timestamp", "user_id"], kind="stable").reset_index(drop=True)


def _accessory_session(rng, params: SimulationParams, catalog: Catalog, appeal: np.ndarray, fitting: np.ndarray,
                       user_id: str, session_id: str, after: pd.Timestamp) -> List[tuple]:
    """A later visit to look at accessories that fit the device just bought."""
    t = after + pd.Timedelta(days=float(rng.uniform(0.5, 14)))
    weights = np.exp(appeal[fitting] - appeal[fitting].max())
    viewed = rng.choice(fitting, size=min(len(fitting), 1 + rng.poisson(1.5)), replace=False, p=weights / weights.sum())
    rows = []
    for item in viewed:
        rows.append((t, user_id, session_id, "view", catalog.products[item].id, np.nan))
        t += pd.Timedelta(seconds=float(rng.exponential(45)))
    if rng.random() < params.accessory_purchase_rate:
        product_id = catalog.products[viewed[0]].id
        rows.append((t, user_id, session_id, "cart", product_id, np.nan))
        rows.append((t + pd.Timedelta(seconds=float(rng.exponential(60))), user_id, session_id, "purchase", product_id, np.nan))
    return rows


def write_simulation(catalog: Catalog, params: SimulationParams, path: Path, show_progress: bool = True) -> pd.DataFrame:
    """Simulate, then write the log and, next to it, its report (markdown) and a price plot."""
    events = simulate_events(catalog, params, show_progress=show_progress)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # gzip without a timestamp in its header, so the same seed writes the same bytes.
    with gzip.GzipFile(tmp, "wb", mtime=0) if path.suffix == ".gz" else open(tmp, "wb") as handle:
        handle.write(events.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ").encode("utf-8"))
    tmp.replace(path)
    write_report(events, catalog, params, path)
    return events


def write_report(events: pd.DataFrame, catalog: Catalog, params: SimulationParams, log_path: Path) -> Path:
    """Counts per event type and category, and purchase prices per category, next to the log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    category = events["item_id"].map({p.id: p.category for p in catalog.products})
    counts = pd.crosstab(category, events["event_type"]).reindex(columns=list(EVENT_TYPES), fill_value=0)
    counts.loc["total"] = counts.sum()
    purchases = events[events["event_type"] == "purchase"]
    prices = purchases["item_id"].map({p.id: p.price for p in catalog.products})
    purchase_category = category[purchases.index]

    plot_path = log_path.parent / "purchase_prices.png"
    order = [c for c in catalog.aliases.categories if (purchase_category == c).any()]
    figure, axis = plt.subplots(figsize=(9, 4.5))
    axis.boxplot([prices[purchase_category == c] for c in order], labels=order, showfliers=False)
    axis.tick_params(axis="x", labelrotation=25)
    axis.set_yscale("log")
    axis.set_ylabel("purchase price (CNY, log scale)")
    axis.set_title(f"Simulated purchases per category (seed {params.seed}, {params.n_shoppers} shoppers)")
    figure.tight_layout()
    figure.savefig(plot_path, dpi=110)
    plt.close(figure)

    lines = [
        "# Demo event log: simulation report",
        "",
        f"`{log_path.name}` is **synthetic**: written by `recsys.simulate` (`python -m recsys simulate`), not real shoppers.",
        "",
        f"{len(events):,} events from {events['user_id'].nunique():,} shoppers in {events['session_id'].nunique():,} sessions, "
        f"{events['timestamp'].min():%Y-%m-%d} to {events['timestamp'].max():%Y-%m-%d}.",
        "",
        "## Parameters",
        "",
        "| parameter | value |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in asdict(params).items()],
        "",
        "## Events per category and type",
        "",
        "| category | " + " | ".join(counts.columns) + " |",
        "|---|" + "---|" * len(counts.columns),
        *[f"| {name} | " + " | ".join(f"{int(v):,}" for v in row) + " |" for name, row in counts.iterrows()],
        "",
        "## Purchase prices (CNY)",
        "",
        "| category | purchases | median | 10th pct | 90th pct |",
        "|---|---|---|---|---|",
        *[f"| {c} | {int((purchase_category == c).sum()):,} | {prices[purchase_category == c].median():,.0f} | "
          f"{prices[purchase_category == c].quantile(0.1):,.0f} | {prices[purchase_category == c].quantile(0.9):,.0f} |" for c in order],
        "",
        f"![purchase prices per category]({plot_path.name})",
        "",
    ]
    report_path = log_path.parent / "REPORT.md"
    report_path.write_text("\n".join(lines), encoding="utf-8")
    return report_path


def seed_events(store: Store, catalog: Catalog, events_path: Path, seed: int = 0, show_progress: bool = False) -> int:
    """Fill an empty events table from ``events_path`` (a shop's export or the demo log), simulating
    the demo log there first when the file does not exist. Returns how many events were added.

    Opening the database never does this by itself: whether a deployment starts from the demo
    shoppers is its caller's choice (the assistant's start-up and ``python -m recsys train`` do).
    """
    if store.event_count() > 0:
        return 0
    events_path = Path(events_path)
    if not events_path.exists():
        logger.info("no event log at %s: simulating the demo log (synthetic shoppers)", events_path)
        write_simulation(catalog, SimulationParams(seed=seed), events_path, show_progress=show_progress)
    count = store.append_events(load_events(events_path), show_progress=show_progress)
    logger.info("seeded %d events from %s", count, events_path)
    return count
