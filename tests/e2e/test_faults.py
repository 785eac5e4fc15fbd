"""The default profile survives its servers: a killed action server or a restarted Rasa server loses no conversation.

Each restart goes through :meth:`daogou_server.processes.ServerGroup.restart`, the launcher's own code, so the
servers come back exactly as ``make run`` starts them. Conversations live in the SQL tracker store, which is
why a new Rasa process knows what the last one recommended.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid

import pytest
import requests

from daogou_server.action_failure import ONE_MOMENT
from tests.e2e.chat import products_in, say, texts_of

pytestmark = pytest.mark.e2e


def test_a_restarted_rasa_server_continues_the_conversation(rasa_url, server_group):
    sender = "e2e-fault-rasa-restart"
    shown = [p["id"] for p in products_in(say(rasa_url, sender, "recommend me a phone under 3000"))]
    server_group.restart("rasa")
    recalled = [p["id"] for p in products_in(say(rasa_url, sender, "what did you recommend?"))]
    assert recalled == shown


def test_after_the_action_server_is_killed_and_restarted_the_next_message_works(rasa_url, server_group):
    sender = "e2e-fault-actions-killed"
    shown = [p["id"] for p in products_in(say(rasa_url, sender, "推荐一款3000元以内的手机"))]
    server_group.restart("actions", kill=True)
    recalled = [p["id"] for p in products_in(say(rasa_url, sender, "你推荐了什么"))]
    assert recalled == shown
    assert products_in(say(rasa_url, sender, "推荐一款8000元以内的笔记本"))  # new work for the restarted actions


def test_while_the_action_server_is_down_the_shopper_is_asked_to_wait_in_their_language(rasa_url, server_group):
    actions = server_group.servers["actions"]
    os.killpg(actions.process.pid, signal.SIGKILL)
    actions.process.wait()
    try:
        assert ONE_MOMENT["en"] in texts_of(say(rasa_url, "e2e-fault-down-en", "recommend me a phone under 3000"))
        assert ONE_MOMENT["zh"] in texts_of(say(rasa_url, "e2e-fault-down-zh", "推荐一款3000元以内的手机"))
    finally:
        server_group.restart("actions")
    replies = say(rasa_url, "e2e-fault-down-en", "recommend me a phone under 3000")
    assert products_in(replies) and ONE_MOMENT["en"] not in texts_of(replies)


def _post_with_retries(url: str, token: str, event: dict, give_up_s: float = 300) -> str:
    """What a shop site does: resend the same event (same id) until the API answers it."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            response = requests.post(f"{url}/v1/events", json=event, headers={"Authorization": f"Bearer {token}"},
                                     timeout=10)
            if response.status_code == 200:
                return response.json()["results"][0]["status"]
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"event {event['event_id']} never accepted"
        time.sleep(0.2)


def test_events_posted_with_retries_across_a_shop_api_restart_are_stored_once_each(shop_api_url, api_token, workdir,
                                                                                  server_group, catalog):
    prefix = f"restart-{uuid.uuid4().hex[:8]}-"
    events = [{"event_id": f"{prefix}{i}", "user_id": f"{prefix}shopper", "type": "view",
               "product_id": catalog.ids[i % len(catalog.ids)]} for i in range(60)]
    statuses: list = []
    some_sent = threading.Event()

    def client() -> None:
        for i, event in enumerate(events):
            statuses.append(_post_with_retries(shop_api_url, api_token, event))
            if i == 10:
                some_sent.set()

    sender = threading.Thread(target=client)
    sender.start()
    assert some_sent.wait(120)
    server_group.restart("shop-api", kill=True)
    sender.join(400)
    assert not sender.is_alive()
    assert set(statuses) <= {"stored", "duplicate"} and len(statuses) == len(events)
    with sqlite3.connect(workdir / "daogou.db") as connection:
        stored = connection.execute("select event_id, count(*) from events where event_id like ? group by event_id",
                                    (f"{prefix}%",)).fetchall()
    assert sorted(event_id for event_id, _ in stored) == sorted(e["event_id"] for e in events)  # none lost
    assert all(count == 1 for _, count in stored)  # none doubled
