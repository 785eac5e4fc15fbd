"""``python -m recsys export-events``: the database's events as a dated, partitioned Parquet snapshot.

This is how events reach Spark (:mod:`recsys.spark`): one folder per export,
``events-<UTC time>/``, partitioned by event date (``date=YYYY-MM-DD/part-NNNNN.parquet``),
written chunk by chunk while the rows stream from SQL, so memory stays flat whatever the
log's size (only the shopper id list is held: millions of short strings, not events).

Shopper and product ids become int32 the way the serving index numbers them: a product is
its position in the catalog (``Catalog.ids``), a shopper their rank among the sorted
distinct shopper ids (what :meth:`recsys.events.Interactions.from_events` gives as rows).
The id lists are written beside the data (``_users.txt``, ``_items.txt``; Spark skips files
starting with ``_``) with a ``_manifest.json`` written last: a folder without it is an
unfinished export and is never read.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from tqdm.auto import tqdm

from recsys.artifacts import ids_hash
from recsys.events import EVENT_TYPES
from recsys.store import Store, StoreError, events_table

MANIFEST_FILE = "_manifest.json"
USERS_FILE = "_users.txt"
ITEMS_FILE = "_items.txt"
#: Columns of every Parquet part: ``row`` is the event's database id, so a bad row can be named.
SNAPSHOT_SCHEMA = pa.schema([
    ("row", pa.int64()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("user", pa.int32()),
    ("item", pa.int32()),
    ("event_type", pa.string()),
    ("value", pa.float64()),
])


class SnapshotError(ValueError):
    """An event snapshot is unfinished, or holds rows that cannot be trained on; the message names the row."""


@dataclass
class SnapshotManifest:
    """What an export holds; read back by the Spark trainer and the benchmarks."""

    created_at: str
    n_events: int
    n_users: int
    n_items: int
    catalog_hash: str
    first_event: Optional[str]
    last_event: Optional[str]


@dataclass
class EventSnapshot:
    """A finished export: its folder, manifest and the id lists its int32 columns index."""

    path: Path
    manifest: SnapshotManifest
    user_ids: List[str]
    item_ids: List[str]

    @classmethod
    def open(cls, path: Path) -> "EventSnapshot":
        path = Path(path)
        try:
            manifest = SnapshotManifest(**json.loads((path / MANIFEST_FILE).read_text()))
            users = [json.loads(line) for line in (path / USERS_FILE).read_text(encoding="utf-8").splitlines()]
            items = [json.loads(line) for line in (path / ITEMS_FILE).read_text(encoding="utf-8").splitlines()]
        except (OSError, ValueError, TypeError) as exc:
            raise SnapshotError(f"{path} is not a finished event snapshot ({exc}); export one with "
                                f"`python -m recsys export-events`") from exc
        if len(users) != manifest.n_users or len(items) != manifest.n_items:
            raise SnapshotError(f"{path}: id lists do not match the manifest")
        return cls(path, manifest, users, items)


def user_index(store: Store, max_row: Optional[int] = None) -> List[str]:
    """Distinct shopper ids (of events up to ``max_row``) in serving-row order (sorted as :func:`numpy.unique` sorts)."""
    query = select(events_table.c.user_id).distinct()
    if max_row is not None:
        query = query.where(events_table.c.id <= max_row)
    with store.engine.connect() as connection:
        ids = [row[0] for row in connection.execute(query)]
    return sorted(str(u) for u in ids)


class SnapshotWriter:
    """Writes one snapshot folder: chunks of int-coded events as they come, then the id lists and manifest.

    :func:`export_events` feeds it from SQL; the scale benchmark feeds it a replayed log directly.
    """

    def __init__(self, out: Path, now: Optional[datetime] = None) -> None:
        self.now = now or datetime.now(timezone.utc)
        self.out = Path(out)
        if self.out.exists():
            raise StoreError(f"{self.out} exists already")
        self.out.mkdir(parents=True)
        self.parts = 0
        self.n_events = 0
        self.first: Optional[pd.Timestamp] = None
        self.last: Optional[pd.Timestamp] = None

    def write(self, frame: pd.DataFrame) -> None:
        """One chunk (columns of :data:`SNAPSHOT_SCHEMA`), split by event date into partition folders."""
        if frame.empty:
            return
        dates = frame["timestamp"].dt.strftime("%Y-%m-%d")
        for date, rows in frame.groupby(dates, sort=True):
            folder = self.out / f"date={date}"
            folder.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pandas(rows[SNAPSHOT_SCHEMA.names], schema=SNAPSHOT_SCHEMA, preserve_index=False)
            pq.write_table(table, folder / f"part-{self.parts:05d}.parquet")
        self.parts += 1
        self.n_events += len(frame)
        low, high = frame["timestamp"].min(), frame["timestamp"].max()
        self.first = low if self.first is None else min(self.first, low)
        self.last = high if self.last is None else max(self.last, high)

    def close(self, user_ids: Sequence[str], item_ids: Sequence[str]) -> EventSnapshot:
        """Write the id lists (one JSON string a line: an id may hold any character), then the manifest."""
        (self.out / USERS_FILE).write_text("".join(json.dumps(str(u)) + "\n" for u in user_ids), encoding="utf-8")
        (self.out / ITEMS_FILE).write_text("".join(json.dumps(str(i)) + "\n" for i in item_ids), encoding="utf-8")
        manifest = SnapshotManifest(
            created_at=self.now.isoformat(timespec="seconds"), n_events=self.n_events, n_users=len(user_ids),
            n_items=len(item_ids), catalog_hash=ids_hash([str(i) for i in item_ids]),
            first_event=None if self.first is None else self.first.isoformat(),
            last_event=None if self.last is None else self.last.isoformat(),
        )
        tmp = self.out / f".{MANIFEST_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(manifest), indent=2))
        tmp.replace(self.out / MANIFEST_FILE)
        return EventSnapshot(self.out, manifest, [str(u) for u in user_ids], [str(i) for i in item_ids])


def export_events(store: Store, item_ids: Sequence[str], out_dir: Path, chunk: int = 200_000,
                  show_progress: bool = False, now: Optional[datetime] = None) -> EventSnapshot:
    """Stream every event into a new snapshot folder under ``out_dir``; returns it.

    A row about a product outside ``item_ids``, or of an unknown event type, stops the
    export with the row's id named (the half-written folder has no manifest, so it is never read).
    """
    now = now or datetime.now(timezone.utc)
    writer = SnapshotWriter(Path(out_dir) / f"events-{now.strftime('%Y%m%dT%H%M%SZ')}", now)
    # The export is the events up to the newest id now: rows landing meanwhile wait for the next one.
    with store.engine.connect() as connection:
        max_row, total = connection.execute(select(func.max(events_table.c.id), func.count(events_table.c.id))).first()
    users = user_index(store, max_row or 0)
    user_row: Dict[str, int] = {u: i for i, u in enumerate(users)}
    item_position: Dict[str, int] = {item: i for i, item in enumerate(item_ids)}
    if len(users) >= 2**31 or len(item_ids) >= 2**31:
        raise StoreError("more than 2^31 shoppers or products do not fit the int32 index")
    columns = [events_table.c.id, events_table.c.timestamp, events_table.c.user_id, events_table.c.event_type,
               events_table.c.item_id, events_table.c.value]
    query = select(*columns).where(events_table.c.id <= (max_row or 0)).order_by(events_table.c.id)
    with store.engine.connect() as connection, tqdm(total=total or 0, desc="exporting events", unit="ev",
                                                        disable=not show_progress) as progress:
        result = connection.execution_options(stream_results=True).execute(query)
        for rows in result.partitions(chunk):
            frame = pd.DataFrame(rows, columns=["row", "timestamp", "user_id", "event_type", "item_id", "value"])
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            frame["user"] = frame["user_id"].map(user_row)
            items = frame["item_id"].map(item_position)
            bad = items.isna() | frame["user"].isna() | ~frame["event_type"].isin(EVENT_TYPES)
            if bad.any():
                row = frame[bad].iloc[0]
                raise StoreError(f"event row {int(row['row'])} cannot be exported: product {row['item_id']!r} "
                                 f"is not in the catalog or event type {row['event_type']!r} is unknown")
            frame["user"] = frame["user"].astype(np.int32)
            frame["item"] = items.astype(np.int32)
            frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
            writer.write(frame)
            progress.update(len(frame))
    return writer.close(users, item_ids)
