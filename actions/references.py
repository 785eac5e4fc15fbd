"""Which products the shopper means: named ones, "the second one"/"第二个", or "it".

Order of trust: products NLU extracted (resolved by the recommender's product
finder), products named anywhere in the text, positions in the last list we
showed (``last_recommendations``), and finally the product talked about last
(``last_product``).
"""
from __future__ import annotations

import re
from typing import List, Optional

from rasa_sdk import Tracker

from recsys import Product, Recommender

_ORDINALS_EN = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5}
_ORDINALS_ZH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_EN_ORDINAL = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b(?:\s+(?:one|item|product|phone|option))?|\bnumber\s*([1-5])\b|#([1-5])\b", re.IGNORECASE)
_ZH_ORDINAL = re.compile(r"第([一二三四五1-5])(?:个|款|台|部|只|项)?|最后(?:一)?(?:个|款)")
_FIRST_N = re.compile(r"\b(?:first|top)\s+(two|three|2|3)\b|前([两二三23])(?:个|款)", re.IGNORECASE)
_COUNTS = {"two": 2, "three": 3, "2": 2, "3": 3, "两": 2, "二": 2, "三": 3}


def ordinals(text: str, available: int) -> List[int]:
    """0-based positions the text points at, in order ("compare the first and third" -> [0, 2])."""
    positions: List[int] = []
    first_n = _FIRST_N.search(text or "")
    if first_n:
        count = _COUNTS[(first_n.group(1) or first_n.group(2)).lower()]
        positions.extend(range(min(count, available)))
    found = []
    for match in _EN_ORDINAL.finditer(text or ""):
        word = (match.group(1) or "").lower()
        number = match.group(2) or match.group(3)
        found.append((match.start(), available if word == "last" else int(number) if number else _ORDINALS_EN[word]))
    for match in _ZH_ORDINAL.finditer(text or ""):
        found.append((match.start(), _ORDINALS_ZH[match.group(1)] if match.group(1) else available))
    for _, rank in sorted(found):
        if 1 <= rank <= available and rank - 1 not in positions:
            positions.append(rank - 1)
    return positions


def referenced_products(tracker: Tracker, recommender: Recommender, limit: int = 1) -> List[Product]:
    """Up to ``limit`` products the latest message refers to, in the order it names them."""
    text = (tracker.latest_message or {}).get("text") or ""
    found: List[Product] = []

    def add(product: Optional[Product]) -> None:
        if product is not None and product not in found and len(found) < limit:
            found.append(product)

    for mention in tracker.get_latest_entity_values("product"):
        add(recommender.resolve_product(str(mention)))
    for product in recommender.find_products(text, limit=limit):
        add(product)
    shown = [p for p in (recommender.product(pid) for pid in (tracker.get_slot("last_recommendations") or [])) if p]
    for position in ordinals(text, len(shown)):
        add(shown[position])
    if not found:
        last = tracker.get_slot("last_product")
        add(recommender.product(last) if last else None)
    return found


def mentioned_something(tracker: Tracker) -> bool:
    """Whether the message names a product we could not find (so "it" must not stand in for it)."""
    return any(True for _ in tracker.get_latest_entity_values("product"))
