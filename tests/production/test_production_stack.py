"""The production profile as ``make run-production`` starts it: two Rasa, two action and two shop API servers behind
nginx, on PostgreSQL and Redis (:func:`daogou_server.stack.running_stack`, the launcher's own code).

One stack for the session (``conftest.py``; two Rasa servers take minutes to load on two cores), so the order below matters:
the conversation, the shop API and the two-server race run on the whole stack, the hostile input after them, and
the kill test last. Everything is checked in PostgreSQL itself, not through the servers' answers only.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from pathlib import Path
from typing import List, Tuple

import pytest
import requests
import yaml

from daogou_server.input_checks import MAX_MESSAGE_CHARS
from daogou_server.production import RECSYS_DB, TRACKER_DB
from daogou_server.stack import StackConfig
from tests.e2e.chat import products_in, texts_of
from daogou_server.socketio_client import converse
from tests.production.stack import no_trace, post_event_with_retries, query, say, tracker_events, user_texts

pytestmark = pytest.mark.e2e

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "hostile_messages.yml").read_text())
#: Rounds of two simultaneous messages of one shopper, one to each Rasa server.
RACE_ROUNDS = 12
GREETING, WELCOME = "your shopping guide", "You're welcome"
#: The shopper's next message after a hostile one: a request that stands on its own, whatever the hostile
#: message started (a question back, a form), so its answer shows the conversation still works.
NEXT = "recommend me a phone under 3000"


def served(replies: List[dict]) -> bool:
    """The answer to :data:`NEXT`: phones within the budget."""
    found = [r["custom"]["products"] for r in replies
             if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "products"]
    return len(found) == 1 and bool(found[0]) and all(p["category"] == "phone" and p["price"] <= 3000 for p in found[0])


def test_nginx_fronts_every_server_and_the_backends_hold_tokens(config):
    assert requests.get(f"{config.rasa_url}/", timeout=10).status_code == 200
    assert requests.get(f"{config.api_url}/v1/health", timeout=10).status_code == 200
    assert requests.get(f"http://127.0.0.1:{config.action_port}/health", timeout=10).status_code == 200
    for url in config.rasa_backend_urls:  # Rasa's HTTP API behind its token on each server, through nginx too
        assert requests.get(f"{url}/conversations/x/tracker", timeout=10).status_code == 401
    assert requests.get(f"{config.rasa_url}/conversations/x/tracker", timeout=10).status_code == 401


def test_a_conversation_in_both_languages_through_nginx_is_stored_in_postgresql(config):
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    english = products_in(say(config.rasa_url, sender, "recommend me a phone under 3000"))
    assert english and all(p["category"] == "phone" and p["price"] <= 3000 for p in english)
    chinese = products_in(say(config.rasa_url, sender, "推荐一款8000元以内的笔记本"))
    assert chinese and all(p["category"] == "laptop" and p["price"] <= 8000 for p in chinese)
    assert user_texts(config, sender) == ["recommend me a phone under 3000", "推荐一款8000元以内的笔记本"]


def test_a_shop_event_through_nginx_lands_in_the_recommenders_postgresql(config):
    shopper = f"prod-shop-{uuid.uuid4().hex[:8]}"
    product = query(config, RECSYS_DB, "select id from products where category = 'headphones' order by id limit 1")[0][0]
    event = {"event_id": uuid.uuid4().hex, "user_id": shopper, "type": "view", "product_id": product}
    response = requests.post(f"{config.api_url}/v1/events", json=event,
                             headers={"Authorization": f"Bearer {config.api_token}"}, timeout=30)
    assert response.status_code == 200 and response.json()["stored"] == 1, response.text
    assert query(config, RECSYS_DB, "select item_id, event_type from events where event_id = %s",
                 event["event_id"]) == [(product, "view")]
    listed = requests.get(f"{config.api_url}/v1/recommendations", params={"user_id": shopper, "k": 5}, timeout=30)
    assert listed.status_code == 200 and product not in [p["id"] for p in listed.json()["products"]]


def _race_round(config: StackConfig, sender: str, round_no: int) -> Tuple[List[dict], List[dict]]:
    first, second = config.rasa_backend_urls[:2]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        hello = pool.submit(say, first, sender, "hello", {"race": f"{round_no}-hello"})
        thanks = pool.submit(say, second, sender, "thanks", {"race": f"{round_no}-thanks"})
        return hello.result(), thanks.result()


def test_two_messages_of_one_shopper_at_both_servers_at_once_are_each_stored_once_and_answered_in_turn(config):
    """RasaHQ/rasa #9213: with Rasa's own RedisLockStore both servers may hold the lock at once."""
    sender = f"race-{uuid.uuid4().hex[:8]}"
    for round_no in range(RACE_ROUNDS):
        hello, thanks = _race_round(config, sender, round_no)
        assert GREETING in texts_of(hello) and WELCOME not in texts_of(hello), hello
        assert WELCOME in texts_of(thanks) and GREETING not in texts_of(thanks), thanks
    events = tracker_events(config, sender)
    tags = [e["metadata"]["race"] for e in events if e["event"] == "user"]
    expected = {f"{n}-{word}" for n in range(RACE_ROUNDS) for word in ("hello", "thanks")}
    assert sorted(tags) == sorted(expected)  # none lost, none doubled
    # In turn: each message's answer is stored right after it, before the next message is read.
    answers = {"hello": GREETING, "thanks": WELCOME}
    current = None
    for event in events:
        if event["event"] == "user":
            assert current is None, f"message {event['metadata']['race']} read while {current} was unanswered"
            current = event["metadata"]["race"]
        elif event["event"] == "bot" and current is not None:
            assert answers[current.split("-")[1]] in event["text"], (current, event["text"])
        elif event["event"] == "action" and event["name"] == "action_listen" and current is not None:
            current = None
    assert current is None


