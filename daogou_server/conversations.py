"""A shopper's conversation in Rasa's SQL tracker store, read and erased outside the Rasa server.

"Forget me" in the chat erases it through the tracker store itself
(:class:`daogou_server.tracker_store.ForgettingSQLTrackerStore`); the shop API's
``DELETE /v1/users/{id}`` has no tracker in hand, so it deletes the same rows with this
one statement, which both use. Plain SQLAlchemy, no Rasa import: the shop API does not load Rasa.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

#: Rasa's ``SQLTrackerStore`` keeps every event of every conversation in this table.
EVENTS_TABLE = "events"
_DELETE = text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :sender_id")
_COUNT = text(f"SELECT COUNT(*) FROM {EVENTS_TABLE} WHERE sender_id = :sender_id")


def delete_conversation(connection: Connection, sender_id: str) -> int:
    """Delete every stored event of the shopper's conversations; returns how many went."""
    return int(connection.execute(_DELETE, {"sender_id": sender_id}).rowcount or 0)


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return create_engine(url, future=True, pool_pre_ping=True)  # a restarted database: no dead connections


def _has_table(url: str) -> bool:
    return inspect(_engine(url)).has_table(EVENTS_TABLE)


def erase_conversation(url: str, sender_id: str) -> int:
    """Erase the shopper's conversation in the tracker store at ``url`` (0 if it has none yet)."""
    if not _has_table(url):
        return 0
    with _engine(url).begin() as connection:
        return delete_conversation(connection, sender_id)


def conversation_size(url: str, sender_id: str) -> int:
    if not _has_table(url):
        return 0
    with _engine(url).connect() as connection:
        return int(connection.execute(_COUNT, {"sender_id": sender_id}).scalar_one())
