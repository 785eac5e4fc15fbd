"""Which products the shopper means: named ones, "the second one"/"第二个", or "it".

Order of trust: products NLU extracted (resolved by the recommender's product
finder), products named anywhere in the text, positions in the last list we
showed (``last_recommendations``), and finally the product talked about last
(``last_product``). "It" never stands in for a product the shopper named and we
could not find ("how much is the nokia 9999?" after a Pixel 8): answering about,
rating or carting the previous product instead would be wrong, so the actions
say they could not find it (`Turn.say_product_not_found`).
"""
from __future__ import annotations

import re
from typing import Callable, List, Optional

from rasa_sdk import Tracker

from recsys import Product, Recommender

_ORDINALS_EN = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5}
_ORDINALS_ZH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_EN_ORDINAL = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b(?:\s+(?:one|item|product|phone|option))?|\bnumber\s*([1-5])\b|#([1-5])\b", re.IGNORECASE)
_ZH_ORDINAL = re.compile(r"第([一二三四五1-5])(?:个|款|台|部|只|项)?|最后(?:一)?(?:个|款)")
_FIRST_N = re.compile(r"\b(?:first|top)\s+(two|three|2|3)\b|前([两二三23])(?:个|款)", re.IGNORECASE)
_COUNTS = {"two": 2, "three": 3, "2": 2, "3": 3, "两": 2, "二": 2, "三": 3}
# Letters and digits in one word, as model codes are ("z99", "s24", "x1"); not "1st" or "5g".
# Spec words with digits are not model names: chip and GPU tiers (i7, r9, m3, rtx4060), ip68, wifi6e, usb4, ddr5, bt5, hdmi2.
_SPEC_CODE = r"(?:i[3579]|r[3579]|m[1-4]|[rg]tx\d{3,4}|ipx?\d{1,2}|wifi\d[a-z]?|usb\d|(?:lp)?ddr\d[a-z]?|bt\d|hdmi\d)(?![a-z0-9])"
_MODEL_CODE = re.compile(r"(?<![a-z0-9])(?!\d+(?:st|nd|rd|th|g|gb|tb|k|w|mah|hz|mp)\b)(?!" + _SPEC_CODE + r")"
                         r"(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{2,}(?![a-z0-9])")


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
        last_id = tracker.get_slot("last_product")
        last = recommender.product(last_id) if last_id else None
        unresolved = [str(m) for m in tracker.get_latest_entity_values("product")]
        if (last is not None and all(_names_part_of(last, mention) for mention in unresolved)
                and not _names_something_else(text, last, recommender)):
            add(last)
    return found


def _names_something_else(text: str, last: Product, recommender: Recommender) -> bool:
    """Whether the text names another brand, model code ("z99", "s24") or kind of product than the last one.

    NLU does not always tag a product we do not sell ("add the nokia 9999 ultra to my cart"),
    so the text itself is checked before "it" stands in for the last product; "这款手表" after a
    pair of headphones is about some watch, not about the headphones.
    """
    aliases = recommender.catalog.aliases
    brands = aliases.find_in_text("brand", text)
    if brands and last.brand not in brands:
        return True
    pointed_at = _categories_pointed_at(text, aliases.resolve_category)
    if pointed_at and last.category not in pointed_at:
        return True
    names = squeezed(" ".join((last.id, last.display_name("en"), last.display_name("zh"))))
    return any(code not in names for code in _MODEL_CODE.findall(text.lower()))


# "this/that <category>", "这款/那个 <category>": the kind of product the shopper points at. Only after a
# demonstrative: "how is the camera on it" asks about a phone's camera, not about a camera.
_POINTING = re.compile(r"[这那]一?[款个台部只副块支]?\s*([\u4e00-\u9fff]{1,6})"
                       r"|(?<![a-z])(?:this|that|these|those)\s+([a-z]+(?:\s+[a-z]+)?)")


def _categories_pointed_at(text: str, resolve_category: Callable[[str], Optional[str]]) -> List[str]:
    found: List[str] = []
    for chinese, english in _POINTING.findall(text.lower()):
        if chinese:
            phrases = [chinese[:n] for n in range(len(chinese), 0, -1)]
        else:
            words = english.split()
            phrases = [" ".join(words[:n]) for n in range(len(words), 0, -1)]
        category = next((c for c in map(resolve_category, phrases) if c), None)
        if category and category not in found:
            found.append(category)
    return found


def _names_part_of(product: Product, mention: str) -> bool:
    """Whether a mention we could not resolve ("pixel" after the Pixel 8) is part of this product's name."""
    wanted = squeezed(mention)
    return bool(wanted) and any(wanted in squeezed(name) for name in
                                (product.id, product.display_name("en"), product.display_name("zh")))


def squeezed(text: str) -> str:
    """Lower case without spaces, hyphens and underscores: "iPhone 16 Pro" and "iphone16pro" meet."""
    return re.sub(r"[\s\-_]+", "", text).lower()
