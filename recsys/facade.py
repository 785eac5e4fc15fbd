"""The one entry point every client uses: :class:`Recommender`.

It owns the catalog, the shoppers' interaction histories and the fitted models,
and turns a :class:`RecommendationQuery` into products that satisfy the
shopper's hard constraints, each with a :class:`~recsys.reasons.Reason`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set

import numpy as np
import scipy.sparse as sp

from recsys.artifacts import ArtifactMetadata, ids_hash, read_user_ids, write_user_ids
from recsys.catalog import CATEGORIES, Catalog, Product
from recsys.events import EVENT_WEIGHTS, Interactions, data_hash, rating_weight
from recsys.models import ALSModel, ArtifactError, PopularityModel, RecommenderModel
from recsys.reasons import Reason
from recsys.settings import Settings
from recsys.store import Store, open_store

logger = logging.getLogger(__name__)

MAX_RESULTS = 50


class QueryError(ValueError):
    """A query the recommender cannot answer as asked (unknown category, min above max...)."""


@dataclass(frozen=True)
class RecommendationQuery:
    """What a shopper asked for. Categories and brands are canonical ids; prices are CNY."""

    user_id: Optional[str] = None
    category: Optional[str] = None
    brand: Optional[str] = None
    min_price: Optional[float] = None
    max_price: Optional[float] = None
    k: int = 5
    in_stock_only: bool = True
    exclude_seen: bool = True


@dataclass(frozen=True)
class Recommendation:
    product: Product
    score: float
    reason: Reason


class Recommender:
    """Catalog + database + models, with constraint-respecting recommendations."""

    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        interactions: Interactions,
        collaborative: RecommenderModel,
        popularity: PopularityModel,
        model_users: Sequence[str],
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.interactions = interactions
        self.collaborative = collaborative
        self.popularity = popularity
        self._user_index = interactions.user_index
        #: Row of each shopper in the collaborative model's user factors (shoppers it was trained on).
        self._model_user_index: Dict[str, int] = {u: i for i, u in enumerate(model_users)}
        #: Shoppers with events since training: their stored factors are stale, so they are folded in.
        self._changed_users: Set[str] = set()

    # -- construction ------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None, train_if_missing: bool = True) -> "Recommender":
        """Open the database (importing the catalog and seeding events as needed) and load the models.

        Models are trained when missing or made for another catalog, if that is allowed.
        """
        settings = settings or Settings.from_env()
        catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
        store = open_store(settings, catalog)
        try:
            return cls._load(settings, catalog, store)
        except ArtifactError as exc:
            if not train_if_missing:
                raise
            logger.info("training the recommender: %s", exc)
            return cls.train(settings, catalog, store)

    @classmethod
    def _load(cls, settings: Settings, catalog: Catalog, store: Store) -> "Recommender":
        metadata = ArtifactMetadata.read(settings.model_dir)
        metadata.check_catalog(ids_hash(catalog.ids), settings.model_dir)
        collaborative = ALSModel.load(settings.model_dir)
        popularity = PopularityModel.load(settings.model_dir)
        for model in (collaborative, popularity):
            if model.n_items != len(catalog):
                raise ArtifactError(f"{model.name} model has {model.n_items} items, catalog has {len(catalog)}")
        model_users = read_user_ids(settings.model_dir)
        interactions = Interactions.from_events(store.events_frame(), catalog.ids)
        return cls(catalog, store, interactions, collaborative, popularity, model_users)

    @classmethod
    def train(
        cls, settings: Settings, catalog: Optional[Catalog] = None, store: Optional[Store] = None, show_progress: bool = True
    ) -> "Recommender":
        """Fit every model on the events in the database and save them."""
        catalog = catalog or Catalog.load(settings.catalog_path, settings.aliases_path)
        store = store or open_store(settings, catalog)
        events = store.events_frame()
        interactions = Interactions.from_events(events, catalog.ids)
        started = time.perf_counter()
        popularity = PopularityModel().fit(interactions)
        collaborative = ALSModel(random_state=settings.seed).fit(interactions, show_progress=show_progress)
        fit_seconds = time.perf_counter() - started
        settings.model_dir.mkdir(parents=True, exist_ok=True)
        (settings.model_dir / "metadata.json").unlink(missing_ok=True)
        for model in (popularity, collaborative):
            model.save(settings.model_dir)
        write_user_ids(settings.model_dir, interactions.user_ids)
        ArtifactMetadata(
            catalog_hash=ids_hash(catalog.ids),
            events_hash=data_hash(events),
            n_events=len(events),
            n_users=len(interactions.user_ids),
            n_items=len(catalog),
            models={m.name: m.params() for m in (popularity, collaborative)},
            metrics={"fit_seconds": round(fit_seconds, 3)},
        ).write(settings.model_dir)
        logger.info(
            "trained on %d events from %d shoppers over %d products in %.1fs",
            len(events), len(interactions.user_ids), len(catalog), fit_seconds,
        )
        return cls(catalog, store, interactions, collaborative, popularity, interactions.user_ids)

    # -- events --------------------------------------------------------------
    def record_event(self, user_id: str, product_id: str, event_type: str, value: Optional[float] = None,
                     session_id: Optional[str] = None) -> None:
        """Store one shopper event and let it shape that shopper's next recommendations at once.

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
        weight = rating_weight(value) if event_type == "rating" else EVENT_WEIGHTS[event_type]
        self.interactions = self.interactions.with_event(user_id, self.catalog.index[product_id], weight)
        self._user_index = self.interactions.user_index
        self._changed_users.add(user_id)

    # -- queries -----------------------------------------------------------
    def product(self, product_id: str) -> Optional[Product]:
        return self.catalog.get(product_id)

    def history(self, user_id: Optional[str]) -> sp.csr_matrix:
        """The shopper's interaction row (empty for a shopper we have never seen)."""
        position = self._user_index.get(user_id) if user_id is not None else None
        if position is None:
            return sp.csr_matrix((1, len(self.catalog)), dtype=np.float32)
        return self.interactions.matrix[position]

    def recommend(self, query: RecommendationQuery) -> List[Recommendation]:
        """Best products for the query, personalised when the shopper has a history.

        Hard constraints (category, brand, price range, stock) are never
        relaxed here; an empty list means nothing in the catalog fits, and the
        caller decides what to tell the shopper.
        """
        self._validate(query)
        allowed = self.catalog.mask(
            category=query.category,
            brand=query.brand,
            min_price=query.min_price,
            max_price=query.max_price,
            in_stock_only=query.in_stock_only,
        )
        history = self.history(query.user_id)
        user = None if query.user_id in self._changed_users else self._model_user_index.get(query.user_id)
        personal = history.nnz > 0
        model: RecommenderModel = self.collaborative if personal else self.popularity
        items, scores = model.recommend(history, k=query.k, user=user, allowed=allowed, exclude_seen=query.exclude_seen)
        if personal and len(items) < query.k:
            # Fill with popular items the personal model did not rank (e.g. products nobody touched yet).
            taken = allowed.copy()
            taken[items] = False
            more, more_scores = self.popularity.recommend(history, k=query.k - len(items), allowed=taken, exclude_seen=query.exclude_seen)
            items, scores = np.concatenate([items, more]), np.concatenate([scores, more_scores])
            personal_count = len(items) - len(more)
        else:
            personal_count = len(items) if personal else 0
        results = []
        for rank, (item, score) in enumerate(zip(items, scores)):
            reason = self._reason(query, history, int(item)) if rank < personal_count else self._popular_reason(query)
            results.append(Recommendation(product=self.catalog.products[int(item)], score=float(score), reason=reason))
        return results

    def _reason(self, query: RecommendationQuery, history: sp.csr_matrix, item: int) -> Reason:
        """Name a past item of the same category: "liked this phone" explains a phone, not a laptop."""
        same_category = self.catalog.categories[history.indices] == self.catalog.categories[item]
        history = sp.csr_matrix(
            (history.data[same_category], (np.zeros(same_category.sum(), dtype=np.int32), history.indices[same_category])),
            shape=history.shape,
        )
        anchor = self.collaborative.explain(history, item)
        if anchor is not None and anchor != item:
            return Reason("because_you_liked", {"item": self.catalog.products[anchor].id})
        return Reason("matches_your_taste")

    @staticmethod
    def _popular_reason(query: RecommendationQuery) -> Reason:
        params = {key: value for key, value in (("category", query.category), ("brand", query.brand), ("max_price", query.max_price)) if value is not None}
        return Reason("popular", params)

    def _validate(self, query: RecommendationQuery) -> None:
        if query.category is not None and query.category not in CATEGORIES:
            raise QueryError(f"unknown category {query.category!r}")
        if query.brand is not None and query.brand not in self.catalog.aliases.brands:
            raise QueryError(f"unknown brand {query.brand!r}")
        for name in ("min_price", "max_price"):
            value = getattr(query, name)
            if value is not None and (not np.isfinite(value) or value < 0):
                raise QueryError(f"{name} must be a non-negative number, got {value!r}")
        if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
            raise QueryError(f"min_price {query.min_price} is above max_price {query.max_price}")
        if not 1 <= query.k <= MAX_RESULTS:
            raise QueryError(f"k must be between 1 and {MAX_RESULTS}, got {query.k}")
