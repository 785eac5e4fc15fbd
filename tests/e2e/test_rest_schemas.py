"""Real REST channel responses match the schemas documented in docs/rest-channel.md (docs/schemas/)."""
from __future__ import annotations

import pytest
import requests

from tests.rest_schemas import shape_of

pytestmark = pytest.mark.e2e


def post(rasa_url: str, body: dict) -> list:
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("sender, message", [("schema-en", "recommend me a phone under 3000"), ("schema-zh", "推荐一款3000元以内的手机")])
def test_recommendation_then_comparison_match_the_schemas(rasa_url, sender, message):
    metadata = {"shopper_id": sender, "locale": sender[-2:], "page": {"product_id": None, "cart": []}}
    replies = post(rasa_url, {"sender": sender, "message": message, "metadata": metadata})
    shapes = [shape_of(r) for r in replies]
    assert "products" in shapes and "text" in shapes
    compare = "compare the first two" if sender.endswith("en") else "比较一下第一个和第二个"
    shapes = [shape_of(r) for r in post(rasa_url, {"sender": sender, "message": compare})]
    assert "comparison" in shapes


def test_every_reply_of_a_small_talk_turn_is_documented(rasa_url):
    assert {shape_of(r) for r in post(rasa_url, {"sender": "schema-hi", "message": "hello"})} <= {"text", "buttons"}
