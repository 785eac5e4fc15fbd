"""What clients ask the recommender and what it answers: the types at the facade's boundary.

They live apart from :class:`recsys.Recommender` so that modules which only
shape answers (:mod:`recsys.specs`, :mod:`recsys.explain`) need not import the
facade, and clients can type their code without loading any model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from recsys.catalog import Product
from recsys.reasons import Reason

#: The most products one answer may hold.
MAX_RESULTS = 50


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
