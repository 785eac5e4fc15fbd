"""The one entry point every client uses: :class:`Recommender`.

It joins the catalog, the database (the one truth about shoppers, through
:class:`~recsys.shoppers.ShopperBook`) and the hybrid of fitted models, and turns
a :class:`~recsys.queries.RecommendationQuery` into products that satisfy the
shopper's hard constraints, each with a :class:`~recsys.reasons.Reason`
(:mod:`recsys.explain`).
"""
from __future__ import annotations

import logging
import time
from typing import List, Mapping, Optional, Tuple

import numpy as np
import scipy.sparse as sp

from recsys.artifacts import (ArtifactMetadata, TrainedShopper, ids_hash, metadata_stamp, read_trained_shoppers,
                              write_trained_shoppers)
from recsys.catalog import CATEGORIES, Catalog, Product
from recsys.ensemble import EnsembleModel
from recsys.events import EVENT_WEIGHTS
from recsys.explain import Explainer
from recsys.features import item_feature_matrix
from recsys.hybrid import HybridRanker
from recsys.models import MODEL_CLASSES, ArtifactError, RecommenderModel
from recsys.products import ProductFinder
from recsys.queries import MAX_RESULTS, QueryError, Recommendation, RecommendationQuery, StoredEvent
from recsys.reasons import Reason
from recsys.settings import Settings
from recsys.shoppers import ShopperBook, Snapshot
from recsys.simulate import seed_events
from recsys.specs import Comparison, Feature, FeatureAnswer, FeatureTable, answer, compare, prefer_feature
from recsys.store import Store, open_store

logger = logging.getLogger(__name__)

__all__ = ["QueryError", "Recommendation", "RecommendationQuery", "Recommender", "StoredEvent"]

#: With a preferred feature, candidates are the top ``k * FEATURE_POOL`` for the shopper, re-ordered by it.
FEATURE_POOL = 4
#: "Similar to X" blends what X is (content) with what shoppers view beside it (item co-occurrence),
#: equally: the learned weights answer another question (what a shopper picks next) and give content
#: no say once histories exist, yet similarity must work for a product nobody has touched.
SIMILARITY_WEIGHTS = {"content": 1.0, "item_knn": 1.0}


