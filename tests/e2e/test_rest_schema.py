"""Every shape the REST channel answers with matches the JSON Schema shop developers read
(docs/schemas/rest-reply.schema.json), checked on real answers."""
from __future__ import annotations

import json
import uuid

import jsonschema
import pytest

from daogou_server.stack import PROJECT_ROOT
from tests.e2e.chat import say

pytestmark = pytest.mark.e2e
SCHEMA = json.loads((PROJECT_ROOT / "docs/schemas/rest-reply.schema.json").read_text())

CONVERSATION = {
    "en": ["hi", "I want something", "phones", "under 3000", "compare the first two", "tell me more about the second one",
           "add the first one to my cart", "what do you know about me", "how long does shipping take"],
    "zh": ["你好", "我想买东西", "手机", "3000以内", "前两个对比一下", "第二个详细介绍一下", "把第一个加入购物车", "看看我的数据", "发货要多久"],
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_reply_matches_the_schema(rasa_url, language):
    sender, seen = f"schema-{uuid.uuid4().hex[:8]}", set()
    for message in CONVERSATION[language]:
        for reply in say(rasa_url, sender, message):
            jsonschema.validate(reply, SCHEMA)
            seen.add(reply["custom"]["type"] if "custom" in reply else "buttons" if "buttons" in reply else "text")
    assert {"text", "buttons", "products", "comparison", "shopper_data"} <= seen, seen


def test_the_schema_refuses_what_clients_must_not_get():
    for bad in [{"recipient_id": "x", "custom": {"type": "products", "language": "fr", "products": []}},
                {"recipient_id": "x", "custom": {"type": "products", "language": "en", "products": [{"id": "a"}]}},
                {"recipient_id": "x"}]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)