def _stored_row_count(config: StackConfig) -> Tuple[int, int]:
    return (query(config, TRACKER_DB, "select count(*) from events")[0][0],
            query(config, RECSYS_DB, "select count(*) from events")[0][0])


def _hostile(entry: dict) -> str:
    return entry["text"] * entry.get("repeat", 1)


@pytest.mark.parametrize("entry", CORPUS["messages"], ids=lambda e: e["name"])
def test_a_hostile_rest_message_gets_no_error_and_the_next_message_works(config, entry):
    sender = f"hostile-{uuid.uuid4().hex[:8]}"
    response = requests.post(f"{config.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": _hostile(entry)},
                             timeout=120)
    no_trace(response)
    assert served(say(config.rasa_url, sender, NEXT))
    assert all(len(text) <= MAX_MESSAGE_CHARS for text in user_texts(config, sender))  # a 100 KB message is cut


@pytest.mark.parametrize("entry", CORPUS["bodies"], ids=lambda e: e["name"])
def test_a_malformed_rest_body_is_refused_or_served_and_stores_only_what_it_should(config, entry):
    sender = f"hostile-{uuid.uuid4().hex[:8]}"
    body = entry["body"].replace("SENDER", sender)
    response = requests.post(f"{config.rasa_url}/webhooks/rest/webhook", data=body.encode("latin-1" if entry.get("latin1") else "utf-8"),
                             headers={"Content-Type": "application/json"}, timeout=120)
    no_trace(response)
    if not entry["stores"]:
        assert 400 <= response.status_code < 500, response.text
        assert tracker_events(config, sender) == []
    assert served(say(config.rasa_url, sender, NEXT))
    # what a client sends as metadata is stored only as an object (the page context), never as it came
    assert all(isinstance(e.get("metadata", {}), dict) for e in tracker_events(config, sender) if e["event"] == "user")


@pytest.mark.parametrize("entry", CORPUS["senders"], ids=lambda e: e["name"])
def test_a_hostile_sender_id_is_refused_and_nothing_is_stored(config, entry):
    before = _stored_row_count(config)
    response = requests.post(f"{config.rasa_url}/webhooks/rest/webhook", json={"sender": _hostile(entry), "message": "hi"},
                             timeout=120)
    no_trace(response)
    assert 400 <= response.status_code < 500, response.text
    assert _stored_row_count(config) == before


def test_hostile_socketio_messages_get_no_error_and_the_next_message_works(config):
    session = f"hostile-sio-{uuid.uuid4().hex[:8]}"
    hostile = [_hostile(entry) for entry in CORPUS["messages"]]
    answers = asyncio.run(converse(config.rasa_url, session, [m for text in hostile for m in (text, NEXT)],
                                     first_reply_s=lambda m: 60 if m == NEXT else 20, quiet_s=3, reply_required=False))
    for text, after in zip(hostile, answers[1::2]):
        assert served(after), (text[:80], after)
    for replies in answers:
        for reply in replies:
            assert "Traceback" not in str(reply)


def test_with_one_rasa_and_one_action_server_killed_the_conversation_continues_through_the_survivors(production):
    config, stack = production
    sender = f"prod-kill-{uuid.uuid4().hex[:8]}"
    shown = [p["id"] for p in products_in(say(config.rasa_url, sender, "recommend me a phone under 3000"))]
    stack.group.kill("rasa-1")
    stack.group.kill("actions-1")
    for _ in range(3):  # round-robin would reach the dead ones: nginx skips them every time
        recalled = [p["id"] for p in products_in(say(config.rasa_url, sender, "what did you recommend?"))]
        assert recalled == shown
    chinese = products_in(say(config.rasa_url, sender, "推荐一款3000元以内的手机"))  # new work for the surviving actions
    assert chinese and all(p["category"] == "phone" for p in chinese)
    assert len(user_texts(config, sender)) == 5


def test_with_one_shop_api_process_killed_events_through_nginx_are_each_stored_once(production):
    config, stack = production
    shopper = f"prod-api-kill-{uuid.uuid4().hex[:8]}"
    products = [row[0] for row in query(config, RECSYS_DB,
                                        "select id from products where category = 'laptop' order by id limit 20")]
    events = [{"event_id": uuid.uuid4().hex, "user_id": shopper, "type": "view", "product_id": p} for p in products]
    statuses = []
    for position, event in enumerate(events):
        if position == len(events) // 2:
            stack.group.kill("shop-api-1")  # mid-stream, as a crash would
        statuses.append(post_event_with_retries(config, event))
    assert set(statuses) <= {"stored", "duplicate"}, statuses
    rows = query(config, RECSYS_DB, "select event_id, count(*) from events where user_id = %s group by event_id", shopper)
    assert sorted(event_id for event_id, _ in rows) == sorted(e["event_id"] for e in events)
    assert all(count == 1 for _, count in rows)
    listed = requests.get(f"{config.api_url}/v1/recommendations", params={"user_id": shopper, "k": 5}, timeout=30)
    assert listed.status_code == 200 and listed.json()["products"]  # the surviving process answers
