"""Daogou's recommender: a library with one facade, :class:`Recommender`.

Every client (the Rasa actions, the shop-site API, the CLI, the benchmarks) goes
through the facade, so that constraints, fallbacks and reasons behave the same
everywhere. This package never imports Rasa.
"""
from recsys.catalog import Catalog, CatalogError, Product
from recsys.facade import Recommender
from recsys.health import Health
from recsys.ingest import EVENT_TYPES, EventInput, EventOutcome, shopper_key
from recsys.retraining import RetrainStatus
from recsys.queries import QueryError, Recommendation, RecommendationQuery, StoredEvent
from recsys.reasons import Reason
from recsys.settings import Settings
from recsys.specs import KEY_SPECS, Comparison, Feature, FeatureAnswer, feature_strength
from recsys.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "KEY_SPECS",
    "feature_strength",
    "Catalog",
    "CatalogError",
    "Comparison",
    "EVENT_TYPES",
    "EventInput",
    "EventOutcome",
    "Feature",
    "FeatureAnswer",
    "Health",
    "Product",
    "QueryError",
    "Reason",
    "RetrainStatus",
    "Recommendation",
    "RecommendationQuery",
    "Recommender",
    "Settings",
    "StoredEvent",
    "Taxonomy",
    "load_taxonomy",
    "shopper_key",
]
