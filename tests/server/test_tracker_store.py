"""The conversation store: survives a restart, and "forget me" erases the shopper's stored conversation."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import create_tracker_store
from rasa.core.utils import read_endpoints_from_path
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from daogou_server.tracker_store import ForgettingSQLTrackerStore, last_forget_index

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def store_at(db: Path, domain: Domain) -> ForgettingSQLTrackerStore:
    return ForgettingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))


def conversation(sender: str, domain: Domain, *texts: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
                               domain)
    for text in texts:
        say(tracker, domain, text)
    return tracker


def say(tracker: DialogueStateTracker, domain: Domain, text: str, *events) -> None:
    tracker.update_with_events([UserUttered(text, {"name": "request_recommendation", "confidence": 1.0}),
                                *events, BotUttered("ok"), ActionExecuted("action_listen")], domain)


def stored_texts(db: Path, sender: str) -> list:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("select data from events where sender_id = ? order by id", (sender,)).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def test_the_conversation_and_its_memory_survive_a_restart(tmp_path, domain):
    db = tmp_path / "conversations.db"
    tracker = conversation("shopper-a", domain, "recommend a phone under 3000")
    tracker.update(SlotSet("last_recommendations", ["phone-1", "phone-2"]), domain)
    asyncio.run(store_at(db, domain).save(tracker))

    again = asyncio.run(store_at(db, domain).retrieve("shopper-a"))  # a new store: as after a restart
    assert again.get_slot("last_recommendations") == ["phone-1", "phone-2"]
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["recommend a phone under 3000"]


def test_forget_me_erases_the_stored_conversation_and_keeps_the_rest(tmp_path, domain):
    db = tmp_path / "conversations.db"
    store = store_at(db, domain)
    tracker = conversation("shopper-b", domain, "my address is 12 Elm Street, send a laptop there")
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(conversation("shopper-c", domain, "hello")))

    tracker = asyncio.run(store.retrieve("shopper-b"))
    say(tracker, domain, "forget me", ActionExecuted("action_forget_me"), SlotSet("last_recommendations", None))
    asyncio.run(store.save(tracker))

    assert "my address is 12 Elm Street, send a laptop there" not in stored_texts(db, "shopper-b")
    assert "forget me" not in stored_texts(db, "shopper-b")   # the request itself came before the action
    assert stored_texts(db, "shopper-c") == [None, None, None, "hello", "ok", None]  # other shoppers untouched
    retrieved = asyncio.run(store.retrieve("shopper-b"))
    assert last_forget_index(retrieved) == 0 and list(retrieved.events) == list(tracker.events)


def test_after_forgetting_the_conversation_goes_on_without_duplicated_events(tmp_path, domain):
    db = tmp_path / "conversations.db"
    store = store_at(db, domain)
    tracker = conversation("shopper-d", domain, "hi", "forget me")
    tracker.update(ActionExecuted("action_forget_me"), domain)
    asyncio.run(store.save(tracker))
    say(tracker, domain, "recommend earbuds")          # the same tracker object, saved again
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("shopper-d"))  # and a retrieved one, saved again
    say(tracker, domain, "cheaper")
    asyncio.run(store.save(tracker))

    assert stored_texts(db, "shopper-d") == [None, "recommend earbuds", "ok", None, "cheaper", "ok", None]
    assert list(asyncio.run(store.retrieve("shopper-d")).events) == list(tracker.events)


def test_forgetting_twice_in_one_session_erases_again(tmp_path, domain):
    db = tmp_path / "conversations.db"
    store = store_at(db, domain)
    tracker = conversation("shopper-e", domain, "forget me")
    tracker.update(ActionExecuted("action_forget_me"), domain)
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("shopper-e"))
    say(tracker, domain, "my phone number is 555-0100")
    say(tracker, domain, "forget me again", ActionExecuted("action_forget_me"))
    asyncio.run(store.save(tracker))

    assert "my phone number is 555-0100" not in stored_texts(db, "shopper-e")
    assert stored_texts(db, "shopper-e")[0] is None and len(stored_texts(db, "shopper-e")) == 3


def test_the_projects_endpoints_configure_this_store_in_a_sqlite_file(tmp_path, monkeypatch, domain):
    monkeypatch.chdir(tmp_path)  # the file is relative to where the server starts
    endpoints = read_endpoints_from_path(str(PROJECT_ROOT / "endpoints.yml"))
    store = create_tracker_store(endpoints.tracker_store, domain)
    assert isinstance(store, ForgettingSQLTrackerStore)
    asyncio.run(store.save(conversation("shopper-f", domain, "hi")))
    assert stored_texts(tmp_path / "var" / "conversations.db", "shopper-f")[3] == "hi"


def test_a_sqlite_store_keeps_its_connections_open_in_wal_mode_and_another_process_reads_each_turn(tmp_path, domain):
    db = tmp_path / "conversations.db"
    store = store_at(db, domain)
    asyncio.run(store.save(conversation("shopper", domain, "recommend a phone")))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: no fsync per commit
    assert store.engine.pool.checkedin() >= 1  # kept open for the next turn, not reopened per session
    tracker = asyncio.run(store.retrieve("shopper"))
    say(tracker, domain, "something cheaper")
    asyncio.run(store.save(tracker))
    assert stored_texts(db, "shopper") == [None, None, None, "recommend a phone", "ok", None,
                                           "something cheaper", "ok", None]  # committed: another reader sees it


@pytest.mark.parametrize("all_sessions", [False, True])
def test_reading_only_the_data_column_rebuilds_the_tracker_rasa_rebuilds(tmp_path, domain, all_sessions):
    from rasa.core.tracker_store import SQLTrackerStore

    store = store_at(tmp_path / "conversations.db", domain)
    tracker = conversation("shopper", domain, "recommend a phone", "something cheaper")
    asyncio.run(store.save(tracker))
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                ActionExecuted("action_listen")], domain)  # a second session
    say(tracker, domain, "what did you recommend?", SlotSet("category", "phone"))
    asyncio.run(store.save(tracker))
    ours = asyncio.run(store._retrieve("shopper", all_sessions))
    rasas = asyncio.run(SQLTrackerStore._retrieve(store, "shopper", all_sessions))
    assert list(ours.events) == list(rasas.events) and ours.current_state() == rasas.current_state()
    assert ours.get_slot("category") == "phone"
    assert asyncio.run(store._retrieve("nobody", all_sessions)) is None
