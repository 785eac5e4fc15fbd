"""The one entry point every client uses: :class:`Recommender`.

It owns the catalog, the database, the shoppers' interaction histories and
the hybrid of fitted models, and turns a :class:`RecommendationQuery` into
products that satisfy the shopper's hard constraints, each with a
:class:`~recsys.reasons.Reason`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Set, Tuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.artifacts import ArtifactMetadata, ids_hash, metadata_stamp, read_user_ids, write_user_ids
from recsys.catalog import CATEGORIES, Catalog, Product
from recsys.ensemble import EnsembleModel
from recsys.events import EVENT_WEIGHTS, Interactions, data_hash, disliked_items, is_dislike, rating_weight
from recsys.features import item_feature_matrix
from recsys.hybrid import HybridRanker, RankedItem
from recsys.models import MODEL_CLASSES, ArtifactError, RecommenderModel
from recsys.reasons import Reason
from recsys.products import ProductFinder
from recsys.settings import Settings
from recsys.specs import Comparison, Feature, FeatureAnswer, FeatureTable, answer, compare, prefer_feature
from recsys.store import Store, open_store

logger = logging.getLogger(__name__)

MAX_RESULTS = 50
#: With a preferred feature, candidates are the top ``k * FEATURE_POOL`` for the shopper, re-ordered by it.
FEATURE_POOL = 4
#: "Similar to X" blends what X is (content) with what shoppers view beside it (item co-occurrence),
#: equally: the learned weights answer another question (what a shopper picks next) and give content
#: no say once histories exist, yet similarity must work for a product nobody has touched.
SIMILARITY_WEIGHTS = {"content": 1.0, "item_knn": 1.0}


class QueryError(ValueError):
    """A query or event the recommender refuses (unknown category or product, min above max...)."""


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
    #: Brands the shopper has had enough of ("another brand", "换个牌子").
    exclude_brands: Tuple[str, ...] = ()
    #: Products just shown that the shopper asked past ("cheaper", "more options"): show others.
    exclude_items: Tuple[str, ...] = ()
    #: What matters most to the shopper (feature ids of ``features.yml``: "battery", "gaming"):
    #: among the best candidates for them, the strongest on it come first.
    prefer: Optional[str] = None


@dataclass(frozen=True)
class Recommendation:
    product: Product
    score: float
    reason: Reason


@dataclass(frozen=True)
class StoredEvent:
    """One thing stored about a shopper, as they may see it."""

    timestamp: str
    event_type: str
    product: Product
    value: Optional[float]


class Recommender:
    """Catalog + database + hybrid ranker, with constraint-respecting recommendations."""

    def __init__(self, catalog: Catalog, store: Store, interactions: Interactions, ranker: HybridRanker,
                 model_users: List[str], settings: Settings, disliked: Optional[Dict[str, Set[int]]] = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.interactions = interactions
        #: Per shopper, the products they rated 2 stars or less: never recommended to them again.
        self._disliked: Dict[str, Set[int]] = disliked or {}
        self.ranker = ranker
        self._user_index = interactions.user_index
        #: Row of each shopper in the models' user factors (the shoppers they were trained on).
        self._model_user_index: Dict[str, int] = self._index_model_users(model_users)
        #: Shoppers with events since training: their stored factors are stale, so they are folded in.
        self._changed_users: Set[str] = set()
        #: When the serving artefacts were written (see :meth:`models_changed`).
        self._loaded_stamp: Optional[float] = metadata_stamp(settings.model_dir)

    def _index_model_users(self, model_users: List[str]) -> Dict[str, int]:
        """Each trained shopper's row in the models' user factors, for shoppers who still have events:
        a shopper who asked to be forgotten keeps a row in the files until the next training, never in use."""
        return {u: i for i, u in enumerate(model_users) if u in self._user_index}

    @property
    def models(self) -> Mapping[str, RecommenderModel]:
        return self.ranker.models

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
        ranker, model_users = cls._read_models(settings, catalog)
        interactions, disliked = cls._shopper_state(store, catalog)
        return cls(catalog, store, interactions, ranker, model_users, settings, disliked)

    @staticmethod
    def _read_models(settings: Settings, catalog: Catalog) -> Tuple[HybridRanker, List[str]]:
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
        return ranker, read_user_ids(settings.model_dir)

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
            ranker, model_users = self._read_models(self.settings, self.catalog)
        except ArtifactError as exc:
            logger.error("kept the current models; the new artefacts were refused: %s", exc)
            return False
        self.ranker = ranker
        self._model_user_index = self._index_model_users(model_users)
        logger.info("reloaded models from %s", self.settings.model_dir)
        return True

    @staticmethod
    def _shopper_state(store: Store, catalog: Catalog, events: Optional[pd.DataFrame] = None) -> Tuple[Interactions, Dict[str, Set[int]]]:
        """What the database says about shoppers: the interaction matrix and each shopper's dislikes."""
        events = store.events_frame() if events is None else events
        interactions = Interactions.from_events(events, catalog.ids).with_item_features(item_feature_matrix(catalog))
        return interactions, disliked_items(events, catalog.index)

    @classmethod
    def train(cls, settings: Settings, catalog: Optional[Catalog] = None, store: Optional[Store] = None,
              show_progress: bool = True) -> "Recommender":
        """Fit every model, learn the blend weights on held-out last items, refit on everything, save."""
        catalog = catalog or Catalog.load(settings.catalog_path, settings.aliases_path)
        store = store or open_store(settings, catalog)
        events = store.events_frame()
        interactions, disliked = cls._shopper_state(store, catalog, events)
        started = time.perf_counter()
        # The same fitting the offline benchmarks measure: members fitted on all but each shopper's last
        # product, weights learned on those, members refitted on everything.
        ensemble = EnsembleModel(members="+".join(settings.models), validation_users=settings.validation_shoppers,
                                 objective="full", refit=True, random_state=settings.seed).fit(interactions)
        total_seconds = time.perf_counter() - started
        models, weights = dict(ensemble.ranker.models), ensemble.weights
        settings.model_dir.mkdir(parents=True, exist_ok=True)
        (settings.model_dir / "metadata.json").unlink(missing_ok=True)
        for model in models.values():
            model.save(settings.model_dir)
        write_user_ids(settings.model_dir, interactions.user_ids)
        ArtifactMetadata(
            catalog_hash=ids_hash(catalog.ids),
            events_hash=data_hash(events),
            n_events=len(events),
            n_users=len(interactions.user_ids),
            n_items=len(catalog),
            models={name: model.params() for name, model in models.items()},
            weights=weights,
            validation={"ndcg@10": round(ensemble.validation_score, 4), "max_shoppers": settings.validation_shoppers, "objective": "full"},
            metrics={"train_seconds": round(total_seconds, 3),
                     **{f"fit_seconds.{k}": v for k, v in ensemble.fit_seconds.items()}},
        ).write(settings.model_dir)
        logger.info("trained %s on %d events from %d shoppers over %d products in %.1fs; weights %s",
                    ", ".join(models), len(events), len(interactions.user_ids), len(catalog), total_seconds, weights)
        return cls(catalog, store, interactions, HybridRanker(models, weights), interactions.user_ids, settings, disliked)

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
        position = self.catalog.index[product_id]
        self.interactions = self.interactions.with_event(user_id, position, weight)
        if event_type == "rating":  # the latest rating decides: a later good one lifts a dislike
            if is_dislike(value):
                self._disliked.setdefault(user_id, set()).add(position)
            else:
                self._disliked.get(user_id, set()).discard(position)
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

    def sequence(self, user_id: Optional[str]) -> np.ndarray:
        """The items the shopper touched, oldest first."""
        position = self._user_index.get(user_id) if user_id is not None else None
        if position is None or self.interactions.sequences is None:
            return np.empty(0, dtype=np.int64)
        return self.interactions.sequences[position]

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
        disliked = self._disliked.get(query.user_id) if query.user_id is not None else None
        if disliked:
            allowed[list(disliked)] = False
        if query.exclude_items:
            allowed[[self.catalog.index[item] for item in query.exclude_items]] = False
        history = self.history(query.user_id)
        sequence = self.sequence(query.user_id)
        user = None if query.user_id in self._changed_users else self._model_user_index.get(query.user_id)
        feature = self.features.features.get(query.prefer) if query.prefer else None
        pool = min(MAX_RESULTS, query.k * FEATURE_POOL) if feature else query.k
        ranked = self.ranker.rank(
            history, allowed, pool, user=user, sequence=sequence, exclude_seen=query.exclude_seen,
            brands=self.catalog.brand_codes, max_per_brand=None if query.brand else max(2, pool // 3),
        )
        explainer = _HistoryByCategory(history, sequence, self.catalog.category_codes)
        recommendations = [
            Recommendation(self.catalog.products[r.item], r.score, self._reason(query, explainer, r)) for r in ranked
        ]
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
        if getattr(self, "_finder", None) is None:
            self._finder = ProductFinder(self.catalog)
        return self._finder

    @property
    def features(self) -> FeatureTable:
        if getattr(self, "_features", None) is None:
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
        if getattr(self, "_accessories", None) is None:
            index: Dict[str, List[Product]] = {}
            for accessory_id, target in self.catalog.links:
                index.setdefault(target, []).append(self.catalog.get(accessory_id))
            self._accessories = index
        fitting = [p for p in self._accessories.get(product_id, []) if p.in_stock]
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
        """Erase the shopper: their events in the database and their history in memory.

        Their rows in the trained models stay until the next training but are
        never used again: the shopper is treated as new from now on.
        Returns how many events were deleted.
        """
        if not user_id:
            raise QueryError("forgetting needs a shopper id")
        deleted = self.store.forget_user(user_id)
        if user_id in self._user_index:
            self.interactions, self._disliked = self._shopper_state(self.store, self.catalog)
            self._user_index = self.interactions.user_index
        self._disliked.pop(user_id, None)
        self._model_user_index.pop(user_id, None)
        self._changed_users.discard(user_id)
        return deleted

    def _reason(self, query: RecommendationQuery, shopper: "_HistoryByCategory", ranked: RankedItem) -> Reason:
        """The reason of the model that contributed most; an anchor item is always of the same category."""
        speaker = max(ranked.contributions, key=ranked.contributions.get)
        if speaker == "popularity" or ranked.contributions[speaker] <= 0:
            return self._popular_reason(query)
        if self.models[speaker].uses_sequence:
            # The latest product of the same category the shopper touched: "after X" explains a phone by a phone.
            latest = shopper.latest(ranked.item)
            if latest is not None and latest != ranked.item:
                return Reason("next_after", {"item": self.catalog.products[latest].id})
            return Reason("matches_your_taste")
        anchor = self.models[speaker].explain(shopper.history(ranked.item), ranked.item)
        if anchor is not None and anchor != ranked.item:
            code = "similar_to" if speaker == "content" else "because_you_liked"
            return Reason(code, {"item": self.catalog.products[anchor].id})
        return Reason("matches_your_taste")

    @staticmethod
    def _popular_reason(query: RecommendationQuery) -> Reason:
        params = {key: value for key, value in (("category", query.category), ("brand", query.brand), ("max_price", query.max_price)) if value is not None}
        return Reason("popular", params)

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


class _HistoryByCategory:
    """One shopper's history split by category, built once per category a query's results need
    (explaining ten phones must not rebuild the phone history ten times)."""

    def __init__(self, history: sp.csr_matrix, sequence: np.ndarray, category_codes: np.ndarray) -> None:
        self._history = history
        self._sequence = np.asarray(sequence, dtype=np.int64)
        self._codes = category_codes
        self._rows: Dict[int, sp.csr_matrix] = {}

    def history(self, item: int) -> sp.csr_matrix:
        """The history row restricted to ``item``'s category."""
        code = int(self._codes[item])
        if code not in self._rows:
            keep = self._codes[self._history.indices] == code
            columns = self._history.indices[keep]
            self._rows[code] = sp.csr_matrix((self._history.data[keep], columns, [0, columns.size]), shape=self._history.shape)
        return self._rows[code]

    def latest(self, item: int) -> Optional[int]:
        """The shopper's most recent product of ``item``'s category, if any."""
        same = self._sequence[self._codes[self._sequence] == self._codes[item]] if self._sequence.size else self._sequence
        return int(same[-1]) if same.size else None
