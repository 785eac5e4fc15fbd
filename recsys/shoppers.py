"""Each shopper as the database says now: their history, item sequence and dislikes.

The database is the one truth about shoppers. Several processes serve
recommendations (action servers, the shop site's API); an event or a "forget me"
committed by any of them must change every other's next answer. So each request
reads the shopper's :class:`~recsys.store.Fingerprint` (one indexed query) and a
process keeps what it built from the shopper's rows only while that fingerprint
stays the same: a changed shopper is reread from the database, a forgotten one
is empty at once.

Trained user factors describe a shopper's events at training time; they are
used only while the shopper's events are exactly those (:meth:`ShopperBook.model_row`),
otherwise the models fold the shopper in from their current history.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Dict, FrozenSet, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.artifacts import TrainedShopper
from recsys.catalog import Catalog
from recsys.events import Interactions, data_hash, disliked_items, purchased_items
from recsys.store import Fingerprint, Store

logger = logging.getLogger(__name__)

#: Shoppers whose state a process keeps at most (least recently served first out); an evicted one
#: is rebuilt from the start-up snapshot or the database on their next request.
CACHE_SIZE = 100_000


@dataclass(frozen=True)
class Shopper:
    """One shopper's state, built from their rows as they were at ``fingerprint``."""

    user_id: Optional[str]
    fingerprint: Fingerprint
    #: ``(1, n_items)`` summed event weights: what the models read.
    history: sp.csr_matrix
    #: Items touched, oldest first, repeats collapsed: what sequence models read.
    sequence: np.ndarray
    #: Catalog positions whose latest rating from this shopper is a dislike: never recommended to them.
    disliked: FrozenSet[int]
    #: Catalog positions the shopper bought: not recommended again; their accessories are raised.
    purchased: FrozenSet[int] = frozenset()


def empty_shopper(user_id: Optional[str], n_items: int, fingerprint: Fingerprint = Fingerprint()) -> Shopper:
    return Shopper(user_id, fingerprint, sp.csr_matrix((1, n_items), dtype=np.float32), np.empty(0, dtype=np.int64), frozenset())


@dataclass
class Snapshot:
    """All shoppers as read at start-up, in one pass: what a process serves from until a shopper changes."""

    fingerprints: Dict[str, Fingerprint]
    interactions: Interactions
    disliked: Dict[str, FrozenSet[int]]
    purchased: Dict[str, FrozenSet[int]]
    #: :func:`recsys.events.data_hash` of the events read: tells whether models saw exactly these.
    events_hash: str
    n_events: int

    @classmethod
    def read(cls, store: Store, catalog: Catalog, item_ids: Sequence[str]) -> "Snapshot":
        # Fingerprints first: an event landing between the two reads shows as a changed
        # fingerprint on that shopper's next request (reread), never as a stale one.
        fingerprints = store.fingerprints()
        events = store.events_frame()
        interactions = Interactions.from_events(events, item_ids)
        disliked = {user: frozenset(items) for user, items in disliked_items(events, catalog.index).items()}
        purchased = {user: frozenset(items) for user, items in purchased_items(events, catalog.index).items()}
        return cls(fingerprints, interactions, disliked, purchased, data_hash(events), len(events))


