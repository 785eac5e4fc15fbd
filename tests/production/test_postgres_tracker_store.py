"""The conversation store on PostgreSQL as on SQLite: forget me, retention, and a database outage."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

from daogou_server.action_failure import ONE_MOMENT, politely
from daogou_server.retention import prune_conversations, retention_days
from daogou_server.tracker_store import ForgettingSQLTrackerStore, TrackerStoreUnavailable, last_forget_index
from tests.server.test_tracker_store import conversation, say

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request, tmp_path, domain):
    """A factory of stores on one database (a new store is as after a server restart)."""
    if request.param == "sqlite":
        return lambda: ForgettingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "c.db"))
    postgres = request.getfixturevalue("postgres")
    name = f"conv_{abs(hash(request.node.name)) % 10**8}"
    postgres.create_database(name)
    return lambda: ForgettingSQLTrackerStore(domain=domain, dialect="postgresql", host="127.0.0.1",
                                             port=postgres.port, username=postgres.user, db=name)


def stored_texts(store: ForgettingSQLTrackerStore, sender: str) -> list:
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).all()
        return [row.data for row in rows]


def test_forget_me_erases_only_that_shopper(make_store, domain):
    store = make_store()
    asyncio.run(store.save(conversation("b", domain, "a phone under 3000", "secret words")))
    asyncio.run(store.save(conversation("c", domain, "hello")))
    tracker = asyncio.run(store.retrieve("b"))
    say(tracker, domain, "forget me", ActionExecuted("action_forget_me"), SlotSet("last_recommendations", None))
    asyncio.run(store.save(tracker))
    again = make_store()
    assert not any("secret words" in data for data in stored_texts(again, "b"))
    assert any("hello" in data for data in stored_texts(again, "c"))
    assert last_forget_index(asyncio.run(again.retrieve("b"))) == 0


def test_retention_prunes_idle_conversations_only(make_store, domain):
    store = make_store()
    asyncio.run(store.save(conversation("old", domain, "hi")))
    asyncio.run(store.save(conversation("new", domain, "hi")))
    later = time.time() + 10 * 86400  # ten days on, "new" speaks again
    with store.session_scope() as session:
        session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == "new").update(
            {store.SQLEvent.timestamp: later})
        session.commit()
    result = prune_conversations(store, older_than_days=5, now=later)
    assert result.conversations == 1 and result.events > 0
    assert stored_texts(store, "old") == [] and stored_texts(store, "new") != []


def test_retention_setting():
    assert retention_days({}) is None and retention_days({"DAOGOU_CONVERSATION_RETENTION_DAYS": "0"}) is None
    assert retention_days({"DAOGOU_CONVERSATION_RETENTION_DAYS": "30"}) == 30
    with pytest.raises(ValueError, match="number of days"):
        retention_days({"DAOGOU_CONVERSATION_RETENTION_DAYS": "a month"})


def test_postgres_down_then_back_without_restarting_the_store(postgres, domain):
    name = postgres.create_database("outage")
    del name
    store = ForgettingSQLTrackerStore(domain=domain, dialect="postgresql", host="127.0.0.1",
                                      port=postgres.port, username=postgres.user, db="outage")
    asyncio.run(store.save(conversation("s", domain, "before")))
    postgres.stop()
    try:
        tracker = conversation("s", domain, "during")
        with pytest.raises(TrackerStoreUnavailable, match="OperationalError") as raised:
            asyncio.run(store.save(tracker))
        assert "during" not in str(raised.value) and "'s'" not in str(raised.value)  # what the error text gives away
    finally:
        postgres.start()
    asyncio.run(store.save(conversation("t", domain, "after")))  # the same store object recovers
    texts = stored_texts(store, "s")
    assert any("before" in t for t in texts) and not any("during" in t for t in texts)  # nothing half-written
    assert any("after" in t for t in stored_texts(store, "t"))


def test_postgres_down_while_a_message_is_handled_stores_nothing_and_answers_politely(postgres, domain):
    """As Rasa runs it: the store inside a FailSafeTrackerStore, the message through the channels' wrapper."""
    postgres.create_database("outage_in_message")
    store = ForgettingSQLTrackerStore(domain=domain, dialect="postgresql", host="127.0.0.1",
                                      port=postgres.port, username=postgres.user, db="outage_in_message")
    failsafe = FailSafeTrackerStore(store)
    asyncio.run(store.save(conversation("s", domain, "before")))

    async def handle(message: UserMessage) -> None:  # what Rasa's processor does with a message
        tracker = await failsafe.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text))
        await message.output_channel.send_text_message(message.sender_id, "an answer to an empty conversation")
        await failsafe.save(tracker)

    out = CollectingOutputChannel()
    postgres.stop()
    try:
        asyncio.run(politely(handle)(UserMessage("during", out, "s")))
    finally:
        postgres.start()
    assert [m["text"] for m in out.messages] == [ONE_MOMENT["en"]]
    assert failsafe._fallback_tracker_store is None  # nothing went to Rasa's in-memory fallback either
    out = CollectingOutputChannel()
    asyncio.run(politely(handle)(UserMessage("after", out, "s")))  # the first message after the restart
    assert [m["text"] for m in out.messages] == ["an answer to an empty conversation"]
    texts = stored_texts(store, "s")
    assert any("before" in t for t in texts) and any("after" in t for t in texts)
    assert not any("during" in t for t in texts)
