"""What the shopper is asking for, read from their messages and the slots.

NLU entities come first (DIET with lookup tables and synonyms); the alias
table and the budget parser read the raw text as a fallback, because a model
trained on a few hundred examples will miss some spans that the alias table
knows exactly.

One request can span several messages: the recommendation form asks for the
category, then for a budget or main use, so "recommend something" / "a
phone" / "under 3000" is one request. :func:`request_messages` finds those
messages; :func:`stated_in` reads one; :func:`read_request` combines them with
what the conversation established before.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from recsys import Catalog

from actions.parsing import PriceRange, Refinement, parse_budget, parse_refinement
from actions.spec_refinement import SpecLimits, spec_limits

RECOMMENDATION_FORM = "recommendation_form"
#: Intents whose messages describe the request itself; other messages said during the form
#: (a FAQ, a product question) are answered and do not change it.
REQUEST_INTENTS = frozenset({"request_recommendation", "skip", "affirm", "greet"})  # "hi, looking for a phone"
#: Intents that mean "no preference" when the form asks for a budget or main use.
SKIP_INTENTS = frozenset({"skip"})


@dataclass(frozen=True)
class Stated:
    """What one message says about the request."""

    category: Optional[str]
    unknown_category: Optional[str]  # a category word we could not map to anything we sell
    brand: Optional[str]
    budget: Optional[PriceRange]
    refinement: Refinement
    skipped: bool  # "anything", "随便": no preference

    @property
    def need(self) -> Optional[str]:
        """What the shopper said beyond the category that narrows the choice, if anything."""
        if self.budget is not None:
            return "budget"
        if self.brand is not None:
            return "brand"
        if self.refinement.any:
            return "refinement"
        if self.skipped:
            return "skipped"
        return None


def stated_in(message: Dict[str, Any], catalog: Catalog) -> Stated:
    """Read one user message (Rasa parse data: text, intent, entities)."""
    text = message.get("text") or ""
    entities = message.get("entities") or []
    category, unknown_category = _resolve(entities, catalog, "category", text)
    brand, _ = _resolve(entities, catalog, "brand", text)
    budget = parse_budget(text)
    if budget is None:
        for entity in entities:
            if entity.get("entity") == "price":
                budget = parse_budget(str(entity.get("value")))
                if budget:
                    break
    intent = (message.get("intent") or {}).get("name")
    return Stated(category=category, unknown_category=unknown_category, brand=brand, budget=budget,
                  refinement=parse_refinement(text), skipped=intent in SKIP_INTENTS)


def request_messages(tracker: Tracker) -> List[Dict[str, Any]]:
    """The user messages of the current request, oldest first.

    That is the latest message, plus, when the recommendation form ran over
    several turns, the messages about the request since the form started.
    """
    messages: List[Dict[str, Any]] = []
    form_started = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            parse_data = {**(event.get("parse_data") or {}), "text": event.get("text") or ""}
            if not messages or (parse_data.get("intent") or {}).get("name") in REQUEST_INTENTS:
                messages.append(parse_data)
            if form_started:
                break  # this message started the form
        elif kind == "active_loop" and messages:
            if event.get("name") != RECOMMENDATION_FORM:
                break  # an earlier form ended: what came before belongs to an earlier request
            form_started = True
    if not messages:
        messages.append(tracker.latest_message or {})
    return messages[::-1]


@dataclass(frozen=True)
class ShopperRequest:
    category: Optional[str]
    unknown_category: Optional[str]
    brand: Optional[str]
    budget: Optional[PriceRange]
    exclude_brands: Tuple[str, ...] = ()
    exclude_items: Tuple[str, ...] = ()
    #: "lighter", "bigger screen", "newer" than the list shown: the specs every product listed must beat.
    spec_limits: SpecLimits = SpecLimits()


def read_request(tracker: Tracker, catalog: Catalog, messages: Optional[List[Dict[str, Any]]] = None) -> ShopperRequest:
    """The current request, completed by what the conversation already established.

    A new category starts afresh (a phone budget says nothing about TVs);
    otherwise brand and budget carry over, and corrections ("cheaper",
    "换个牌子") adjust them relative to the products shown last.
    """
    messages = messages or request_messages(tracker)

    category = unknown_category = brand = None
    budget: Optional[PriceRange] = None
    refinement = Refinement()
    for stated in (stated_in(message, catalog) for message in messages):  # later messages win
        if stated.category is not None or stated.unknown_category is not None:
            category, unknown_category = stated.category, stated.unknown_category
        brand = stated.brand or brand
        budget = stated.budget or budget
        refinement = stated.refinement if stated.refinement.any else refinement

    shown = _shown(tracker, catalog)
    shown_category = shown[0].category if shown else None
    if category is None and unknown_category is None:
        category = tracker.get_slot("category")
    same_category = category == shown_category if shown else category == tracker.get_slot("category")
    if not same_category:
        shown = []

    stated_budget, stated_brand = budget is not None, brand is not None
    if same_category:
        if brand is None:
            brand = tracker.get_slot("brand")
        if budget is None and (tracker.get_slot("min_price") is not None or tracker.get_slot("max_price") is not None):
            budget = PriceRange(tracker.get_slot("min_price"), tracker.get_slot("max_price"))

    exclude: Tuple[str, ...] = ()
    exclude_items: Tuple[str, ...] = ()
    limits = SpecLimits()
    if refinement.by_spec and shown:  # "any lighter ones?": lighter than the middle of what was shown
        limits = spec_limits(refinement, shown)
        exclude_items = tuple(p.id for p in shown)
    if refinement.any and shown and not stated_budget:
        # Like a salesperson: "cheaper" means cheaper than the middle of what was shown, and new products.
        middle = median(p.price for p in shown)
        exclude_items = tuple(p.id for p in shown)
        if refinement.cheaper:
            budget = PriceRange(budget.min_price if budget and budget.min_price is not None and budget.min_price < middle else None,
                                max(middle - 1, 1))
        elif refinement.pricier:
            budget = PriceRange(middle + 1, None)
    if refinement.other_brand and not stated_brand:
        exclude = tuple(sorted({p.brand for p in shown} | ({brand} if brand else set())))
        brand = None
    return ShopperRequest(category=category, unknown_category=unknown_category, brand=brand,
                          budget=budget, exclude_brands=exclude, exclude_items=exclude_items, spec_limits=limits)


def _shown(tracker: Tracker, catalog: Catalog) -> List[Any]:
    """The products of the last list we showed."""
    return [p for p in (catalog.get(pid) for pid in tracker.get_slot("last_recommendations") or []) if p is not None]


def _resolve(entities: List[Dict[str, Any]], catalog: Catalog, kind: str, text: str) -> Tuple[Optional[str], Optional[str]]:
    """(canonical id, unmapped phrase) for a category or brand mentioned in the message."""
    unknown = None
    for entity in entities:
        if entity.get("entity") != kind:
            continue
        canonical = catalog.aliases.resolve(kind, str(entity.get("value")))
        if canonical:
            return canonical, None
        unknown = str(entity.get("value"))
    found = catalog.aliases.find_in_text(kind, text)
    if found:
        return found[0], None
    return None, unknown
