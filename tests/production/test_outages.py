"""Redis, then PostgreSQL, briefly unavailable under the production profile (issue 21), while a shopper chats over
REST and socket.io and a shop client posts events with retries.

What a client sees during an outage: the chat answers 200 (socket.io: one message) with the polite "one moment"
in the shopper's language, and stores nothing of that message (``daogou_server.action_failure``); the shop API
answers a write 503 with the JSON error and ``Retry-After`` (``shop_api.errors``). After the restart the next
message continues the stored conversation ("what did you recommend?" names the same products), and every event
the client retried is stored exactly once. Runs on the session's stack (``conftest.py``), before the kill tests
when both files share a worker (and on the survivors when not).
"""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator, List

import pytest
import requests

from daogou_server.action_failure import ONE_MOMENT
from daogou_server.production import RECSYS_DB
from daogou_server.socketio_client import SocketIOChat
from daogou_server.stack import StackConfig
from tests.e2e.chat import products_in, texts_of
from tests.production.stack import live_rasa_backends, no_trace, post_event_with_retries, query, say, user_texts

pytestmark = pytest.mark.e2e

#: How long each store stays down, beside the time the requests during the outage take.
OUTAGE_S = 3
FIRST, RECALL = "recommend me a phone under 3000", "what did you recommend?"


def chat_during_outage(config: StackConfig, sender: str) -> None:
    """A REST message (English) and a socket.io one (Chinese): each answered only with the polite reply."""
    response = requests.post(f"{config.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": "something cheaper"},
                             timeout=120)
    no_trace(response)
    assert response.status_code == 200 and texts_of(response.json()) == ONE_MOMENT["en"], response.text

    async def over_socketio() -> List[dict]:
        async with SocketIOChat(config.rasa_url, f"{sender}-sio") as chat:
            return await chat.say("有没有更便宜的", timeout_s=120)

    replies = asyncio.run(over_socketio())
    assert [r.get("text") for r in replies] == [ONE_MOMENT["zh"]], replies


class EventClient(threading.Thread):
    """A shop client posting one view event after another with retries, as long as the test runs."""

    def __init__(self, config: StackConfig, shopper: str, products: List[str]):
        super().__init__(daemon=True)
        self.config, self.events = config, [{"event_id": uuid.uuid4().hex, "user_id": shopper, "type": "view",
                                             "product_id": p} for p in products]
        self.statuses: List[str] = []
        self.answers: List[requests.Response] = []
        self.error: BaseException = None

    def run(self) -> None:
        try:
            for event in self.events:
                self.statuses.append(post_event_with_retries(self.config, event, tries=120, pause_s=0.5,
                                                             answers=self.answers))
                time.sleep(0.2)
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread
            self.error = error


@contextmanager
def events_posted(config: StackConfig, shopper: str) -> Iterator[EventClient]:
    products = [row[0] for row in query(config, RECSYS_DB, "select id from products order by id limit 30")]
    client = EventClient(config, shopper, products)
    client.start()
    yield client
    client.join(timeout=180)
    assert not client.is_alive() and client.error is None, client.error
    assert set(client.statuses) <= {"stored", "duplicate"} and len(client.statuses) == len(products), client.statuses
    rows = query(config, RECSYS_DB, "select event_id, count(*) from events where user_id = %s group by event_id", shopper)
    assert sorted(event_id for event_id, _ in rows) == sorted(e["event_id"] for e in client.events)  # none lost
    assert all(count == 1 for _, count in rows)  # none doubled
    for answer in client.answers:
        no_trace(answer, allowed_5xx=(502, 503))


def recall_continues(config: StackConfig, sender: str, shown: List[str]) -> None:
    recalled = [p["id"] for p in products_in(say(config.rasa_url, sender, RECALL))]
    assert recalled == shown
    assert user_texts(config, sender) == [FIRST, RECALL]  # the message during the outage stored nothing


def test_redis_briefly_unavailable(production):
    config, stack = production
    sender = f"outage-redis-{uuid.uuid4().hex[:8]}"
    shown = [p["id"] for p in products_in(say(config.rasa_url, sender, FIRST))]
    with events_posted(config, f"{sender}-shop"):  # the shop API does not use Redis: its events just go on
        stack.stores.redis.stop()
        try:
            chat_during_outage(config, sender)
            time.sleep(OUTAGE_S)
        finally:
            stack.stores.redis.start()
        recall_continues(config, sender, shown)
        for backend in live_rasa_backends(config, stack):  # each Rasa server's first message after the restart
            assert products_in(say(backend, f"{sender}-after-{backend[-5:]}", FIRST))


def test_postgres_briefly_unavailable(production):
    config, stack = production
    sender = f"outage-pg-{uuid.uuid4().hex[:8]}"
    shown = [p["id"] for p in products_in(say(config.rasa_url, sender, FIRST))]
    with events_posted(config, f"{sender}-shop") as client:
        time.sleep(1)  # some events before the outage
        stack.stores.postgres.stop()
        try:
            chat_during_outage(config, sender)
            time.sleep(OUTAGE_S)
            unavailable = requests.post(f"{config.api_url}/v1/events", timeout=30,
                                        json={"event_id": uuid.uuid4().hex, "user_id": f"{sender}-x", "type": "view",
                                              "product_id": client.events[0]["product_id"]},
                                        headers={"Authorization": f"Bearer {config.api_token}"})
        finally:
            stack.stores.postgres.start()
        no_trace(unavailable, allowed_5xx=(503,))
        assert unavailable.status_code == 503 and unavailable.headers.get("Retry-After"), unavailable.text
        assert unavailable.json()["error"]["code"] == "unavailable"
        recall_continues(config, sender, shown)
        for backend in live_rasa_backends(config, stack):  # each Rasa server's first message after the restart
            assert products_in(say(backend, f"{sender}-after-{backend[-5:]}", FIRST))
    assert any(answer.status_code == 503 for answer in client.answers)  # the client did meet the outage