class ShopperBook:
    """Per-process cache of shoppers, checked against the database on every request."""

    def __init__(self, store: Store, catalog: Catalog, snapshot: Optional[Snapshot] = None) -> None:
        self._store = store
        self._catalog = catalog
        self._item_ids = [p.id for p in catalog.products]
        self._snapshot = snapshot or Snapshot.read(store, catalog, self._item_ids)
        self._snapshot_rows = self._snapshot.interactions.user_index
        self._cache: "OrderedDict[str, Shopper]" = OrderedDict()
        self._lock = threading.Lock()
        self._trained: Dict[str, TrainedShopper] = {}
        #: What a shopper without events gets: one shared, never modified, and never cached (anyone
        #: can send a new shopper id; remembering each would only fill the cache).
        self._nobody = empty_shopper(None, len(self._item_ids))

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    # -- trained factors ---------------------------------------------------------------------
    def use_trained(self, shoppers: Sequence[TrainedShopper], events_hash: str) -> Dict[str, TrainedShopper]:
        """Take the shoppers a set of models was trained on (after loading or reloading models).

        Artefacts that did not record each shopper's events (older ones) are trusted only
        when they were trained on exactly the events of the start-up snapshot.
        """
        trained = {s.user_id: s for s in shoppers}
        if shoppers and shoppers[0].count is None:
            if events_hash == self._snapshot.events_hash:
                known = self._snapshot.fingerprints
                trained = {u: TrainedShopper(u, s.row, known[u].count, known[u].last_id) for u, s in trained.items() if u in known}
            else:
                logger.info("models without per-shopper event counts, trained on other events: every shopper is folded in")
                trained = {}
        self._trained = trained
        return trained

    def model_row(self, shopper: Shopper, trained_shoppers: Optional[Mapping[str, TrainedShopper]] = None) -> Optional[int]:
        """The shopper's row in the trained factors while their events are those the models saw, else None.

        ``trained_shoppers``: those of the artefact set the caller ranks with (a request holds one
        set from start to end); by default the set taken last.
        """
        book = self._trained if trained_shoppers is None else trained_shoppers
        trained = book.get(shopper.user_id) if shopper.user_id is not None else None
        if trained is None or shopper.fingerprint.empty:
            return None
        fingerprint = shopper.fingerprint
        return trained.row if (trained.count, trained.last_id) == (fingerprint.count, fingerprint.last_id) else None

    # -- shoppers ------------------------------------------------------------------------------
    def get(self, user_id: Optional[str]) -> Shopper:
        """The shopper as the database says now (an anonymous query has no history)."""
        if not user_id:
            return self._nobody
        fingerprint = self._store.fingerprint(user_id)
        with self._lock:
            cached = self._cache.get(user_id)
            if cached is not None and cached.fingerprint == fingerprint:
                self._cache.move_to_end(user_id)
                return cached
        return self._build(user_id, fingerprint)

    def refresh(self, user_id: str) -> Shopper:
        """Reread the shopper now (after this process wrote for them)."""
        return self._build(user_id, self._store.fingerprint(user_id))

    def _build(self, user_id: str, fingerprint: Fingerprint) -> Shopper:
        if fingerprint.empty:  # never seen, or forgotten: nothing worth keeping
            with self._lock:
                self._cache.pop(user_id, None)
            return replace(self._nobody, user_id=user_id, fingerprint=fingerprint)
        if self._snapshot.fingerprints.get(user_id) == fingerprint:
            shopper = self._from_snapshot(user_id, fingerprint)
        else:
            # Read after the fingerprint: rows that land in between make the next fingerprint differ.
            shopper = self._from_events(user_id, fingerprint, self._store.events_frame(user_id))
        with self._lock:
            self._cache[user_id] = shopper
            self._cache.move_to_end(user_id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return shopper

    def _from_snapshot(self, user_id: str, fingerprint: Fingerprint) -> Shopper:
        interactions = self._snapshot.interactions
        row = self._snapshot_rows[user_id]
        return Shopper(user_id, fingerprint, interactions.matrix[row], interactions.sequences[row],
                       self._snapshot.disliked.get(user_id, frozenset()), self._snapshot.purchased.get(user_id, frozenset()))

    def _from_events(self, user_id: str, fingerprint: Fingerprint, events: pd.DataFrame) -> Shopper:
        """The same aggregation training uses (:meth:`Interactions.from_events`), on one shopper's rows."""
        interactions = Interactions.from_events(events, self._item_ids, self._catalog.index)
        if not interactions.user_ids:
            return empty_shopper(user_id, len(self._item_ids), fingerprint)
        disliked = disliked_items(events, self._catalog.index).get(user_id, set())
        purchased = purchased_items(events, self._catalog.index).get(user_id, set())
        return Shopper(user_id, fingerprint, interactions.matrix[0], interactions.sequences[0], frozenset(disliked),
                       frozenset(purchased))

    def use_catalog(self, catalog: Catalog) -> None:
        """Serve shoppers over a grown catalog (products added while running): cached rows are rebuilt."""
        with self._lock:
            self._catalog = catalog
            self._item_ids = [p.id for p in catalog.products]
            self._nobody = empty_shopper(None, len(self._item_ids))
            self._cache.clear()

    @property
    def width(self) -> int:
        """How many products the shoppers built now are over."""
        return len(self._item_ids)

    def forget(self, user_id: str) -> None:
        """Drop what this process keeps about the shopper (the database rows are already gone)."""
        with self._lock:
            self._cache.pop(user_id, None)

    def known_shoppers(self) -> Mapping[str, Fingerprint]:
        """Shoppers with events at start-up (benchmarks draw their shoppers from here)."""
        return self._snapshot.fingerprints
