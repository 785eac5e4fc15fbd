"""What the shopper is asking for, read from the latest message and the slots.

NLU entities come first (DIET with lookup tables and synonyms); the alias
table and the budget parser read the raw text as a fallback, because a model
trained on a few hundred examples will miss some spans that the alias table
knows exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from recsys import Catalog

from daogou_nlu.language import detect_language
from actions.parsing import PriceRange, parse_budget, parse_refinement


@dataclass(frozen=True)
class ShopperRequest:
    language: str
    category: Optional[str]
    unknown_category: Optional[str]  # a category word we could not map to anything we sell
    brand: Optional[str]
    budget: Optional[PriceRange]
    exclude_brands: Tuple[str, ...] = ()
    #: The shopper said nothing about budget or brand in this conversation: worth asking.
    open_ended: bool = False


def read_request(tracker: Tracker, catalog: Catalog) -> ShopperRequest:
    """This message's request, completed by what the conversation already established.

    A new category starts afresh (a phone budget says nothing about TVs);
    otherwise brand and budget carry over, and corrections ("cheaper",
    "换个牌子") adjust them relative to the products shown last.
    """
    message: Dict[str, Any] = tracker.latest_message or {}
    text = message.get("text") or ""
    language = detect_language(text, default=tracker.get_slot("language") or "en")

    category, unknown_category = _resolve(tracker, catalog, "category", text)
    brand, _ = _resolve(tracker, catalog, "brand", text)
    same_category = category is None or category == tracker.get_slot("category")
    if category is None and unknown_category is None:
        category = tracker.get_slot("category")

    budget = parse_budget(text)
    if budget is None:
        for price_text in tracker.get_latest_entity_values("price"):
            budget = parse_budget(str(price_text))
            if budget:
                break
    stated_budget, stated_brand = budget is not None, brand is not None
    if same_category:
        if brand is None:
            brand = tracker.get_slot("brand")
        if budget is None and (tracker.get_slot("min_price") is not None or tracker.get_slot("max_price") is not None):
            budget = PriceRange(tracker.get_slot("min_price"), tracker.get_slot("max_price"))

    exclude: Tuple[str, ...] = ()
    refinement = parse_refinement(text)
    shown = _shown(tracker, catalog) if same_category else []
    if refinement.any and shown and not stated_budget:
        prices = [p.price for p in shown]
        if refinement.cheaper:
            budget = PriceRange(None, max(min(prices) - 1, 1))
        elif refinement.pricier:
            budget = PriceRange(max(prices) + 1, None)
    if refinement.other_brand and not stated_brand:
        exclude = tuple(sorted({p.brand for p in shown} | ({brand} if brand else set())))
        brand = None
    open_ended = budget is None and brand is None and not exclude and message.get("intent", {}).get("name") != "skip"
    return ShopperRequest(language=language, category=category, unknown_category=unknown_category, brand=brand,
                          budget=budget, exclude_brands=exclude, open_ended=open_ended)


def _shown(tracker: Tracker, catalog: Catalog) -> List[Any]:
    """The products of the last list we showed."""
    return [p for p in (catalog.get(pid) for pid in tracker.get_slot("last_recommendations") or []) if p is not None]


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
