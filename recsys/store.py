"""The recommender's database: products, compatibility links and shopper events.

SQLAlchemy Core over SQLite by default (one file under ``var/``) and PostgreSQL
by URL (``DAOGOU_DATABASE_URL``). The committed catalog files are the source of
truth for products; :meth:`Store.import_catalog` copies them in, in one
transaction, and is idempotent. Events are appended as shoppers act and read
back as the table the models train on.

The events table is the one truth about shoppers for every process that serves
recommendations: each asks it per request for a shopper's :class:`Fingerprint`
(one indexed query) and rereads that shopper's rows when it changed. SQLite runs
in WAL mode with a busy timeout, so readers in other processes never block the
writer and a writer waits its turn instead of failing.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool
from tqdm.auto import tqdm

from recsys.catalog import Catalog, Product
from recsys.events import EVENT_COLUMNS, check_event_table, load_events

logger = logging.getLogger(__name__)

metadata = MetaData()

products_table = Table(
    "products",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("category", String(32), nullable=False, index=True),
    Column("brand", String(64), nullable=False, index=True),
    Column("model", String(256), nullable=False),
    Column("name_en", String(512), nullable=False),
    Column("name_zh", String(512), nullable=False),
    Column("price", Float, nullable=False),
    Column("list_price", Float),
    Column("currency", String(3), nullable=False),
    Column("stock", Integer, nullable=False),
    Column("rating", Float),
    Column("review_count", Integer),
    Column("release_year", Integer),
    Column("record", Text, nullable=False),  # the full validated catalog row, as JSON
)

links_table = Table(
    "product_links",
    metadata,
    Column("product_id", String(128), ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("fits_id", String(128), ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(32), nullable=False, default="fits"),
)

events_table = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("timestamp", DateTime(timezone=True), nullable=False, index=True),
    Column("user_id", String(128), nullable=False, index=True),
    Column("session_id", String(128), nullable=False),
    Column("event_type", String(16), nullable=False),
    Column("item_id", String(128), ForeignKey("products.id"), nullable=False),
    Column("value", Float),
    # The client's idempotency key: an event sent twice (a retry) is stored once. NULL for seeded logs.
    Column("event_id", String(128)),
    # Which list the click came from (the shop API's ``recommendation_id``), for click-through.
    Column("recommendation_id", String(64)),
    Column("properties", Text),  # the client's extra fields, as JSON
    # Ids are never reused after a shopper is forgotten, so a fingerprint never comes back.
    sqlite_autoincrement=True,
)
Index("events_user_time", events_table.c.user_id, events_table.c.timestamp)
Index("events_event_id", events_table.c.event_id, unique=True)  # NULLs do not collide (SQLite and PostgreSQL)
#: Columns added after the first release: a database made before them gains them on open.
_ADDED_EVENT_COLUMNS = {"event_id": "VARCHAR(128)", "recommendation_id": "VARCHAR(64)", "properties": "TEXT"}


meta_table = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


class StoreError(ValueError):
    """A write the store refuses (unknown product, bad event type); nothing was written."""


@dataclass(frozen=True)
class ImportReport:
    inserted: int
    updated: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class Fingerprint:
    """What a shopper's rows in the events table look like: how many, the newest id and time.

    Any event recorded or forgotten by any process changes it (ids are never
    reused, and a re-recorded event has a new time), so a process may keep what it
    derived from the rows for as long as the fingerprint stays the same.
    """

    count: int = 0
    last_id: Optional[int] = None
    last_time: Optional[str] = None

    @property
    def empty(self) -> bool:
        return self.count == 0


#: How long a writer waits for another process's write to finish before giving up.
SQLITE_BUSY_TIMEOUT_S = 30


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer at once, across processes
    # WAL + NORMAL: a commit survives the process (a crash, a restart) without an fsync per transaction;
    # only a power cut may lose the last ones. A shop that needs more runs PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine_for(url: str, future: bool = True) -> Engine:
    """SQLite files: WAL, a busy timeout and a pool of open connections (opening one per request
    costs more than the query); other databases: a pool that checks connections before use.

    Also Rasa's conversation store on SQLite (``daogou_server.tracker_store``, ``future=False`` as Rasa's
    ORM code expects)."""
    url_object = make_url(url)
    if url_object.get_backend_name() != "sqlite":
        return create_engine(url, future=future, pool_pre_ping=True)
    database = url_object.database
    if database in (None, "", ":memory:"):
        engine = create_engine(url, future=future)
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=future, poolclass=QueuePool,
                               connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """One database; every method is a transaction of its own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = engine_for(url)
        #: Event writers of this process take turns here. SQLite lets one writer in at a time, and a
        #: thread that finds the write lock taken sleeps in SQLite's busy handler (1, 2, 5 ... 25 ms
        #: steps), far longer than the write it waits for: queueing on a Python lock instead keeps
        #: concurrent single-event requests at the database's own speed.
        self._event_write_lock = threading.Lock()
        self._add_missing_columns()
        metadata.create_all(self.engine)

    def _add_missing_columns(self) -> None:
        """Bring an events table made by an earlier version up to date (before its indexes are made)."""
        inspector = inspect(self.engine)
        if not inspector.has_table("events"):
            return
        present = {c["name"] for c in inspector.get_columns("events")}
        with self.engine.begin() as connection:
            for name, sql_type in _ADDED_EVENT_COLUMNS.items():
                if name not in present:
                    connection.execute(text(f"ALTER TABLE events ADD COLUMN {name} {sql_type}"))

    # -- catalog -----------------------------------------------------------
    def get_meta(self, key: str) -> Optional[str]:
        with self.engine.connect() as connection:
            return connection.execute(select(meta_table.c.value).where(meta_table.c.key == key)).scalar_one_or_none()

    def set_meta(self, key: str, value: str) -> None:
        """A small shared value every process reads (e.g. the background retrain's state)."""
        with self.engine.begin() as connection:
            self._set_meta(connection, key, value)

    def _set_meta(self, connection, key: str, value: str) -> None:
        connection.execute(delete(meta_table).where(meta_table.c.key == key))
        connection.execute(insert(meta_table).values(key=key, value=value))

    def import_catalog(self, catalog: Catalog, show_progress: bool = False) -> ImportReport:
        """Make the products table equal to ``catalog``: insert, update, remove; all or nothing.

        Products that events still refer to are kept with zero stock instead of
        deleted, so no shopper's history loses its items.
        """
        rows = {p.id: _product_row(p) for p in catalog.products}
        inserted = updated = unchanged = removed = 0
        with self.engine.begin() as connection:
            existing = {r.id: r.record for r in connection.execute(select(products_table.c.id, products_table.c.record))}
            for product_id, row in tqdm(rows.items(), desc="importing products", disable=not show_progress, total=len(rows)):
                if product_id not in existing:
                    connection.execute(insert(products_table).values(**row))
                    inserted += 1
                elif existing[product_id] != row["record"]:
                    connection.execute(update(products_table).where(products_table.c.id == product_id).values(**row))
                    updated += 1
                else:
                    unchanged += 1
            gone = set(existing) - set(rows)
            if gone:
                referenced = {r[0] for r in connection.execute(select(events_table.c.item_id).where(events_table.c.item_id.in_(gone)).distinct())}
                connection.execute(delete(products_table).where(products_table.c.id.in_(gone - referenced)))
                if referenced:
                    connection.execute(update(products_table).where(products_table.c.id.in_(referenced)).values(stock=0))
                removed = len(gone)
            connection.execute(delete(links_table))
            link_rows = [{"product_id": a, "fits_id": b, "kind": "fits"} for a, b in catalog.links]
            if link_rows:
                connection.execute(insert(links_table), link_rows)
            self._set_meta(connection, "catalog_hash", catalog.content_hash)
        return ImportReport(inserted, updated, unchanged, removed)

    def product_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(products_table)).scalar_one())

    def product_ids(self) -> List[str]:
        with self.engine.connect() as connection:
            return [r[0] for r in connection.execute(select(products_table.c.id).order_by(products_table.c.id))]

    def links(self) -> List[Tuple[str, str]]:
        """The stored (accessory id, product id it fits) pairs, for other readers of the database;
        the recommender answers from :meth:`recsys.catalog.Catalog.accessories_for`."""
        with self.engine.connect() as connection:
            query = select(links_table.c.product_id, links_table.c.fits_id).order_by(links_table.c.product_id, links_table.c.fits_id)
            return [(r[0], r[1]) for r in connection.execute(query)]

    # -- events ------------------------------------------------------------
    def event_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(events_table)).scalar_one())

    def append_events(self, events: pd.DataFrame, show_progress: bool = False, chunk: int = 20_000) -> int:
        """Append a batch of events; a batch with an unknown product or event type writes nothing."""
        problem = check_event_table(events)
        if problem:
            raise StoreError(f"events {problem}")
        known = set(self.product_ids())
        unknown = sorted(set(events["item_id"]) - known)
        if unknown:
            raise StoreError(f"unknown product ids: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
        records = [
            {
                "timestamp": pd.Timestamp(r.timestamp).to_pydatetime(),
                "user_id": str(r.user_id),
                "session_id": str(r.session_id),
                "event_type": r.event_type,
                "item_id": r.item_id,
                "value": None if pd.isna(r.value) else float(r.value),
            }
            for r in events.itertuples(index=False)
        ]
        with self.engine.begin() as connection:
            for start in tqdm(range(0, len(records), chunk), desc="importing events", disable=not show_progress):
                connection.execute(insert(events_table), records[start:start + chunk])
        return len(records)

    def record_event(self, user_id: str, item_id: str, event_type: str, session_id: Optional[str] = None,
                     value: Optional[float] = None, timestamp: Optional[datetime] = None) -> None:
        """One event as it happens (a click, a purchase, a rating from the chat)."""
        frame = pd.DataFrame([{
            "timestamp": timestamp or datetime.now(timezone.utc), "user_id": user_id,
            "session_id": session_id or user_id, "event_type": event_type, "item_id": item_id, "value": value,
        }])
        self.append_events(frame)

    def insert_events(self, rows: Sequence[Dict[str, object]], merges: Sequence[Tuple[str, str]] = ()) -> List[bool]:
        """Store checked events in one transaction, each ``event_id`` at most once; returns, per row,
        whether it was stored (False: its id was already stored, or came earlier in the batch).

        ``merges``: (anonymous key, user id) pairs whose rows move to the user in the same
        transaction, so a shopper who logs in keeps what they did before. Committed before this
        returns: an answer of "stored" survives a restart. Two processes racing on one id: the
        loser's transaction fails on the unique index and is retried once, seeing the winner's row.
        """
        for attempt in range(2):
            try:
                with self._event_write_lock, self.engine.begin() as connection:
                    ids = [r["event_id"] for r in rows if r.get("event_id")]
                    seen = set()
                    for start in range(0, len(ids), 500):
                        chunk = ids[start:start + 500]
                        seen.update(r[0] for r in connection.execute(
                            select(events_table.c.event_id).where(events_table.c.event_id.in_(chunk))))
                    stored, fresh = [], []
                    for row in rows:
                        key = row.get("event_id")
                        is_new = key is None or key not in seen
                        if key is not None:
                            seen.add(key)
                        stored.append(is_new)
                        if is_new:
                            fresh.append(row)
                    if fresh:
                        connection.execute(insert(events_table), fresh)
                    for anonymous, user_id in merges:
                        connection.execute(update(events_table).where(events_table.c.user_id == anonymous)
                                           .values(user_id=user_id))
                return stored
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def event_ids_stored(self) -> int:
        """How many events carry a client event id (what the shop API's tests count)."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count(events_table.c.event_id))).scalar_one())

    def events_frame(self, user_id: Optional[str] = None) -> pd.DataFrame:
        """Events in the order they happened, as the models and the loader expect them."""
        query = select(*[events_table.c[c] for c in EVENT_COLUMNS]).order_by(events_table.c.timestamp, events_table.c.id)
        if user_id is not None:
            query = query.where(events_table.c.user_id == user_id)
        with self.engine.connect() as connection:
            frame = pd.DataFrame(connection.execute(query).fetchall(), columns=list(EVENT_COLUMNS))
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return frame

    def fingerprint(self, user_id: str) -> Fingerprint:
        """The shopper's :class:`Fingerprint` now: one query on the (user, time) index, well under a
        millisecond, asked on every request so that no process serves a shopper from stale rows."""
        with self.engine.connect() as connection:
            row = connection.execute(_SHOPPER_FINGERPRINT, {"user_id": user_id}).first()
        return _fingerprint(row)

    def fingerprints(self) -> Dict[str, Fingerprint]:
        """Every shopper's fingerprint (read before the events a snapshot is built from: a row
        that lands in between then shows as a changed fingerprint, never as a stale one)."""
        with self.engine.connect() as connection:
            return {row[0]: _fingerprint(row) for row in connection.execute(_ALL_FINGERPRINTS)}

    def forget_user(self, user_id: str) -> int:
        """Delete everything stored about a shopper; returns how many events went."""
        with self.engine.begin() as connection:
            return connection.execute(delete(events_table).where(events_table.c.user_id == user_id)).rowcount


_FINGERPRINT_COLUMNS = (events_table.c.user_id, func.count(events_table.c.id), func.max(events_table.c.id),
                        func.max(events_table.c.timestamp))
#: Built once: a statement constructed per request costs more than the query it runs.
_SHOPPER_FINGERPRINT = select(*_FINGERPRINT_COLUMNS).where(events_table.c.user_id == bindparam("user_id")).group_by(events_table.c.user_id)
_ALL_FINGERPRINTS = select(*_FINGERPRINT_COLUMNS).group_by(events_table.c.user_id)


def _fingerprint(row) -> Fingerprint:
    if row is None:  # no rows: a shopper never seen, or forgotten
        return Fingerprint()
    return Fingerprint(count=int(row[1]), last_id=int(row[2]), last_time=str(row[3]))


def _product_row(product: Product) -> Dict[str, object]:
    return {
        "id": product.id,
        "category": product.category,
        "brand": product.brand,
        "model": product.model,
        "name_en": product.name["en"],
        "name_zh": product.name["zh"],
        "price": product.price,
        "list_price": product.list_price,
        "currency": product.currency,
        "stock": product.stock,
        "rating": product.rating,
        "review_count": product.review_count,
        "release_year": product.release_year,
        "record": json.dumps(product.to_record(), ensure_ascii=False, sort_keys=True),
    }


def open_store(settings, catalog: Catalog, seed_log: Optional[Path] = None, show_progress: bool = False) -> Store:
    """The deployment's database, holding this catalog (re-imported only when its content changed).

    With ``seed_log``, an empty events table is filled from that log first; which
    log (the demo log, a shop's export, none) is the caller's choice.
    """
    store = Store(settings.database_url)
    if store.get_meta("catalog_hash") != catalog.content_hash:
        report = store.import_catalog(catalog, show_progress=show_progress)
        logger.info("catalog imported: %s", report)
    if seed_log is not None and store.event_count() == 0:
        count = store.append_events(load_events(seed_log), show_progress=show_progress)
        logger.info("seeded %d events from %s", count, seed_log)
    return store
