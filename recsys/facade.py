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
from typing import List, Optional

import numpy as np
import scipy.sparse as sp

from recsys.artifacts import ArtifactMetadata, ids_hash
from recsys.catalog import CATEGORIES, Catalog, Product
from recsys.events import Interactions, data_hash, load_events
from recsys.models import ALSModel, ArtifactError, PopularityModel, RecommenderModel
from recsys.reasons import Reason
from recsys.settings import Settings
from recsys.simulate import SimulationParams, simulate_events

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
    """Catalog + histories + models, with constraint-respecting recommendations."""

    def __init__(
        self,
        catalog: Catalog,
        interactions: Interactions,
        collaborative: RecommenderModel,
        popularity: PopularityModel,
    ) -> None:
        self.catalog = catalog
        self.interactions = interactions
        self.collaborative = collaborative
        self.popularity = popularity
        self._user_index = interactions.user_index

    # -- construction ------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None, train_if_missing: bool = True) -> "Recommender":
        """Load trained models; train them first when they are missing or stale and that is allowed."""
        settings = settings or Settings.from_env()
        catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
        try:
            return cls._load(settings, catalog)
        except ArtifactError as exc:
            if not train_if_missing:
                raise
            logger.info("training the recommender: %s", exc)
            return cls.train(settings, catalog)

    @classmethod
    def _load(cls, settings: Settings, catalog: Catalog) -> "Recommender":
        metadata = ArtifactMetadata.read(settings.model_dir)
        if not settings.events_path.exists():
            raise ArtifactError(f"event log {settings.events_path} is missing")
        events = load_events(settings.events_path)
        metadata.check_matches(ids_hash(catalog.ids), data_hash(events), settings.model_dir)
        interactions = Interactions.from_events(events, catalog.ids)
        collaborative = ALSModel.load(settings.model_dir)
        popularity = PopularityModel.load(settings.model_dir)
        for model in (collaborative, popularity):
            if model.n_items != len(catalog):
                raise ArtifactError(f"{model.name} model has {model.n_items} items, catalog has {len(catalog)}")
        return cls(catalog, interactions, collaborative, popularity)

    @classmethod
    def train(cls, settings: Settings, catalog: Optional[Catalog] = None, show_progress: bool = True) -> "Recommender":
        """Fit every model on the event log (simulating a demo log if there is none) and save them."""
        catalog = catalog or Catalog.load(settings.catalog_path, settings.aliases_path)
        if not settings.events_path.exists():
            logger.info("no event log at %s: simulating a demo log (synthetic shoppers)", settings.events_path)
            settings.events_path.parent.mkdir(parents=True, exist_ok=True)
            simulated = simulate_events(catalog, SimulationParams(seed=settings.seed), show_progress=show_progress)
            tmp = settings.events_path.with_suffix(".tmp")
            simulated.to_csv(tmp, index=False)
            tmp.replace(settings.events_path)
        events = load_events(settings.events_path)
        interactions = Interactions.from_events(events, catalog.ids)
        started = time.perf_counter()
        popularity = PopularityModel().fit(interactions)
        collaborative = ALSModel(random_state=settings.seed).fit(interactions, show_progress=show_progress)
        fit_seconds = time.perf_counter() - started
        settings.model_dir.mkdir(parents=True, exist_ok=True)
        (settings.model_dir / "metadata.json").unlink(missing_ok=True)
        for model in (popularity, collaborative):
            model.save(settings.model_dir)
        ArtifactMetadata(
            catalog_hash=ids_hash(catalog.ids),
            events_hash=data_hash(events),
            n_users=len(interactions.user_ids),
            n_items=len(catalog),
            models={m.name: m.params() for m in (popularity, collaborative)},
            metrics={"fit_seconds": round(fit_seconds, 3)},
        ).write(settings.model_dir)
        logger.info(
            "trained on %d events from %d shoppers over %d products in %.1fs",
            len(events), len(interactions.user_ids), len(catalog), fit_seconds,
        )
        return cls(catalog, interactions, collaborative, popularity)

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
        user = self._user_index.get(query.user_id) if query.user_id is not None else None
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
