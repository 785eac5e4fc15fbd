"""Artefact sets: fitting one and writing it to a directory, reading one whole and checking it.

Both the in-place training (``python -m recsys train``) and background retraining
(:mod:`recsys.retraining`) fit through :func:`fit_and_save`; Spark's engine fits its own members
and writes through the same :func:`save_set`; every serving process reads through :func:`read_model_set`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict

from recsys.artifacts import (ArtifactMetadata, TrainedShopper, artifact_stamp, current_directory, ids_hash,
                              read_trained_shoppers, write_trained_shoppers)
from recsys.catalog import Catalog
from recsys.ensemble import EnsembleModel
from recsys.features import item_feature_matrix
from recsys.hybrid import HybridRanker
from recsys.models import MODEL_CLASSES, ArtifactError, RecommenderModel
from recsys.serving import ServingModels
from recsys.settings import Settings
from recsys.shoppers import ShopperBook, Snapshot

logger = logging.getLogger(__name__)


def read_model_set(settings: Settings, catalog: Catalog, shoppers: ShopperBook) -> ServingModels:
    """The artefact set serving now, whole, checked against the catalog; :class:`ArtifactError` if any is off.

    The set's directory is resolved once (``CURRENT``, else the model directory itself), so a set
    published while this reads cannot mix into it. The models must have been trained on this
    catalog's first products (products added since are served by :mod:`recsys.serving`).
    """
    stamp = artifact_stamp(settings.model_dir)
    directory = Path(stamp[0]) if stamp else current_directory(settings.model_dir)
    metadata = ArtifactMetadata.read(directory)
    if metadata.n_items > len(catalog):
        raise ArtifactError(f"models in {directory} know {metadata.n_items} products, the catalog has {len(catalog)}")
    metadata.check_catalog(ids_hash(catalog.ids[:metadata.n_items]), directory)
    if set(metadata.models) != set(settings.models):
        raise ArtifactError(f"models in {directory} are {sorted(metadata.models)}, settings ask for {sorted(settings.models)}")
    models = {name: MODEL_CLASSES[name].load(directory) for name in settings.models}
    for model in models.values():
        if model.n_items != metadata.n_items:
            raise ArtifactError(f"{model.name} model has {model.n_items} items, its metadata says {metadata.n_items}")
    try:
        ranker = HybridRanker(models, metadata.weights)
    except ValueError as exc:
        raise ArtifactError(f"models in {directory}: {exc}") from exc
    trained = shoppers.use_trained(read_trained_shoppers(directory), metadata.events_hash)
    return ServingModels(ranker, trained, metadata, directory, stamp,
                         datetime.now(timezone.utc).isoformat(timespec="seconds"))


@dataclass
class FittedSet:
    """Fitted members and their blend weights, before they are written: what a training engine hands
    :func:`save_set` (this process's :func:`fit_set`, or Spark's :mod:`recsys.spark.pipeline`)."""

    models: Dict[str, RecommenderModel]
    weights: Dict[str, float]
    validation_score: float
    #: Seconds per step (a member, the weights, Spark's export...), as the engine measured them.
    fit_seconds: Dict[str, float]
    total_seconds: float


def fit_set(settings: Settings, catalog: Catalog, snapshot: Snapshot) -> FittedSet:
    """Fit every model on ``snapshot`` in this process: members fitted on all but each shopper's last
    product, the blend weights learned on those, the members refitted on everything (the same fitting
    the offline benchmarks measure)."""
    interactions = snapshot.interactions.with_item_features(item_feature_matrix(catalog))
    started = time.perf_counter()
    ensemble = EnsembleModel(members="+".join(settings.models), validation_users=settings.validation_shoppers,
                             objective="full", refit=True, random_state=settings.seed).fit(interactions)
    return FittedSet(dict(ensemble.ranker.models), dict(ensemble.weights), ensemble.validation_score,
                     dict(ensemble.fit_seconds), time.perf_counter() - started)


def save_set(settings: Settings, catalog: Catalog, snapshot: Snapshot, fitted: FittedSet,
             directory: Path) -> ServingModels:
    """Write a fitted set into ``directory`` (``metadata.json`` last) and return it ready to serve.

    The one writer of artefact sets, whichever engine fitted them, so serving, fold-in and reloads
    never know which engine trained. ``snapshot`` must be the events the members' shopper rows follow.
    """
    models, weights = fitted.models, fitted.weights
    interactions = snapshot.interactions
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metadata.json").unlink(missing_ok=True)
    for model in models.values():
        model.save(directory)
    # Each shopper's events as the snapshot's fingerprint read them (a shopper whose rows landed
    # after it has none, so is folded in): their factors serve only while these stay the same.
    trained = []
    for row, user in enumerate(interactions.user_ids):
        fingerprint = snapshot.fingerprints.get(user)
        trained.append(TrainedShopper(user, row, fingerprint.count if fingerprint else -1,
                                      fingerprint.last_id if fingerprint else None))
    write_trained_shoppers(directory, trained)
    metadata = ArtifactMetadata(
        catalog_hash=ids_hash(catalog.ids),
        events_hash=snapshot.events_hash,
        n_events=snapshot.n_events,
        n_users=len(interactions.user_ids),
        n_items=len(catalog),
        models={name: model.params() for name, model in models.items()},
        weights=weights,
        validation={"ndcg@10": round(fitted.validation_score, 4), "max_shoppers": settings.validation_shoppers, "objective": "full"},
        metrics={"train_seconds": round(fitted.total_seconds, 3),
                 **{f"fit_seconds.{k}": v for k, v in fitted.fit_seconds.items()}},
    )
    metadata.write(directory)
    logger.info("trained %s on %d events from %d shoppers over %d products in %.1fs; weights %s",
                ", ".join(models), snapshot.n_events, len(interactions.user_ids), len(catalog), fitted.total_seconds, weights)
    return ServingModels(HybridRanker(models, weights), {t.user_id: t for t in trained}, metadata, directory,
                         artifact_stamp(directory), datetime.now(timezone.utc).isoformat(timespec="seconds"))


def fit_and_save(settings: Settings, catalog: Catalog, snapshot: Snapshot, directory: Path) -> ServingModels:
    """Fit every model on ``snapshot`` in this process (:func:`fit_set`) and write the set (:func:`save_set`)."""
    return save_set(settings, catalog, snapshot, fit_set(settings, catalog, snapshot), directory)
