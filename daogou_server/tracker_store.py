"""Rasa's SQL tracker store, kept on disk by default and erasing a shopper's conversation when asked.

Why not Rasa's in-memory default: the assistant remembers across sessions
("what did you recommend yesterday?") through slots carried into the next
session, and that memory has to outlive a restart of the server. SQLite needs
no set-up; the production profile points the same store at PostgreSQL.

Why a subclass: the stored conversation holds everything the shopper typed, so
"forget me" must erase it too, not only the recommender's events. When a
tracker reaches the store with an `action_forget_me` that is not stored yet,
every stored event of that shopper is deleted and only the events from that
action on are kept, in the database and in the tracker being saved. Rasa's
tracker stays the single record of the conversation; nothing else copies it.

Why the database errors are caught here: Rasa wraps every tracker store in a ``FailSafeTrackerStore``
that swallows them (a failed read becomes a new, empty conversation; a failed save goes to memory).
A failed read or save marks the message instead (``action_failure.note_store_failure``), so the shopper
is told to try again and nothing of that turn is stored; the connections are checked before use
(``pool_pre_ping``), so the first message after a database restart finds a live one.
"""
from __future__ import annotations

import collections
import contextlib
import itertools
import json
import logging
from pathlib import Path
from typing import Any, Iterator, Optional, Text

import sqlalchemy as sa
import ujson
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, SessionStarted, deserialise_events
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from recsys.store import engine_for

from daogou_server import rasa_speedups
from daogou_server.action_failure import TRACKER_STORE, conversation_lost, note_store_failure
from daogou_server.conversations import delete_conversation
from daogou_server.recent_conversations import RecentConversations, StoredPosition, StoredRow, mark_stored, stored_position

logger = logging.getLogger(__name__)

FORGET_ACTION = "action_forget_me"
rasa_speedups.install()  # every profile loads this store: Rasa 3.6's per-turn hot spots fixed in place


def last_forget_index(tracker: DialogueStateTracker) -> Optional[int]:
    """Position in `tracker.events` of the latest run of the forget action, or None."""
    for index in range(len(tracker.events) - 1, -1, -1):
        event = tracker.events[index]
        if isinstance(event, ActionExecuted) and event.action_name == FORGET_ACTION:
            return index
    return None


class TrackerStoreUnavailable(RuntimeError):
    """The database could not be read or written. Raised in place of SQLAlchemy's error, whose text quotes the
    query's parameters (the shopper's id, what they typed), because Rasa logs the error it swallows."""

    @classmethod
    def of(cls, error: SQLAlchemyError) -> "TrackerStoreUnavailable":
        return cls(f"the conversation store is unavailable ({type(error).__name__})")


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """A failed read marks the message being handled (its turn is then neither answered as a stranger's nor
    stored) and raises an error that names no shopper."""
    try:
        yield
    except SQLAlchemyError as error:
        note_store_failure(TRACKER_STORE)
        raise TrackerStoreUnavailable.of(error) from None


class ForgettingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` (SQLite file by default) that erases a shopper's stored events on `action_forget_me`."""

    def __init__(self, dialect: Text = "sqlite", db: Text = "var/conversations.db", **kwargs: Any) -> None:
        if dialect == "sqlite" and not kwargs.get("host"):
            Path(db).parent.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
        super().__init__(dialect=dialect, db=db, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            # The recommender's SQLite engine: open connections kept in a pool, WAL, NORMAL syncing. Rasa's
            # (a new connection per session, a rollback journal, an fsync per commit, a checkpoint at every
            # close) spent ~20 ms of a turn saving the tracker here. A commit still survives a crash of the
            # server; only a power cut may lose the last turns (the production profile runs PostgreSQL).
            self.engine.dispose()
            self.engine = engine_for(self.engine.url.render_as_string(hide_password=False), future=False)
            self.sessionmaker = sessionmaker(bind=self.engine)
        elif self.engine.dialect.name != "sqlite":  # Rasa's engine hands out dead connections after a restart
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sessionmaker(bind=self.engine)
        self.recent = RecentConversations()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session: this process's kept copy brought up to date when the database proves it current
        (`daogou_server.recent_conversations`), else read whole as Rasa reads it."""
        with _reading():
            tracker = self._recent_tracker(sender_id)
            if tracker is None:
                tracker = await super().retrieve(sender_id)
            return tracker

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        with _reading():
            return await super().retrieve_full_tracker(conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save, unless this message's conversation could not be read (it would store a stranger's turn over
        the shopper's); a failed save marks the message and stores nothing (a transaction)."""
        if conversation_lost():
            self.recent.drop(tracker.sender_id)
            return
        try:
            await self._save(tracker)
        except SQLAlchemyError as error:
            if not note_store_failure(TRACKER_STORE):  # no message being handled (Rasa's HTTP API): an error
                raise TrackerStoreUnavailable.of(error) from None
            logger.warning("Could not save a conversation: %s", type(error).__name__)
            self.recent.drop(tracker.sender_id)

    async def _save(self, tracker: DialogueStateTracker) -> None:
        forget_at = last_forget_index(tracker)
        if forget_at is not None and forget_at >= self._stored_events(tracker.sender_id):
            self.recent.drop(tracker.sender_id)
            deleted = self._delete_conversation(tracker.sender_id)
            tracker.events = collections.deque(list(tracker.events)[forget_at:], maxlen=tracker.events.maxlen)
            logger.info("Erased a shopper's stored conversation (%d events) on request.", deleted)
        await self.stream_events(tracker)
        position = self._insert_new_events(tracker)
        if position is None:
            self.recent.drop(tracker.sender_id)
        else:
            mark_stored(tracker, position)
            self.recent.keep(tracker)

    def _insert_new_events(self, tracker: DialogueStateTracker) -> Optional[StoredPosition]:
        """Rasa's ``SQLTrackerStore.save`` (the same rows, one transaction), which also says where the stored
        events now end. Rasa counts the stored events of the session first; a tracker this store read or saved
        already knows (`stored_position`), which spares the count and, should another process erase the
        conversation during the turn, does not store the erased events again."""
        known = stored_position(tracker)
        with self.session_scope() as session:
            if known is None:
                stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            else:
                stored = known.stored_events
            rows = []
            for event in itertools.islice(tracker.events, stored, len(tracker.events)):
                data = event.as_dict()
                rows.append(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                ))
            session.add_all(rows)
            session.flush()  # the rows' ids, before the commit expires them
            position = known
            if rows:
                first = known.first if known else StoredRow.of(rows[0].id, rows[0].data) if stored == 0 else None
                last = StoredRow.of(rows[-1].id, rows[-1].data)
                position = StoredPosition(first, last, stored + len(rows)) if first else None
            session.commit()
        if position is None or position.stored_events != len(tracker.events):
            return None  # a tracker whose stored rows this store cannot place (Rasa's count did not match)
        return position

    def _recent_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The kept tracker with the events stored after its last saved one applied as Rasa's replay applies
        them; None when there is none or the database does not prove it current."""
        tracker = self.recent.take(sender_id)
        if tracker is None:
            return None
        position = stored_position(tracker)
        events = self.SQLEvent
        with self.session_scope() as session:
            rows = session.query(events.id, events.type_name, events.data) \
                .filter(events.sender_id == sender_id,
                        sa.or_(events.id == position.first.id, events.id >= position.last.id)) \
                .order_by(events.id).all()
        ends = [position.first] if position.first == position.last else [position.first, position.last]
        if len(rows) < len(ends) or [StoredRow.of(row.id, row.data) for row in rows[:len(ends)]] != ends:
            return None  # erased, pruned or otherwise changed since this process saved it
        newer = rows[len(ends):]
        if any(row.type_name == SessionStarted.type_name for row in newer):
            return None  # a new session: Rasa reads it from its start
        for event in deserialise_events([ujson.loads(row.data) for row in newer]):
            tracker.update(event)
        if newer:
            position = StoredPosition(position.first, StoredRow.of(newer[-1].id, newer[-1].data),
                                      position.stored_events + len(newer))
        mark_stored(tracker, position)
        return tracker

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's ``_retrieve``, reading only the events' ``data`` column.

        Rasa's loads every stored event of the session as an ORM object (seven columns each, identity map,
        instance state) only to read ``data``: 15 % of the Rasa server's CPU at 50 shoppers (py-spy), since
        each turn rereads the whole session. Same query, same order (by id), same tracker. The events are
        decoded by ujson (Rasa's own dependency): the same values, in two thirds of the time of ``json``,
        which was still 11 % of the server's CPU at 50 shoppers.
        """
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions) \
                .with_entities(self.SQLEvent.id, self.SQLEvent.data).all()
        events = [ujson.loads(data) for (_, data) in rows]
        if self.domain is None or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:  # Rasa's count of stored events is of the latest session
            mark_stored(tracker, StoredPosition(StoredRow.of(*rows[0]), StoredRow.of(*rows[-1]), len(rows)))
        return tracker

    def _stored_events(self, sender_id: Text) -> int:
        """How many events of the shopper's latest session are stored: `tracker.events` begins with them."""
        with self.session_scope() as session:
            return self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()

    def _delete_conversation(self, sender_id: Text) -> int:
        with self.engine.begin() as connection:  # the same statement the shop API's forgetting runs
            return delete_conversation(connection, sender_id)
