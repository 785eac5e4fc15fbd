"""The socket.io channel the chat widget uses, against the running stack: products arrive as payloads."""
from __future__ import annotations

import asyncio
import uuid
from typing import List

import pytest
import socketio

from daogou_server.socketio_client import converse, hang_up

pytestmark = pytest.mark.e2e


def products(replies: List[dict]) -> List[dict]:
    found = [r["custom"]["products"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "products"]
    assert len(found) == 1, replies
    return found[0]


@pytest.mark.parametrize("message, language, marker", [
    ("recommend me a phone under 3000", "en", "Here are"), ("推荐一款3000元以内的手机", "zh", "为你推荐"),
])
def test_a_recommendation_arrives_as_text_and_a_product_payload(rasa_url, message, language, marker):
    replies, = asyncio.run(converse(rasa_url, f"sio-{uuid.uuid4().hex[:8]}", [message], {"locale": language}))
    listed = products(replies)
    assert listed and all(p["category"] == "phone" and p["price"] <= 3000 for p in listed)
    assert any(marker in r.get("text", "") for r in replies)


def test_a_comparison_arrives_as_a_payload(rasa_url):
    session = f"sio-{uuid.uuid4().hex[:8]}"
    _, replies = asyncio.run(converse(rasa_url, session, ["recommend me a phone under 3000", "compare the first two"]))
    comparisons = [r["custom"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "comparison"]
    assert len(comparisons) == 1, replies


def test_the_session_continues_after_reconnecting(rasa_url):
    session = f"sio-{uuid.uuid4().hex[:8]}"
    first, = asyncio.run(converse(rasa_url, session, ["recommend me a laptop under 8000"]))
    names = [p["name"] for p in products(first)]
    recall, = asyncio.run(converse(rasa_url, session, ["what did you recommend?"]))
    text = "\n".join(r.get("text", "") for r in recall)
    assert any(name in text for name in names), (names, text)


@pytest.mark.parametrize("payload", [{"message": "hi"}, {"message": 42, "session_id": "x"}, "not a dict",
                                     {"message": "hi", "session_id": "bad-metadata", "metadata": "{not json"}])
def test_odd_socketio_messages_do_not_break_the_server(rasa_url, payload):
    async def send() -> None:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(rasa_url, transports=["polling"])
        await client.emit("user_uttered", payload)
        await asyncio.sleep(1)
        await hang_up(client)

    asyncio.run(send())
    replies, = asyncio.run(converse(rasa_url, f"sio-{uuid.uuid4().hex[:8]}", ["hi"]))
    assert replies and replies[0].get("text")
