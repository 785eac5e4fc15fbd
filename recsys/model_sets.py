"""Artefact sets: fitting one and writing it to a directory, reading one whole and checking it.

Both the in-place training (``python -m recsys train``) and background retraining
(:mod:`recsys.retraining`) fit through :func:`fit_and_save`; every serving process
reads through :func:`read_model_set`.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from recsys.artifacts import (ArtifactMetadata, TrainedShopper, artifact_stamp, current_directory, ids_hash,
                              read_trained_shoppers, write_trained_shoppers)
from recsys.catalog import Catalog
from recsys.ensemble import EnsembleModel
from recsys.features import item_feature_matrix
from recsys.hybrid import HybridRanker
from recsys.models import MODEL_CLASSES, ArtifactError
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



def fit_and_save(settings: Settings, catalog: Catalog, snapshot: Snapshot, directory: Path) -> ServingModels:
    """Fit every model on ``snapshot``, learn the blend weights on held-out last items, refit on
    everything, and write the set into ``directory`` (``metadata.json`` last)."""
    interactions = snapshot.interactions.with_item_features(item_feature_matrix(catalog))
    started = time.perf_counter()
    # The same fitting the offline benchmarks measure: members fitted on all but each shopper's last
    # product, weights learned on those, members refitted on everything.
    ensemble = EnsembleModel(members="+".join(settings.models), validation_users=settings.validation_shoppers,
                             objective="full", refit=True, random_state=settings.seed).fit(interactions)
    total_seconds = time.perf_counter() - started
    models, weights = dict(ensemble.ranker.models), ensemble.weights
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
        validation={"ndcg@10": round(ensemble.validation_score, 4), "max_shoppers": settings.validation_shoppers, "objective": "full"},
        metrics={"train_seconds": round(total_seconds, 3),
                 **{f"fit_seconds.{k}": v for k, v in ensemble.fit_seconds.items()}},
    )
    metadata.write(directory)
    logger.info("trained %s on %d events from %d shoppers over %d products in %.1fs; weights %s",
                ", ".join(models), snapshot.n_events, len(interactions.user_ids), len(catalog), total_seconds, weights)
    return ServingModels(HybridRanker(models, weights), {t.user_id: t for t in trained}, metadata, directory,
                         artifact_stamp(directory), datetime.now(timezone.utc).isoformat(timespec="seconds"))