class Recommender:
    """Catalog + database + hybrid ranker, with constraint-respecting recommendations.

    Holds no shopper state of its own: every request asks the database whether the
    shopper changed (:class:`~recsys.shoppers.ShopperBook`), so several processes on
    one database answer alike.
    """

    def __init__(self, catalog: Catalog, store: Store, ranker: HybridRanker, settings: Settings,
                 shoppers: ShopperBook) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.ranker = ranker
        self.shoppers = shoppers
        #: When the serving artefacts were written (see :meth:`models_changed`).
        self._loaded_stamp: Optional[float] = metadata_stamp(settings.model_dir)
        self._finder: Optional[ProductFinder] = None
        self._features: Optional[FeatureTable] = None

    @property
    def models(self) -> Mapping[str, RecommenderModel]:
        return self.ranker.models

    # -- construction ------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None, train_if_missing: bool = True,
                      seed: bool = True) -> "Recommender":
        """Open the database (importing the catalog as needed) and load the models.

        ``seed``: fill an empty events table from ``settings.events_path`` (simulating the demo
        log there if it is missing), as the assistant does on its first start. Models are
        trained when missing or made for another catalog, if that is allowed.
        """
        settings = settings or Settings.from_env()
        catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
        store = cls._open_store(settings, catalog, seed)
        try:
            return cls._load(settings, catalog, store)
        except ArtifactError as exc:
            if not train_if_missing:
                raise
            logger.info("training the recommender: %s", exc)
            return cls.train(settings, catalog, store)

    @staticmethod
    def _open_store(settings: Settings, catalog: Catalog, seed: bool) -> Store:
        """The database with this catalog, and with the seed events when the caller asks for them."""
        store = open_store(settings, catalog)
        if seed:
            seed_events(store, catalog, settings.events_path, seed=settings.seed)
        return store

    @classmethod
    def _load(cls, settings: Settings, catalog: Catalog, store: Store) -> "Recommender":
        ranker, trained, metadata = cls._read_models(settings, catalog)
        shoppers = ShopperBook(store, catalog)
        shoppers.use_trained(trained, metadata.events_hash)
        return cls(catalog, store, ranker, settings, shoppers)

    @staticmethod
    def _read_models(settings: Settings, catalog: Catalog) -> Tuple[HybridRanker, List[TrainedShopper], ArtifactMetadata]:
        """Every artefact in the model directory, checked against the catalog; :class:`ArtifactError` if any is off."""
        metadata = ArtifactMetadata.read(settings.model_dir)
        metadata.check_catalog(ids_hash(catalog.ids), settings.model_dir)
        if set(metadata.models) != set(settings.models):
            raise ArtifactError(f"models in {settings.model_dir} are {sorted(metadata.models)}, settings ask for {sorted(settings.models)}")
        models = {name: MODEL_CLASSES[name].load(settings.model_dir) for name in settings.models}
        for model in models.values():
            if model.n_items != len(catalog):
                raise ArtifactError(f"{model.name} model has {model.n_items} items, catalog has {len(catalog)}")
        try:
            ranker = HybridRanker(models, metadata.weights)
        except ValueError as exc:
            raise ArtifactError(f"models in {settings.model_dir}: {exc}") from exc
        return ranker, read_trained_shoppers(settings.model_dir), metadata

    def models_changed(self) -> bool:
        """Whether a finished set of artefacts newer than the one serving is in the model directory.

        ``metadata.json`` is written last by training, so its modification time marks a complete set.
        """
        stamp = metadata_stamp(self.settings.model_dir)
        return stamp is not None and stamp != self._loaded_stamp

    def reload_if_changed(self) -> bool:
        """Swap in newer artefacts if training wrote some; a refused set is not retried until it changes again."""
        if not self.models_changed():
            return False
        stamp = metadata_stamp(self.settings.model_dir)
        taken = self.reload_models()
        self._loaded_stamp = stamp
        return taken

    def reload_models(self) -> bool:
        """Serve the artefacts now in the model directory (after a retrain elsewhere).

        A corrupt, incomplete or mismatched set is refused with an error in the
        log and the models already in memory keep serving: a bad file never
        takes recommendations down. Returns whether the new models were taken.
        """
        try:
            ranker, trained, metadata = self._read_models(self.settings, self.catalog)
        except ArtifactError as exc:
            logger.error("kept the current models; the new artefacts were refused: %s", exc)
            return False
        self.shoppers.use_trained(trained, metadata.events_hash)
        self.ranker = ranker
        logger.info("reloaded models from %s", self.settings.model_dir)
        return True

    @classmethod
    def train(cls, settings: Settings, catalog: Optional[Catalog] = None, store: Optional[Store] = None,
              show_progress: bool = True, seed: bool = True) -> "Recommender":
        """Fit every model, learn the blend weights on held-out last items, refit on everything, save.

        Without a ``store``, the database is opened (and, with ``seed``, an empty one seeded) first.
        """
        catalog = catalog or Catalog.load(settings.catalog_path, settings.aliases_path)
        store = store or cls._open_store(settings, catalog, seed)
        snapshot = Snapshot.read(store, catalog, catalog.ids)
        interactions = snapshot.interactions.with_item_features(item_feature_matrix(catalog))
        started = time.perf_counter()
        # The same fitting the offline benchmarks measure: members fitted on all but each shopper's last
        # product, weights learned on those, members refitted on everything.
        ensemble = EnsembleModel(members="+".join(settings.models), validation_users=settings.validation_shoppers,
                                 objective="full", refit=True, random_state=settings.seed).fit(interactions)
        total_seconds = time.perf_counter() - started
        return cls.from_fitted(settings, catalog, store, snapshot, dict(ensemble.ranker.models), ensemble.weights,
                               validation_score=ensemble.validation_score, total_seconds=total_seconds,
                               fit_seconds=ensemble.fit_seconds)

    @classmethod
    def from_fitted(cls, settings: Settings, catalog: Catalog, store: Store, snapshot: Snapshot,
                    models: Mapping[str, RecommenderModel], weights: Mapping[str, float], validation_score: float,
                    total_seconds: float, fit_seconds: Mapping[str, float]) -> "Recommender":
        """Save fitted members, their blend weights and the trained shoppers as one artefact set; serve them.

        Every training engine ends here (this process's :meth:`train`, and Spark's in
        :mod:`recsys.spark`), so the files the facade loads are written by one piece of code.
        """
        interactions = snapshot.interactions
        models, weights = dict(models), dict(weights)
        settings.model_dir.mkdir(parents=True, exist_ok=True)
        (settings.model_dir / "metadata.json").unlink(missing_ok=True)
        for model in models.values():
            model.save(settings.model_dir)
        # Each shopper's events as the snapshot's fingerprint read them (a shopper whose rows landed
        # after it has none, so is folded in): their factors serve only while these stay the same.
        trained = []
        for row, user in enumerate(interactions.user_ids):
            fingerprint = snapshot.fingerprints.get(user)
            trained.append(TrainedShopper(user, row, fingerprint.count if fingerprint else -1,
                                          fingerprint.last_id if fingerprint else None))
        write_trained_shoppers(settings.model_dir, trained)
        ArtifactMetadata(
            catalog_hash=ids_hash(catalog.ids),
            events_hash=snapshot.events_hash,
            n_events=snapshot.n_events,
            n_users=len(interactions.user_ids),
            n_items=len(catalog),
            models={name: model.params() for name, model in models.items()},
            weights=weights,
            validation={"ndcg@10": round(validation_score, 4), "max_shoppers": settings.validation_shoppers, "objective": "full"},
            metrics={"train_seconds": round(total_seconds, 3),
                     **{f"fit_seconds.{k}": v for k, v in fit_seconds.items()}},
        ).write(settings.model_dir)
        logger.info("trained %s on %d events from %d shoppers over %d products in %.1fs; weights %s",
                    ", ".join(models), snapshot.n_events, len(interactions.user_ids), len(catalog), total_seconds, weights)
        shoppers = ShopperBook(store, catalog, snapshot)
        shoppers.use_trained(trained, snapshot.events_hash)
        return cls(catalog, store, HybridRanker(models, weights), settings, shoppers)

    # -- events --------------------------------------------------------------
    def record_event(self, user_id: str, product_id: str, event_type: str, value: Optional[float] = None,
                     session_id: Optional[str] = None) -> None:
        """Store one shopper event; every process's next recommendation for the shopper reflects it.

        Unknown products, unknown event types and ratings outside 1..5 are
        refused with a :class:`QueryError` and nothing is written.
        """
        if not user_id:
            raise QueryError("an event needs a shopper id")
        if product_id not in self.catalog:
            raise QueryError(f"unknown product id {product_id!r}")
        if event_type not in EVENT_WEIGHTS:
            raise QueryError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_WEIGHTS)}")
        if event_type == "rating" and (value is None or not 1 <= value <= 5):
            raise QueryError("a rating needs a value from 1 to 5")
        self.store.record_event(user_id, product_id, event_type, session_id=session_id, value=value)
        self.shoppers.refresh(user_id)  # the writer pays for rebuilding, not the shopper's next question

    # -- queries -----------------------------------------------------------
    def product(self, product_id: str) -> Optional[Product]:
        return self.catalog.get(product_id)

    def history(self, user_id: Optional[str]) -> sp.csr_matrix:
        """The shopper's interaction row as the database says now (empty for a shopper we have never seen)."""
        return self.shoppers.get(user_id).history

    def sequence(self, user_id: Optional[str]) -> np.ndarray:
        """The items the shopper touched, oldest first."""
        return self.shoppers.get(user_id).sequence

    def recommend(self, query: RecommendationQuery) -> List[Recommendation]:
        """Best products for the query, personalised when the shopper has a history.

        Hard constraints (category, brand, price range, stock) are never
        relaxed here; an empty list means nothing in the catalog fits, and the
        caller decides what to tell the shopper.
        """
        self._validate(query)
        allowed = self.catalog.mask(
            category=query.category, brand=query.brand, min_price=query.min_price,
            max_price=query.max_price, in_stock_only=query.in_stock_only,
        )
        for brand in query.exclude_brands:
            allowed &= self.catalog.brands != brand
        shopper = self.shoppers.get(query.user_id)
        if shopper.disliked:
            allowed[list(shopper.disliked)] = False
        if query.exclude_items:
            allowed[[self.catalog.index[item] for item in query.exclude_items]] = False
        feature = self.features.features.get(query.prefer) if query.prefer else None
        pool = min(MAX_RESULTS, query.k * FEATURE_POOL) if feature else query.k
        ranked = self.ranker.rank(
            shopper.history, allowed, pool, user=self.shoppers.model_row(shopper), sequence=shopper.sequence,
            exclude_seen=query.exclude_seen, brands=self.catalog.brand_codes,
            max_per_brand=None if query.brand else max(2, pool // 3),
        )
        explainer = Explainer(self.models, self.catalog, shopper.history, shopper.sequence, query)
        recommendations = [Recommendation(self.catalog.products[r.item], r.score, explainer.reason(r)) for r in ranked]
        if feature is not None:
            recommendations = prefer_feature(recommendations, feature)
        return recommendations[:query.k]

    def similar(self, product_id: str, k: int = 5, same_category: bool = True, max_price: Optional[float] = None,
                in_stock_only: bool = True) -> List[Recommendation]:
        """Products like ``product_id``, as the hybrid sees a shopper who has just looked at it.

        Content similarity makes this work for a product nobody has bought
        yet; co-occurrence and the sequence model add what shoppers pick
        around it. The reason names the product itself.
        """
        index = self.catalog.index.get(product_id)
        if index is None:
            raise QueryError(f"unknown product id {product_id!r}")
        if not 1 <= k <= MAX_RESULTS:
            raise QueryError(f"k must be between 1 and {MAX_RESULTS}, got {k}")
        product = self.catalog.products[index]
        allowed = self.catalog.mask(category=product.category if same_category else None, max_price=max_price,
                                    in_stock_only=in_stock_only)
        history = sp.csr_matrix((np.ones(1, dtype=np.float32), ([0], [index])), shape=(1, len(self.catalog)))
        weights = {name: w for name, w in SIMILARITY_WEIGHTS.items() if name in self.models}
        if not weights:
            weights = dict(self.ranker.weights)
        ranked = HybridRanker(self.models, weights).rank(history, allowed, k, sequence=np.array([index]), exclude_seen=True)
        return [Recommendation(self.catalog.products[r.item], r.score, Reason("similar_to", {"item": product_id}))
                for r in ranked]

    # -- products by name, details, comparisons, accessories ---------------------
    @property
    def finder(self) -> ProductFinder:
        if self._finder is None:
            self._finder = ProductFinder(self.catalog)
        return self._finder

    @property
    def features(self) -> FeatureTable:
        if self._features is None:
            self._features = FeatureTable.load(self.settings.features_path)
        return self._features

    def find_products(self, text: str, limit: int = 3) -> List[Product]:
        """Products named in free text ("compare the iPhone 15 and the Pixel 8"), in order of mention."""
        return self.finder.find(text, limit=limit)

    def resolve_product(self, mention: str) -> Optional[Product]:
        """The product a mention extracted by NLU refers to ("pixel 8", "小米14"), or None."""
        return self.finder.resolve(mention)

    def resolve_feature(self, phrase: str) -> Optional[Feature]:
        return self.features.resolve(phrase)

    def find_features(self, text: str) -> List[Feature]:
        """Features named in free text; words that name a category ("camera") are left to the category."""
        return self.features.find_in_text(text, reserved=self.catalog.aliases._lookup["category"])

    def describe(self, product_id: str, feature_id: str) -> FeatureAnswer:
        """What the catalog knows about one feature of a product (possibly nothing)."""
        product = self._known(product_id)
        feature = self.features.features.get(feature_id)
        if feature is None:
            raise QueryError(f"unknown feature {feature_id!r}")
        return answer(product, feature)

    def compare(self, product_ids: List[str]) -> Comparison:
        """Two or three products side by side on the specs that matter for their category."""
        ids = list(dict.fromkeys(product_ids))
        if not 2 <= len(ids) <= 3:
            raise QueryError(f"compare needs two or three different products, got {len(ids)}")
        return compare([self._known(pid) for pid in ids])

    def accessories(self, product_id: str, k: int = 5) -> List[Product]:
        """In-stock accessories whose compatibility links name the product, best rated first."""
        self._known(product_id)
        fitting = [p for p in map(self.catalog.get, self.catalog.accessories_for(product_id)) if p.in_stock]
        return sorted(fitting, key=lambda p: (-(p.rating or 0.0), p.price, p.id))[:k]

    def _known(self, product_id: str) -> Product:
        product = self.catalog.get(product_id)
        if product is None:
            raise QueryError(f"unknown product id {product_id!r}")
        return product

    # -- what we store about a shopper -------------------------------------------
    def shopper_data(self, user_id: str) -> List[StoredEvent]:
        """Every event stored about the shopper, oldest first (what "show my data" shows)."""
        frame = self.store.events_frame(user_id)
        return [
            StoredEvent(timestamp=row.timestamp.isoformat(), event_type=row.event_type, product=self.catalog.get(row.item_id),
                        value=None if row.value is None or row.value != row.value else float(row.value))
            for row in frame.itertuples(index=False) if row.item_id in self.catalog
        ]

    def forget(self, user_id: str) -> int:
        """Erase the shopper: their events in the database, and what this process kept of them.

        Other processes see the empty history at the shopper's next request; the
        shopper's rows in the trained models stay until the next training but are
        never used again (their events are no longer those the models saw).
        Returns how many events were deleted.
        """
        if not user_id:
            raise QueryError("forgetting needs a shopper id")
        deleted = self.store.forget_user(user_id)
        self.shoppers.forget(user_id)
        return deleted

    def _validate(self, query: RecommendationQuery) -> None:
        if query.category is not None and query.category not in CATEGORIES:
            raise QueryError(f"unknown category {query.category!r}")
        if query.prefer is not None and query.prefer not in self.features.features:
            raise QueryError(f"unknown feature {query.prefer!r}")
        for brand in (query.brand, *query.exclude_brands):
            if brand is not None and brand not in self.catalog.aliases.brands:
                raise QueryError(f"unknown brand {brand!r}")
        unknown = [item for item in query.exclude_items if item not in self.catalog]
        if unknown:
            raise QueryError(f"unknown product id {unknown[0]!r}")
        for name in ("min_price", "max_price"):
            value = getattr(query, name)
            if value is not None and (not np.isfinite(value) or value < 0):
                raise QueryError(f"{name} must be a non-negative number, got {value!r}")
        if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
            raise QueryError(f"min_price {query.min_price} is above max_price {query.max_price}")
        if not 1 <= query.k <= MAX_RESULTS:
            raise QueryError(f"k must be between 1 and {MAX_RESULTS}, got {query.k}")
