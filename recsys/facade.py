"""The one entry point every client uses: :class:`Recommender`.

It joins the catalog, the database (the one truth about shoppers, through
:class:`~recsys.shoppers.ShopperBook`) and the hybrid of fitted models, and turns
a :class:`~recsys.queries.RecommendationQuery` into products that satisfy the
shopper's hard constraints, each with a :class:`~recsys.reasons.Reason`
(:mod:`recsys.explain`).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from recsys.artifacts import artifact_stamp, unpublish_sets
from recsys.catalog import CATEGORIES, Catalog, Product
from recsys.explain import Explainer
from recsys.health import Health, health_of
from recsys.hybrid import HybridRanker
from recsys.ingest import EventInput, EventOutcome, EventRejected, check_event, new_event_id, shopper_key
from recsys.live_catalog import CatalogView, LiveCatalog
from recsys.market import MarketCounters
from recsys.model_sets import FittedSet, fit_set, read_model_set, save_set
from recsys.models import ArtifactError, RecommenderModel
from recsys.products import ProductFinder
from recsys.queries import MAX_RESULTS, QueryError, Recommendation, RecommendationQuery, StoredEvent
from recsys.reasons import Reason
from recsys.retraining import RetrainScheduler, RetrainStatus, read_status, start_retrain
from recsys.settings import Settings
from recsys.serving import LiveModels, ServingModels
from recsys.shoppers import Shopper, ShopperBook, Snapshot
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
#: How far (in z units of every weighted model at once) an accessory of something the shopper bought is raised:
#: enough to lead a list that may hold accessories, never past a hard constraint.
ACCESSORY_BOOST = 3.0


class Recommender:
    """Catalog + database + hybrid ranker, with constraint-respecting recommendations.

    Holds no shopper state of its own: every request asks the database whether the
    shopper changed (:class:`~recsys.shoppers.ShopperBook`), so several processes on
    one database answer alike.
    """

    def __init__(self, catalog: Catalog, store: Store, serving: ServingModels, settings: Settings,
                 shoppers: ShopperBook) -> None:
        self.settings = settings
        self.store = store
        self.shoppers = shoppers
        #: The committed catalog plus every product change in the database (:mod:`recsys.live_catalog`).
        self.live_catalog = LiveCatalog(catalog, store)
        #: The last hour's events, for popularity that moves with the market (:mod:`recsys.market`).
        self.market = MarketCounters(store)
        self._live = LiveModels()
        self._serving = serving
        self._finder: Optional[Tuple[int, ProductFinder]] = None
        self._features: Optional[FeatureTable] = None
        self._scheduler = None
        self._reload_lock = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        """The catalog as this process serves it now (changes made anywhere arrive on the next request)."""
        return self.live_catalog.view.catalog

    @property
    def ranker(self) -> HybridRanker:
        """The hybrid of the artefact set serving now (as trained: not stretched over new products)."""
        return self._serving.ranker

    @property
    def models(self) -> Mapping[str, RecommenderModel]:
        return self._serving.models

    def _view(self) -> CatalogView:
        """The catalog with every change committed anywhere; shoppers are rebuilt over it when it grew."""
        view = self.live_catalog.sync()
        if self.shoppers.width != len(view.catalog):
            self.shoppers.use_catalog(view.catalog)
        return view

    def _current(self) -> Tuple[ServingModels, CatalogView, HybridRanker]:
        """What one request uses, taken once at its start: the artefact set (a newer one swapped in
        first), the catalog with every change committed anywhere, and the ranker fitted to both and to
        the market. A swap by another thread mid-request cannot mix sets: the request holds its own."""
        view = self._view()
        self.reload_if_changed()
        serving = self._serving
        version = self.market.refresh()
        ranker = self._live.ranker(serving, view, version,
                                   lambda catalog: self.market.as_array(catalog.index, len(catalog)))
        return serving, view, ranker

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
        live = LiveCatalog(catalog, store).view.catalog  # the models may know products added since
        shoppers = ShopperBook(store, live)
        serving = read_model_set(settings, live, shoppers)
        recommender = cls(catalog, store, serving, settings, shoppers)
        recommender._start_scheduler()
        return recommender

    def models_changed(self) -> bool:
        """Whether a finished set of artefacts other than the one serving is published.

        ``metadata.json`` is written last by training and ``CURRENT`` names a finished set, so the
        stamp (set directory, metadata time) marks a complete set.
        """
        stamp = artifact_stamp(self.settings.model_dir)
        return stamp is not None and stamp != self._serving.stamp and stamp != self._refused

    _refused: Optional[Tuple[str, float]] = None

    def reload_if_changed(self) -> bool:
        """Swap in newer artefacts if training published some; a refused set is not retried until it changes again."""
        if not self.models_changed():
            return False
        with self._reload_lock:  # one thread loads; the others keep serving the set they hold
            if not self.models_changed():
                return False
            return self.reload_models()

    def reload_models(self) -> bool:
        """Serve the artefacts now published in the model directory (after a retrain elsewhere).

        A corrupt, incomplete or mismatched set is refused with an error in the
        log and the models already in memory keep serving: a bad file never
        takes recommendations down. Returns whether the new models were taken.
        """
        stamp = artifact_stamp(self.settings.model_dir)
        try:
            serving = read_model_set(self.settings, self.live_catalog.sync().catalog, self.shoppers)
        except ArtifactError as exc:
            logger.error("kept the current models; the new artefacts were refused: %s", exc)
            self._refused = stamp
            return False
        self._serving = serving
        logger.info("reloaded models from %s (trained %s on %d events)", serving.directory,
                    serving.metadata.created_at, serving.metadata.n_events)
        return True

    @classmethod
    def train(cls, settings: Settings, catalog: Optional[Catalog] = None, store: Optional[Store] = None,
              show_progress: bool = True, seed: bool = True,
              fit: Callable[[Settings, Catalog, Snapshot], FittedSet] = fit_set) -> "Recommender":
        """Fit every model on the database's events and save them in place in the model directory.

        Without a ``store``, the database is opened (and, with ``seed``, an empty one seeded) first.
        ``fit`` is the training engine, given the live catalog and the events snapshot: this process
        (:func:`~recsys.model_sets.fit_set`) or Spark (:mod:`recsys.spark.pipeline`); either way the set
        is written by :func:`~recsys.model_sets.save_set`. The set written in place is the one served
        from then on (a published set's pointer is removed); background retraining
        (:mod:`recsys.retraining`) writes a new set beside it instead.
        """
        catalog = catalog or Catalog.load(settings.catalog_path, settings.aliases_path)
        store = store or cls._open_store(settings, catalog, seed)
        live = LiveCatalog(catalog, store).view.catalog
        snapshot = Snapshot.read(store, live, live.ids)
        serving = save_set(settings, live, snapshot, fit(settings, live, snapshot), settings.model_dir)
        unpublish_sets(settings.model_dir)
        serving = replace(serving, stamp=artifact_stamp(settings.model_dir))
        shoppers = ShopperBook(store, live, snapshot)
        shoppers.use_trained(list(serving.trained.values()), snapshot.events_hash)
        return cls(catalog, store, serving, settings, shoppers)

    # -- events --------------------------------------------------------------
    def record_event(self, user_id: str, product_id: str, event_type: str, value: Optional[float] = None,
                     session_id: Optional[str] = None) -> None:
        """Store one shopper event (the chat's path); every process's next recommendation reflects it.

        The same checks and storage as the shop API's batches (:meth:`record_events`): an unknown
        product or type, or a rating outside 1..5, raises :class:`QueryError` and nothing is written.
        """
        if not user_id:
            raise QueryError("an event needs a shopper id")
        # The chat's next turn is about this shopper: the writer pays for the rebuild (``rebuild``).
        outcome, = self.record_events([EventInput(type=event_type, product_id=product_id, user_id=user_id,
                                                  session_id=session_id, value=value, event_id=new_event_id())],
                                      rebuild=True)
        if outcome.status == "rejected":
            raise QueryError(outcome.error)

    def record_events(self, events: Sequence[EventInput], rebuild: bool = False) -> List[EventOutcome]:
        """Check and store a batch in one transaction; one :class:`EventOutcome` per event, in order.

        A rejected event stores nothing and names its field; the valid ones are stored, each
        ``event_id`` once. An event with both a user and a session id moves the session's earlier
        events to the user.
        """
        outcomes: List[Optional[EventOutcome]] = [None] * len(events)
        rows, positions, merges = [], [], {}
        now = datetime.now(timezone.utc)
        for position, event in enumerate(events):
            try:
                rows.append(check_event(event, self.catalog.__contains__, now))
            except EventRejected as exc:
                outcomes[position] = EventOutcome("rejected", event.event_id, exc.field, exc.message)
                continue
            positions.append(position)
            if event.user_id and event.session_id:
                merges[shopper_key(None, event.session_id)] = event.user_id
        stored = self.store.insert_events(rows, list(merges.items())) if rows else []
        for position, row, is_new in zip(positions, rows, stored):
            outcomes[position] = EventOutcome("stored" if is_new else "duplicate", row["event_id"])
        if rebuild:
            for user_id in {row["user_id"] for row in rows} | set(merges.values()):
                self.shoppers.refresh(user_id)
        # Otherwise each shopper is rebuilt by the next request about them, in whichever process, when it
        # reads a changed fingerprint: an ingestion endpoint must not pay for recommendations nobody asked.
        return outcomes

    # -- queries -----------------------------------------------------------
    def product(self, product_id: str) -> Optional[Product]:
        """The product as stored now (a deleted one too: shoppers' histories still show it)."""
        return self.live_catalog.sync().catalog.get(product_id)

    def is_deleted(self, product_id: str) -> bool:
        return self.live_catalog.sync().is_deleted(product_id)

    def history(self, user_id: Optional[str]) -> sp.csr_matrix:
        """The shopper's interaction row as the database says now (empty for a shopper we have never seen)."""
        self._view()
        return self.shoppers.get(user_id).history

    def sequence(self, user_id: Optional[str]) -> np.ndarray:
        """The items the shopper touched, oldest first."""
        self._view()
        return self.shoppers.get(user_id).sequence

    def recommend(self, query: RecommendationQuery) -> List[Recommendation]:
        """Best products for the query, personalised when the shopper has a history.

        Hard constraints (category, brand, price range, stock) are never
        relaxed here; an empty list means nothing in the catalog fits, and the
        caller decides what to tell the shopper.
        """
        serving, view, ranker = self._current()
        catalog = view.catalog
        self._validate(query, catalog)
        allowed = catalog.mask(
            category=query.category, brand=query.brand, min_price=query.min_price,
            max_price=query.max_price, in_stock_only=query.in_stock_only,
        ) & view.live
        for brand in query.exclude_brands:
            allowed &= catalog.brands != brand
        shopper = self.shoppers.get(query.user_id)
        if shopper.disliked:
            allowed[list(shopper.disliked)] = False
        if shopper.purchased:
            allowed[list(shopper.purchased)] = False
        if query.exclude_items:
            allowed[[catalog.index[item] for item in query.exclude_items]] = False
        boost, extra = self._accessory_boost(shopper, catalog)
        feature = self.features.features.get(query.prefer) if query.prefer else None
        pool = min(MAX_RESULTS, query.k * FEATURE_POOL) if feature else query.k
        ranked = ranker.rank(
            shopper.history, allowed, pool, user=self.shoppers.model_row(shopper, serving.trained),
            sequence=shopper.sequence, exclude_seen=query.exclude_seen, brands=catalog.brand_codes,
            max_per_brand=None if query.brand else max(2, pool // 3), boost=boost,
        )
        explainer = Explainer(ranker.models, catalog, shopper.history, shopper.sequence, query, extra)
        recommendations = [Recommendation(catalog.products[r.item], r.score, explainer.reason(r)) for r in ranked]
        if feature is not None:
            recommendations = prefer_feature(recommendations, feature)
        if extra and query.category is None:
            recommendations = self._with_one_accessory(recommendations, extra, allowed, shopper, catalog, query.k)
        return recommendations[:query.k]

    @staticmethod
    def _with_one_accessory(recommendations: List[Recommendation], fitting: Dict[int, Reason], allowed: np.ndarray,
                            shopper: Shopper, catalog: Catalog, k: int) -> List[Recommendation]:
        """An open list ("what would you recommend?") for a shopper who bought something holds one thing
        that fits it: second, so their top pick stays first, if the boost alone did not bring one in."""
        if any(r.reason.code == "fits_purchase" for r in recommendations):
            return recommendations
        seen = set(shopper.history.indices.tolist())
        candidates = [p for p in fitting if allowed[p] and p not in seen]
        if not candidates:
            return recommendations
        best = max(candidates, key=lambda p: (catalog.products[p].rating or 0.0, -catalog.products[p].price))
        chosen = Recommendation(catalog.products[best], 0.0, fitting[best])
        return [*recommendations[:1], chosen, *recommendations[1:]][:k]

    @staticmethod
    def _accessory_boost(shopper: Shopper, catalog: Catalog) -> Tuple[Optional[np.ndarray], Dict[int, Reason]]:
        """Accessories that fit what the shopper bought, raised by :data:`ACCESSORY_BOOST`, with their reason."""
        if not shopper.purchased:
            return None, {}
        boost = np.zeros(len(catalog), dtype=np.float64)
        reasons: Dict[int, Reason] = {}
        for bought in sorted(shopper.purchased):
            bought_id = catalog.products[bought].id
            for accessory_id in catalog.accessories_for(bought_id):
                position = catalog.index[accessory_id]
                boost[position] = ACCESSORY_BOOST
                reasons.setdefault(position, Reason("fits_purchase", {"item": bought_id}))
        return (boost, reasons) if reasons else (None, {})

    def similar(self, product_id: str, k: int = 5, same_category: bool = True, max_price: Optional[float] = None,
                in_stock_only: bool = True) -> List[Recommendation]:
        """Products like ``product_id``, as the hybrid sees a shopper who has just looked at it.

        Content similarity makes this work for a product nobody has bought
        yet; co-occurrence and the sequence model add what shoppers pick
        around it. The reason names the product itself.
        """
        _serving, view, ranker = self._current()
        catalog = view.catalog
        index = catalog.index.get(product_id)
        if index is None or index in view.deleted:
            raise QueryError(f"unknown product id {product_id!r}")
        if not 1 <= k <= MAX_RESULTS:
            raise QueryError(f"k must be between 1 and {MAX_RESULTS}, got {k}")
        product = catalog.products[index]
        allowed = catalog.mask(category=product.category if same_category else None, max_price=max_price,
                               in_stock_only=in_stock_only) & view.live
        history = sp.csr_matrix((np.ones(1, dtype=np.float32), ([0], [index])), shape=(1, len(catalog)))
        weights = {name: w for name, w in SIMILARITY_WEIGHTS.items() if name in ranker.models}
        if not weights:
            weights = dict(ranker.weights)
        ranked = HybridRanker(ranker.models, weights).rank(history, allowed, k, sequence=np.array([index]), exclude_seen=True)
        return [Recommendation(catalog.products[r.item], r.score, Reason("similar_to", {"item": product_id}))
                for r in ranked]

    # -- products by name, details, comparisons, accessories ---------------------
    @property
    def finder(self) -> ProductFinder:
        """The product finder over the catalog as it is now (rebuilt after products change)."""
        view = self.live_catalog.sync()
        if self._finder is None or self._finder[0] != view.seq:
            self._finder = (view.seq, ProductFinder(view.catalog))
        return self._finder[1]

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
        view = self.live_catalog.view
        fitting = [p for p in map(view.catalog.get, view.catalog.accessories_for(product_id))
                   if p.in_stock and not view.is_deleted(p.id)]
        return sorted(fitting, key=lambda p: (-(p.rating or 0.0), p.price, p.id))[:k]

    def _known(self, product_id: str) -> Product:
        view = self.live_catalog.sync()
        product = view.catalog.get(product_id)
        if product is None or view.is_deleted(product_id):
            raise QueryError(f"unknown product id {product_id!r}")
        return product

    # -- the shop changes its catalog ------------------------------------------------
    def upsert_product(self, record: Mapping[str, object]) -> Product:
        """Add or change a product (a catalog row, as ``products.jsonl`` holds them).

        Validated as the catalog file's rows are; a bad record raises :class:`QueryError`
        naming the field and writes nothing. Every process serves the change from its next
        request: a new product through the content model and popularity, with no retrain.
        """
        return self.live_catalog.upsert(record)

    def delete_product(self, product_id: str) -> None:
        """Withdraw a product: never recommended again by any process; shoppers' events keep it."""
        self.live_catalog.delete(product_id)

    # -- retraining and health ---------------------------------------------------------
    def start_retrain(self) -> RetrainStatus:
        """Start a full retrain in a separate process (:mod:`recsys.retraining`); returns its status
        at once. Every serving process swaps the new set in on its next request."""
        return start_retrain(self.settings, self.store)

    def retrain_status(self) -> RetrainStatus:
        return read_status(self.store)

    def health(self) -> Health:
        """What serves now: models, when and on how many events they were trained, catalog, database, retrain."""
        return health_of(self)

    def _start_scheduler(self) -> None:
        """With ``DAOGOU_RETRAIN_EVERY`` set, a daemon thread that starts the deployment's scheduled retrains
        (one per deployment: a lease row in the database decides which process starts each)."""
        if self.settings.retrain_every:
            self._scheduler = RetrainScheduler(self.settings, self.store)
            self._scheduler.start()

    # -- what we store about a shopper -------------------------------------------
    def shopper_data(self, user_id: str) -> List[StoredEvent]:
        """Every event stored about the shopper, oldest first (what "show my data" shows)."""
        frame = self.store.events_frame(user_id)
        catalog = self.live_catalog.sync().catalog
        return [
            StoredEvent(timestamp=row.timestamp.isoformat(), event_type=row.event_type, product=catalog.get(row.item_id),
                        value=None if row.value is None or row.value != row.value else float(row.value))
            for row in frame.itertuples(index=False) if row.item_id in catalog
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

    def _validate(self, query: RecommendationQuery, catalog: Catalog) -> None:
        if query.category is not None and query.category not in CATEGORIES:
            raise QueryError(f"unknown category {query.category!r}")
        if query.prefer is not None and query.prefer not in self.features.features:
            raise QueryError(f"unknown feature {query.prefer!r}")
        for brand in (query.brand, *query.exclude_brands):
            if brand is not None and brand not in catalog.aliases.brands:
                raise QueryError(f"unknown brand {brand!r}")
        unknown = [item for item in query.exclude_items if item not in catalog]
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
