"""``python -m recsys train --engine spark``: the hybrid with its collaborative members fitted on Spark.

1. The database's events are exported to a Parquet snapshot (:func:`recsys.export.export_events`).
2. Spark fits ALS, item co-occurrence and popularity on the whole snapshot (:mod:`recsys.spark.members`).
3. The other members (content, sequence models) fit on this machine as today: they learn from
   product text and recent sessions, not from the whole log's co-occurrence.
4. The blend weights are learned as today (members fitted on all but each shopper's last product,
   weights tuned on those) on a sample of shoppers when the log is big.
5. :meth:`Recommender.train` (given :func:`fit_on_spark` as its engine) writes the set through
   :func:`recsys.model_sets.save_set`, the writer the default engine uses, and serves it.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from recsys.catalog import Catalog
from recsys.ensemble import EnsembleModel, build_member
from recsys.events import Interactions
from recsys.export import EventSnapshot, SnapshotError, export_events
from recsys.facade import Recommender
from recsys.features import item_feature_matrix
from recsys.live_catalog import LiveCatalog
from recsys.model_sets import FittedSet
from recsys.settings import Settings
from recsys.shoppers import Snapshot
from recsys.spark.members import SPARK_MEMBERS, fit_members
from recsys.spark.session import spark_session

logger = logging.getLogger(__name__)


@dataclass
class SparkTraining:
    """How to train on Spark: where, and how many shoppers the blend weights are learned on."""

    master: str = "local[2]"
    #: Parquet snapshots go here (``<var>/snapshots`` by default); a given ``snapshot`` skips the export.
    snapshot_root: Optional[Path] = None
    snapshot: Optional[Path] = None
    #: Shoppers sampled to learn the blend weights (all of them when the log has fewer).
    weight_sample: int = 50_000
    driver_memory: Optional[str] = None


def sample_shoppers(interactions: Interactions, n: int, seed: int) -> Interactions:
    """``n`` random shoppers' rows (all if fewer): enough to learn a handful of blend weights."""
    if len(interactions.user_ids) <= n:
        return interactions
    rows = np.sort(np.random.default_rng(seed).choice(len(interactions.user_ids), size=n, replace=False))
    return Interactions(
        matrix=interactions.matrix[rows], user_ids=[interactions.user_ids[r] for r in rows],
        item_ids=interactions.item_ids,
        age_days=None if interactions.age_days is None else interactions.age_days[rows],
        sequences=None if interactions.sequences is None else [interactions.sequences[r] for r in rows],
        item_features=interactions.item_features,
    )


def align_user_rows(model, snapshot_users, serving_users) -> None:
    """Reorder an ALS model's user factors from the export's shopper order to the serving snapshot's.

    Both are the sorted distinct ids, so they agree unless events arrived between the two reads; a
    shopper the export did not see gets a zero row (and is folded in at serving, their fingerprint differs).
    """
    if list(snapshot_users) == list(serving_users):
        return
    position = {u: i for i, u in enumerate(snapshot_users)}
    rows = np.array([position.get(u, -1) for u in serving_users], dtype=np.int64)
    factors = np.zeros((len(serving_users), model.factors), dtype=np.float32)
    factors[rows >= 0] = model.user_factors[rows[rows >= 0]]
    model._set_factors(factors, model.item_factors)


def fit_on_spark(session, events: EventSnapshot, options: SparkTraining, settings: Settings, catalog: Catalog,
                 snapshot: Snapshot) -> FittedSet:
    """The Spark engine for :meth:`Recommender.train`: Spark members on the exported ``events``, the
    others on ``snapshot`` in this process, the blend weights on a sample of shoppers."""
    if events.item_ids != list(catalog.ids):
        raise SnapshotError(f"{events.path} was exported for another catalog; export the events again")
    started = time.perf_counter()
    seconds: Dict[str, float] = {}
    weighting = EnsembleModel(members="+".join(settings.models), validation_users=settings.validation_shoppers,
                              objective="full", refit=False, random_state=settings.seed)
    spark_names = [name for name in weighting.member_names if name in SPARK_MEMBERS]
    models = fit_members(session, events, {name: build_member(name, settings.seed) for name in spark_names})
    seconds["spark"] = round(time.perf_counter() - started, 2)
    interactions = snapshot.interactions.with_item_features(item_feature_matrix(catalog))
    if "als" in models:
        align_user_rows(models["als"], events.user_ids, interactions.user_ids)
    mark = time.perf_counter()
    for name in weighting.member_names:
        if name not in SPARK_MEMBERS:
            models[name] = build_member(name, settings.seed).fit(interactions)
    seconds["local_members"] = round(time.perf_counter() - mark, 2)
    mark = time.perf_counter()
    weighting.fit(sample_shoppers(interactions, options.weight_sample, settings.seed))
    seconds["weights"] = round(time.perf_counter() - mark, 2)
    return FittedSet({name: models[name] for name in weighting.member_names}, dict(weighting.weights),
                     weighting.validation_score, seconds, time.perf_counter() - started)


def train_on_spark(settings: Settings, options: SparkTraining, show_progress: bool = True) -> Recommender:
    """Export (unless given a snapshot), then train in place with :func:`fit_on_spark` as the engine."""
    catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
    session = spark_session(options.master, driver_memory=options.driver_memory)  # fail early if Spark is missing
    store = Recommender._open_store(settings, catalog, seed=True)  # seeded as the default engine seeds it
    if options.snapshot is not None:
        events = EventSnapshot.open(options.snapshot)
    else:  # over the live catalog (products added in the database too), as training reads the events
        live = LiveCatalog(catalog, store).view.catalog
        events = export_events(store, live.ids, options.snapshot_root or settings.model_dir.parent / "snapshots",
                               show_progress=show_progress)
    return Recommender.train(settings, catalog, store, fit=partial(fit_on_spark, session, events, options))
