"""What the shopper is asking for, read from the latest message and the slots.

NLU entities come first (DIET with lookup tables and synonyms); the alias
table and the budget parser read the raw text as a fallback, because a model
trained on a few hundred examples will miss some spans that the alias table
knows exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from rasa_sdk import Tracker

from recsys import Catalog

from daogou_nlu.language import detect_language
from actions.parsing import PriceRange, parse_budget


@dataclass(frozen=True)
class ShopperRequest:
    language: str
    category: Optional[str]
    unknown_category: Optional[str]  # a category word we could not map to anything we sell
    brand: Optional[str]
    budget: Optional[PriceRange]


def read_request(tracker: Tracker, catalog: Catalog) -> ShopperRequest:
    message: Dict[str, Any] = tracker.latest_message or {}
    text = message.get("text") or ""
    language = detect_language(text, default=tracker.get_slot("language") or "en")

    category, unknown_category = _resolve(tracker, catalog, "category", text)
    brand, _ = _resolve(tracker, catalog, "brand", text)
    if category is None and unknown_category is None:
        category = tracker.get_slot("category")

    budget = parse_budget(text)
    if budget is None:
        for price_text in tracker.get_latest_entity_values("price"):
            budget = parse_budget(str(price_text))
            if budget:
                break
    return ShopperRequest(language=language, category=category, unknown_category=unknown_category, brand=brand, budget=budget)


def _resolve(tracker: Tracker, catalog: Catalog, kind: str, text: str) -> tuple[Optional[str], Optional[str]]:
    """(canonical id, unmapped phrase) for a category or brand mentioned in the message."""
    unknown = None
    for value in tracker.get_latest_entity_values(kind):
        canonical = catalog.aliases.resolve(kind, str(value))
        if canonical:
            return canonical, None
        unknown = str(value)
    found = catalog.aliases.find_in_text(kind, text)
    if found:
        return found[0], None
    return None, unknown
