"""The Rasa server's kept copy of each recent conversation gives the tracker Rasa's own read gives, and is
never used once the database says otherwise (another server's turns, a new session, an erasure, a failed turn)."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from daogou_server.recent_conversations import RecentConversations, StoredPosition, StoredRow, mark_stored
from daogou_server.tracker_store import ForgettingSQLTrackerStore
from tests.server.test_tracker_store import conversation, say, store_at, stored_texts


def rasas_read(store: ForgettingSQLTrackerStore, sender: str) -> DialogueStateTracker:
    return asyncio.run(SQLTrackerStore._retrieve(store, sender, False))


def assert_same_as_rasas_read(tracker: DialogueStateTracker, store: ForgettingSQLTrackerStore) -> None:
    rasas = rasas_read(store, tracker.sender_id)
    assert list(tracker.events) == list(rasas.events)
    assert tracker.current_state() == rasas.current_state()


def a_turn(store: ForgettingSQLTrackerStore, domain: Domain, sender: str, text: str, *events) -> DialogueStateTracker:
    """What Rasa does with a message: read the conversation, add the turn's events, save."""
    tracker = asyncio.run(store.retrieve(sender))
    say(tracker, domain, text, *events)
    asyncio.run(store.save(tracker))
    return tracker


def started(store: ForgettingSQLTrackerStore, domain: Domain, sender: str, text: str) -> DialogueStateTracker:
    """A conversation's first turn, saved, then read once (Rasa's first read keeps nothing yet: the first turn
    begins with a listen before its session start)."""
    asyncio.run(store.save(conversation(sender, domain, text)))
    return a_turn(store, domain, sender, "and a case for it")


def test_the_next_turn_continues_the_kept_tracker_and_reads_what_rasa_reads(tmp_path, domain):
    store = store_at(tmp_path / "c.db", domain)
    first = started(store, domain, "shopper", "recommend a phone")
    assert "shopper" in store.recent
    second = a_turn(store, domain, "shopper", "something cheaper", SlotSet("category", "phone"))
    assert second is first  # continued, not rebuilt from every stored event
    assert_same_as_rasas_read(second, store)
    assert stored_texts(tmp_path / "c.db", "shopper") == [None, None, None, "recommend a phone", "ok", None,
                                                          "and a case for it", "ok", None,
                                                          "something cheaper", None, "ok", None]


def test_turns_another_server_stored_are_read_and_applied(tmp_path, domain):
    db = tmp_path / "c.db"
    here, there = store_at(db, domain), store_at(db, domain)
    kept = started(here, domain, "shopper", "recommend earbuds")
    a_turn(there, domain, "shopper", "with noise cancelling", SlotSet("category", "earbuds"))
    a_turn(there, domain, "shopper", "under 1000")

    tracker = asyncio.run(here.retrieve("shopper"))
    assert tracker is kept and tracker.get_slot("category") == "earbuds"
    assert_same_as_rasas_read(tracker, here)
    say(tracker, domain, "the first one")
    asyncio.run(here.save(tracker))
    assert stored_texts(db, "shopper").count("under 1000") == 1 and stored_texts(db, "shopper")[-3] == "the first one"


def test_a_new_session_stored_by_another_server_is_read_from_its_start(tmp_path, domain):
    db = tmp_path / "c.db"
    here, there = store_at(db, domain), store_at(db, domain)
    kept = started(here, domain, "shopper", "recommend a laptop")
    tracker = asyncio.run(there.retrieve("shopper"))
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                ActionExecuted("action_listen")], domain)
    say(tracker, domain, "hello again")
    asyncio.run(there.save(tracker))

    again = asyncio.run(here.retrieve("shopper"))
    assert again is not kept
    assert_same_as_rasas_read(again, here)
    assert "recommend a laptop" not in [getattr(e, "text", None) for e in again.events]


def test_a_conversation_erased_elsewhere_is_never_served_from_memory(tmp_path, domain):
    db = tmp_path / "c.db"
    store = store_at(db, domain)
    started(store, domain, "shopper", "my address is 12 Elm Street")
    with sqlite3.connect(db) as connection:  # what the shop API's DELETE /v1/users/{id} runs
        connection.execute("delete from events where sender_id = ?", ("shopper",))
    assert asyncio.run(store.retrieve("shopper")) is None
    assert "shopper" not in store.recent


def test_a_conversation_erased_during_a_turn_is_not_continued_from_memory(tmp_path, domain):
    """The turn stores its own rows after the erasure (and only those: the erased ones are not stored again);
    the kept tracker still holds the erased turns, and must not be served."""
    db = tmp_path / "c.db"
    store = store_at(db, domain)
    started(store, domain, "shopper", "my address is 12 Elm Street")
    tracker = asyncio.run(store.retrieve("shopper"))
    with sqlite3.connect(db) as connection:  # the shop API's DELETE /v1/users/{id}, while the turn runs
        connection.execute("delete from events where sender_id = ?", ("shopper",))
    say(tracker, domain, "recommend a watch")
    asyncio.run(store.save(tracker))
    assert stored_texts(db, "shopper") == ["recommend a watch", "ok", None]

    again = asyncio.run(store.retrieve("shopper"))
    assert "my address is 12 Elm Street" not in [getattr(e, "text", None) for e in again.events]
    assert_same_as_rasas_read(again, store)


