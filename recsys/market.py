"""Popularity that moves with the market: what shoppers did in the last hour, in every process.

The trained popularity model knows the log up to the last retrain; a product
bought a hundred times this hour must rise for everybody now. Each serving
process keeps weighted counters of the recent window, fed incrementally from
the shared events table: each request reads only the rows with an id above the
newest one it has seen (a primary-key range, empty most of the time, so it costs
one indexed query), adds them to per-minute buckets and drops buckets older than
the window. Every process reads the same table, so every process agrees, and an
event's own transaction needs no extra write.

Limits, stated: events carrying a timestamp older than the window are not
counted (they are history, not market); a forgotten shopper's events leave the
counters when their minute leaves the window; with PostgreSQL, ids from
concurrent transactions may commit out of order, so a row committed late behind
a higher id is missed by the counters (never by the shopper's own history).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, select

from recsys.events import EVENT_WEIGHTS
from recsys.store import Store, events_table

#: How far back the market looks.
WINDOW = timedelta(hours=1)
#: A purchase counts as one fresh shopper-product in the trained popularity's units (each shopper
#: counts once per product there); lighter events count in proportion to their weight.
MARKET_WEIGHTS: Mapping[str, float] = {t: w / EVENT_WEIGHTS["purchase"] for t, w in EVENT_WEIGHTS.items()}

_COLUMNS = (events_table.c.id, events_table.c.timestamp, events_table.c.item_id, events_table.c.event_type)
_SINCE_ID = select(*_COLUMNS).where(events_table.c.id > bindparam("last")).order_by(events_table.c.id)
_SINCE_TIME = select(*_COLUMNS).where(events_table.c.timestamp >= bindparam("since")).order_by(events_table.c.id)
_NEWEST_ID = select(func.max(events_table.c.id))


class MarketCounters:
    """Weighted event counts per product over the last :data:`WINDOW`, kept current per request."""

    def __init__(self, store: Store, window: timedelta = WINDOW,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._store = store
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: "OrderedDict[int, dict]" = OrderedDict()  # minute -> {product id: weight}
        self._totals: dict = {}
        #: The totals in one catalog's order, kept in step with ``_totals`` (see :meth:`as_array`).
        self._index: Optional[Mapping[str, int]] = None
        self._array = np.zeros(0, dtype=np.float64)
        self._last_id = 0
        #: Bumped whenever the counts change: callers cache what they derive from them by it.
        self.version = 0
        self._started = False

    def refresh(self) -> int:
        """Read the rows committed since the last call, expire old minutes; returns :attr:`version`."""
        with self._lock:
            now = self._clock()
            with self._store.engine.connect() as connection:
                if not self._started:
                    rows = connection.execute(_SINCE_TIME, {"since": now - self._window}).fetchall()
                    self._last_id = int(connection.execute(_NEWEST_ID).scalar() or 0)
                    self._started = True
                else:
                    rows = connection.execute(_SINCE_ID, {"last": self._last_id}).fetchall()
            changed = self._add(rows, now)
            changed |= self._expire(now)
            if changed:
                self.version += 1
            return self.version

    def _add(self, rows, now: datetime) -> bool:
        oldest = _minute(now - self._window)
        added = out_of_order = False
        for event_id, timestamp, item_id, event_type in rows:
            self._last_id = max(self._last_id, int(event_id))
            weight = MARKET_WEIGHTS.get(event_type, 0.0)
            minute = _minute(timestamp)
            if weight <= 0 or minute < oldest:
                continue
            bucket = self._buckets.get(minute)
            if bucket is None:
                out_of_order |= bool(self._buckets) and minute < next(reversed(self._buckets))
                bucket = self._buckets[minute] = {}
            bucket[item_id] = bucket.get(item_id, 0.0) + weight
            self._totals[item_id] = self._totals.get(item_id, 0.0) + weight
            self._put(item_id, self._totals[item_id])
            added = True
        if out_of_order:  # minutes expire from the front: keep them in order (rows come nearly sorted)
            self._buckets = OrderedDict(sorted(self._buckets.items()))
        return added

    def _expire(self, now: datetime) -> bool:
        oldest = _minute(now - self._window)
        expired = False
        while self._buckets and next(iter(self._buckets)) < oldest:
            _, bucket = self._buckets.popitem(last=False)
            for item_id, weight in bucket.items():
                left = self._totals.get(item_id, 0.0) - weight
                if left <= 1e-9:  # exactly zero, not a rounding residue
                    self._totals.pop(item_id, None)
                    left = 0.0
                else:
                    self._totals[item_id] = left
                self._put(item_id, left)
            expired = True
        return expired

    def _put(self, item_id: str, total: float) -> None:
        position = self._index.get(item_id) if self._index is not None else None
        if position is not None and position < self._array.size:
            self._array[position] = total

    def counts(self) -> Mapping[str, float]:
        """Product id -> weighted count in the window (a copy)."""
        with self._lock:
            return dict(self._totals)

    def as_array(self, index: Mapping[str, int], n_items: int) -> np.ndarray:
        """The counts in catalog order (products not in ``index`` are left out), as a new array.

        The array is kept up to date as rows arrive and minutes expire, so under a stream of events a
        request copies it instead of walking every product counted; it is rebuilt only for another catalog.
        """
        with self._lock:
            if index is not self._index or self._array.size != n_items:
                self._index, self._array = index, np.zeros(n_items, dtype=np.float64)
                for item_id, weight in self._totals.items():
                    position = index.get(item_id)
                    if position is not None and position < n_items:
                        self._array[position] = weight
            return self._array.copy()


def _minute(timestamp) -> int:
    if isinstance(timestamp, datetime):  # the common case, without pandas (a request reads every new row)
        if timestamp.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
            timestamp = timestamp.replace(tzinfo=timezone.utc)
        return int(timestamp.timestamp() // 60)
    value = pd.Timestamp(timestamp)
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        value = value.tz_localize("UTC")
    return int(value.timestamp() // 60)
