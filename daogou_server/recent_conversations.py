"""The Rasa server's copy of each recent conversation, so a turn reads only what it does not have yet.

Why: Rasa's SQL tracker store rereads a shopper's whole session on every message and replays every event
into a new tracker (``DialogueStateTracker.from_dict``): at 50 shoppers x 20 messages that was 29 % of the
Rasa server's CPU (py-spy, ``docs/production.md``), growing with the conversation. Here the tracker a turn
saved is kept; the next turn reads only the stored events after the last one it saved and applies them the
way Rasa's replay would (``tracker.update``). Nothing else changes: the database stays the one record, and a
kept tracker is used only when the database proves it is still current.

A kept tracker is used when, and only when:
- it is the object this store saved, unchanged since (same event deque, same length): a turn that failed
  after the save or a caller that kept appending leaves it unusable;
- the database still holds the first and the last of its saved events, with the same ids and the same stored
  text (an erased conversation, or one pruned by retention, fails this even when SQLite reuses the ids, or
  when a turn stored new rows after an erasure);
- the events stored after it (another Rasa server's turns) start no new session: Rasa reads a session from
  its start, so those are read whole.
Otherwise the store reads the session as Rasa does. Only trackers whose events are what Rasa's read gives
(one session, from its start) are kept, so both ways give the same tracker; the tests compare them.

Privacy: a kept conversation holds what the shopper typed, in this process's memory. "Forget me" in the chat
leaves only what the database keeps (the conversation from the forgetting on); an erasure by another process
(the shop API, retention) makes it unusable at once, and it is dropped at the shopper's next message or when
it expires. Entries expire ``DAOGOU_RECENT_CONVERSATIONS_SECONDS`` after their last use (300 by default),
checked at every message and, on an idle server, by a sweeper thread every minute at most; at most
``DAOGOU_RECENT_CONVERSATIONS`` are kept (128; 0 turns this off): about 1.5 kB per event, some 0.3 MB for a
20-message conversation.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Text

from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

SIZE_VARIABLE = "DAOGOU_RECENT_CONVERSATIONS"
SECONDS_VARIABLE = "DAOGOU_RECENT_CONVERSATIONS_SECONDS"
DEFAULT_SIZE = 128
DEFAULT_SECONDS = 300.0


def row_digest(data: Text) -> bytes:
    """A digest of a stored event's JSON text: proves a row is the one saved without keeping its text twice."""
    return hashlib.blake2b(data.encode("utf-8"), digest_size=16).digest()


@dataclass(frozen=True)
class StoredRow:
    """One stored event's row: its id and a digest of its text (SQLite hands the highest deleted ids out again)."""

    id: int
    digest: bytes

    @classmethod
    def of(cls, row_id: int, data: Text) -> "StoredRow":
        return cls(row_id, row_digest(data))


@dataclass(frozen=True)
class StoredPosition:
    """Where a tracker's stored events lie: the rows of the session's first and last events and how many.
    Both ends are checked: an erasure removes the first even when a turn stored new rows after it."""

    first: StoredRow
    last: StoredRow
    stored_events: int


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    used_at: float


_POSITION_ATTRIBUTE = "_daogou_stored_position"


def mark_stored(tracker: DialogueStateTracker, position: StoredPosition) -> None:
    """Note on the tracker object that its first `position.stored_events` events are stored, ending at
    `position`. Noted on the object itself: a copy, or a tracker built elsewhere, has no such note."""
    setattr(tracker, _POSITION_ATTRIBUTE, (tracker.events, position))


def stored_position(tracker: DialogueStateTracker) -> Optional[StoredPosition]:
    """The position noted by `mark_stored`, if the tracker still has the event deque it had then ("forget me"
    replaces it)."""
    noted = getattr(tracker, _POSITION_ATTRIBUTE, None)
    if noted is None or noted[0] is not tracker.events or len(tracker.events) < noted[1].stored_events:
        return None
    return noted[1]


def is_one_session_from_its_start(tracker: DialogueStateTracker) -> bool:
    """True when the tracker's events are what Rasa's read of the latest session gives: no session starts
    after the first event, and no event history limit cutting the front."""
    if tracker.events.maxlen is not None:
        return False
    return not any(isinstance(event, SessionStarted) for index, event in enumerate(tracker.events) if index)


class RecentConversations:
    """Trackers saved by this process, least recently used first, each with its stored position."""

    def __init__(self, size: Optional[int] = None, seconds: Optional[float] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size = int(os.environ.get(SIZE_VARIABLE, DEFAULT_SIZE)) if size is None else size
        self.seconds = float(os.environ.get(SECONDS_VARIABLE, DEFAULT_SECONDS)) if seconds is None else seconds
        if self.size < 0 or self.seconds < 0:
            raise ValueError(f"{SIZE_VARIABLE} and {SECONDS_VARIABLE} must not be negative")
        self._clock = clock
        self._kept: "OrderedDict[Text, _Kept]" = OrderedDict()
        self._lock = threading.Lock()
        self._sweeper: Optional[threading.Thread] = None

    def keep(self, tracker: DialogueStateTracker) -> None:
        """Remember a tracker just saved (`mark_stored`); one that is not one whole session is forgotten."""
        if not self.size or stored_position(tracker) is None or not is_one_session_from_its_start(tracker):
            self.drop(tracker.sender_id)
            return
        now = self._clock()
        with self._lock:
            self._kept[tracker.sender_id] = _Kept(tracker, now)
            self._kept.move_to_end(tracker.sender_id)
            self._expire(now)
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep, name="recent-conversations-expiry", daemon=True)
                self._sweeper.start()

    def take(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The kept tracker of a conversation, removed (the turn that took it owns it until it saves), if it
        has no event that is not stored."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            kept = self._kept.pop(sender_id, None)
        if kept is None:
            return None
        position = stored_position(kept.tracker)
        if position is None or len(kept.tracker.events) != position.stored_events:
            return None
        return kept.tracker

    def drop(self, sender_id: Text) -> None:
        with self._lock:
            self._kept.pop(sender_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def __contains__(self, sender_id: Text) -> bool:
        with self._lock:
            return sender_id in self._kept

    def sweep(self) -> None:
        """Drop what has expired now: the messages themselves do it, this is for a server gone quiet."""
        with self._lock:
            self._expire(self._clock())

    def _sweep(self) -> None:
        while True:
            time.sleep(min(max(self.seconds, 1.0), 60.0))
            self.sweep()

    def _expire(self, now: float) -> None:
        while self._kept:
            sender_id, oldest = next(iter(self._kept.items()))
            if len(self._kept) <= self.size and now - oldest.used_at < self.seconds:
                break
            del self._kept[sender_id]
