"""The conversation suite (issue 20): multi-turn conversations in both languages, end to end over REST.

Each conversation in ``tests/conversations/*.yml`` is one test case with its own sender id. A turn says a
message and may check its answer (``expect``):

- ``categories`` / ``brands``: every product listed is of one of these; ``max_price`` / ``min_price``: every
  price within; ``min_products``: at least this many listed; ``products``: whether a list is shown at all;
- ``below_shown: N``: every product listed is cheaper than the N-th of the list shown before;
- ``names_shown: N``: the answer names the N-th product of the list shown before;
- ``contains_any`` / ``not_contains``: substrings of the answer's text (case-insensitive);
- ``max_messages``: at most this many text messages; ``language``: the text is in it (default: the
  conversation's language);
- ``events_include`` / ``events_exclude`` / ``events_count``: what a ``shopper_data`` answer ("show my data") lists;
- ``spec_below_shown`` / ``spec_above_shown``: ``{spec: N}``, every product listed has the catalog spec (``weight_g``,
  ``screen_in``, ``release_year``) known and below / above that of the N-th product shown before, or of the
  median of that list when N is ``median`` ("any lighter ones?", "similar to the first but with a bigger screen");
- ``compared``: ``{brands, max_price}`` of the products in a comparison.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from statistics import median
from typing import Any, Dict, List, Optional

import pytest
import yaml

from recsys import Catalog

from tests.e2e.chat import say

SUITE = Path(__file__).resolve().parents[1] / "conversations"
CONVERSATIONS = [c for path in sorted(SUITE.glob("*.yml")) for c in yaml.safe_load(path.read_text(encoding="utf-8"))]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _products(replies: List[dict]) -> List[dict]:
    return [p for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "products"
            for p in r["custom"]["products"]]


def _payload(replies: List[dict], kind: str) -> Dict[str, Any]:
    found = [r["custom"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == kind]
    assert found, f"no {kind} payload"
    return found[0]


def _name(product: dict) -> str:
    name = product.get("name")
    return name if isinstance(name, str) else str(product.get("id"))


def _spec(catalog: Catalog, product_id: str, spec: str) -> Optional[float]:
    """A spec as the catalog file states it (``release_year`` is a field of the product, the rest are specs)."""
    product = catalog.get(product_id)
    assert product is not None, f"{product_id} not in the catalog"
    value = product.release_year if spec == "release_year" else product.specs.get(spec)
    return None if value is None or isinstance(value, bool) else float(value)


def _check_specs(expect: Dict[str, Any], products: List[dict], shown: List[dict], catalog: Catalog) -> None:
    for key, below in (("spec_below_shown", True), ("spec_above_shown", False)):
        for spec, position in (expect.get(key) or {}).items():
            assert products, "no products listed"
            if position == "median":
                known = [v for v in (_spec(catalog, p["id"], spec) for p in shown) if v is not None]
                assert known, f"no {spec} known in the list shown"
                reference = median(known)
            else:
                reference = _spec(catalog, shown[position - 1]["id"], spec)
                assert reference is not None, f"{spec} of shown #{position} unknown"
            for product in products:
                value = _spec(catalog, product["id"], spec)
                assert value is not None, f"{product['id']} has no {spec}"
                assert (value < reference) if below else (value > reference), f"{product['id']} {spec} {value} vs {reference}"


def check(expect: Dict[str, Any], replies: List[dict], shown: List[dict], language: str, catalog: Catalog) -> None:
    """Assert one turn's expectations on its replies; ``shown`` is the list shown before this turn."""
    text = "\n".join(r.get("text") or "" for r in replies)
    lowered = text.lower()
    products = _products(replies)
    if "products" in expect:
        assert bool(products) == expect["products"], f"products listed: {bool(products)}"
    if any(k in expect for k in ("categories", "brands", "max_price", "min_price", "min_products", "below_shown")):
        assert len(products) >= expect.get("min_products", 1), "no products listed"
    for product in products:
        if "categories" in expect:
            assert product["category"] in expect["categories"], f"{product['id']} is a {product['category']}"
        if "brands" in expect:
            assert product["brand"] in expect["brands"], f"{product['id']} is by {product['brand']}"
        if "max_price" in expect:
            assert product["price"] <= expect["max_price"], f"{product['id']} costs {product['price']}"
        if "min_price" in expect:
            assert product["price"] >= expect["min_price"], f"{product['id']} costs {product['price']}"
        if "below_shown" in expect:
            anchor = shown[expect["below_shown"] - 1]
            assert product["price"] < anchor["price"], f"{product['id']} ({product['price']}) not below {anchor['price']}"
    if "names_shown" in expect:
        assert len(shown) >= expect["names_shown"], "no list shown before"
        named = shown[expect["names_shown"] - 1]
        assert _name(named).lower() in lowered, f"{_name(named)} not named"
    if "contains_any" in expect:
        assert any(s.lower() in lowered for s in expect["contains_any"]), f"none of {expect['contains_any']}"
    for s in expect.get("not_contains", []):
        assert s.lower() not in lowered, f"{s!r} said"
    if "max_messages" in expect:
        count = sum(1 for r in replies if r.get("text"))
        assert count <= expect["max_messages"], f"{count} messages"
    wanted = expect.get("language", language)
    if text.strip():
        assert bool(_CJK.search(text)) == (wanted == "zh"), f"not in {wanted}"
    if "events_include" in expect:
        kinds = [e["event_type"] for e in _payload(replies, "shopper_data")["events"]]
        assert expect["events_include"] in kinds, f"events: {kinds}"
    if "events_exclude" in expect:
        kinds = [e["event_type"] for e in _payload(replies, "shopper_data")["events"]]
        assert expect["events_exclude"] not in kinds, f"events: {kinds}"
    _check_specs(expect, products, shown, catalog)
    if "compared" in expect:
        compared = _payload(replies, "comparison")["products"]
        if "brands" in expect["compared"]:  # the rival named ("vs Sony") is among them
            assert any(p["brand"] in expect["compared"]["brands"] for p in compared), f"compared: {compared}"
        for product in compared:
            if "max_price" in expect["compared"]:
                assert product["price"] <= expect["compared"]["max_price"], f"{product['id']} costs {product['price']}"
    if "events_count" in expect:
        events = [r["custom"]["events"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "shopper_data"]
        assert (len(events[0]) if events else 0) == expect["events_count"], f"events: {events}"


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["id"] for c in CONVERSATIONS])
def test_conversation(rasa_url: str, catalog: Catalog, conversation: Dict[str, Any]) -> None:
    sender = f"{conversation['id']}-{uuid.uuid4().hex[:8]}"
    shown: List[dict] = []
    for number, turn in enumerate(conversation["turns"], 1):
        replies = say(rasa_url, sender, turn["say"])
        try:
            check(turn.get("expect") or {}, replies, shown, conversation["language"], catalog)
        except AssertionError as failure:
            raise AssertionError(f"turn {number} {turn['say']!r}: {failure}\nreplies: {replies}") from None
        shown = _products(replies) or shown
