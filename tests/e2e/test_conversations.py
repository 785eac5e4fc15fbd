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
- ``events_include`` / ``events_count``: what a ``shopper_data`` answer ("show my data") lists.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

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


def check(expect: Dict[str, Any], replies: List[dict], shown: List[dict], language: str) -> None:
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
    if "events_count" in expect:
        events = [r["custom"]["events"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "shopper_data"]
        assert (len(events[0]) if events else 0) == expect["events_count"], f"events: {events}"


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["id"] for c in CONVERSATIONS])
def test_conversation(rasa_url: str, conversation: Dict[str, Any]) -> None:
    sender = f"{conversation['id']}-{uuid.uuid4().hex[:8]}"
    shown: List[dict] = []
    for number, turn in enumerate(conversation["turns"], 1):
        replies = say(rasa_url, sender, turn["say"])
        try:
            check(turn.get("expect") or {}, replies, shown, conversation["language"])
        except AssertionError as failure:
            raise AssertionError(f"turn {number} {turn['say']!r}: {failure}\nreplies: {replies}") from None
        shown = _products(replies) or shown