def test_an_erased_conversation_whose_row_ids_are_reused_is_read_again(tmp_path, domain):
    """SQLite hands the highest deleted ids out again: the kept tracker's last row id alone proves nothing."""
    db = tmp_path / "c.db"
    here, there = store_at(db, domain), store_at(db, domain)
    kept = started(here, domain, "shopper", "my address is 12 Elm Street")
    last_id = max(row[0] for row in sqlite3.connect(db).execute("select id from events"))
    with sqlite3.connect(db) as connection:
        connection.execute("delete from events where sender_id = ?", ("shopper",))
    asyncio.run(there.save(conversation("shopper", domain, "hi", "recommend a watch", "cheaper", "in black")))
    assert last_id in [row[0] for row in sqlite3.connect(db).execute("select id from events")]

    tracker = asyncio.run(here.retrieve("shopper"))
    assert tracker is not kept
    assert_same_as_rasas_read(tracker, here)
    assert "my address is 12 Elm Street" not in [getattr(e, "text", None) for e in tracker.events]


def test_a_turn_that_failed_before_saving_leaves_nothing_of_itself(tmp_path, domain):
    store = store_at(tmp_path / "c.db", domain)
    started(store, domain, "shopper", "recommend a phone")
    broken = asyncio.run(store.retrieve("shopper"))
    say(broken, domain, "this turn never reaches the store")  # e.g. the action server failed mid-turn

    tracker = asyncio.run(store.retrieve("shopper"))
    assert "this turn never reaches the store" not in [getattr(e, "text", None) for e in tracker.events]
    assert_same_as_rasas_read(tracker, store)


def test_a_tracker_changed_after_its_save_is_not_served(tmp_path, domain):
    store = store_at(tmp_path / "c.db", domain)
    saved = started(store, domain, "shopper", "recommend a phone")
    say(saved, domain, "appended after the save, never saved")
    tracker = asyncio.run(store.retrieve("shopper"))
    assert tracker is not saved
    assert_same_as_rasas_read(tracker, store)


def test_forget_me_leaves_nothing_of_the_erased_turns_in_memory(tmp_path, domain):
    db = tmp_path / "c.db"
    store = store_at(db, domain)
    started(store, domain, "shopper", "my phone number is 555-0100")
    tracker = asyncio.run(store.retrieve("shopper"))
    say(tracker, domain, "forget me", ActionExecuted("action_forget_me"))
    asyncio.run(store.save(tracker))
    assert "my phone number is 555-0100" not in stored_texts(db, "shopper")
    kept = store.recent.take("shopper")  # only the events from the forgetting on, like the database
    assert kept is not None and "my phone number is 555-0100" not in [getattr(e, "text", None) for e in kept.events]
    again = asyncio.run(store.retrieve("shopper"))
    assert_same_as_rasas_read(again, store)


def test_the_same_tracker_saved_twice_stores_each_event_once(tmp_path, domain):
    db = tmp_path / "c.db"
    store = store_at(db, domain)
    tracker = started(store, domain, "shopper", "recommend a phone")
    say(tracker, domain, "cheaper")
    asyncio.run(store.save(tracker))
    say(tracker, domain, "in blue")
    asyncio.run(store.save(tracker))
    assert stored_texts(db, "shopper").count("cheaper") == 1 and stored_texts(db, "shopper").count("in blue") == 1
    assert_same_as_rasas_read(asyncio.run(store.retrieve("shopper")), store)


def test_kept_conversations_expire_and_are_bounded(domain):
    now = [0.0]
    recent = RecentConversations(size=2, seconds=60, clock=lambda: now[0])

    def saved(sender: str) -> DialogueStateTracker:
        tracker = conversation(sender, domain, "hi")
        tracker.events.popleft()  # one session from its start, as Rasa's read gives it
        mark_stored(tracker, StoredPosition(StoredRow(1, b""), StoredRow(2, b""), len(tracker.events)))
        recent.keep(tracker)
        return tracker

    a, b = saved("a"), saved("b")
    saved("c")
    assert "a" not in recent and len(recent) == 2  # the least recently kept went first
    now[0] = 61
    recent.sweep()  # what the sweeper thread does on a server with no more messages
    assert len(recent) == 0 and recent.take("b") is None  # idle past the limit: gone, text and all
    off = RecentConversations(size=0)
    off.keep(a)
    assert len(off) == 0
    with pytest.raises(ValueError):
        RecentConversations(size=-1)
    assert b.sender_id == "b"
