"""Full retrains in the background: on demand (CLI, API) or on a schedule, never blocking serving.

A retrain runs in its own process (``python -m recsys retrain``) on a snapshot of
the events, writes a new artefact set into a fresh directory and publishes it by
one atomic rename of the ``CURRENT`` pointer (:func:`recsys.artifacts.publish_set`);
each serving process swaps it in on its next request
(:meth:`recsys.Recommender.reload_if_changed`) and keeps answering with the old
set until then, and for good if the new one fails. The status lives in the
database (``retrain_status``), so every process reports the same one, and a
second start while one runs is answered with the running one.

``DAOGOU_RETRAIN_EVERY`` turns on the schedule: every serving process runs a
:class:`RetrainScheduler` thread, but a scheduled run starts only in the process
that moves the ``schedule`` row's ``next_run_at`` forward (one conditional
update), so a deployment starts one retrain per period however many workers it has.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import pandas as pd
from sqlalchemy import Column, DateTime, Integer, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from recsys.artifacts import new_set_directory, publish_set
from recsys.catalog import Catalog
from recsys.live_catalog import LiveCatalog
from recsys.model_sets import fit_and_save
from recsys.settings import Settings
from recsys.shoppers import Snapshot
from recsys.store import Store, metadata

logger = logging.getLogger(__name__)

IDLE, RUNNING, FAILED, SUCCEEDED = "idle", "running", "failed", "succeeded"
#: A run "running" for longer than this is taken for dead (its process killed) and may be replaced.
STALE_AFTER = timedelta(hours=6)
LAST, SCHEDULE = "last", "schedule"

status_table = Table(
    "retrain_status",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("n_events", Integer),
    Column("error", Text),
    Column("directory", Text),
    Column("next_run_at", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class RetrainStatus:
    """The deployment's latest retrain, as every process reads it."""

    state: str = IDLE
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    #: Events in the snapshot it trains on (known once the snapshot is read).
    n_events: Optional[int] = None
    #: Why it failed (None unless ``state == "failed"``).
    error: Optional[str] = None
    #: The artefact set it wrote.
    directory: Optional[str] = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value) -> Optional[str]:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).isoformat(timespec="seconds")


def _ensure_row(store: Store, name: str, **values) -> None:
    """The row exists (a read, and a write only the first time: health checks must not take the write lock)."""
    with store.engine.connect() as connection:
        if connection.execute(select(status_table.c.name).where(status_table.c.name == name)).first():
            return
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(status_table).values(name=name, state=IDLE, **values))
    except IntegrityError:
        pass  # there already


def read_status(store: Store) -> RetrainStatus:
    _ensure_row(store, LAST)
    with store.engine.connect() as connection:
        row = connection.execute(select(status_table).where(status_table.c.name == LAST)).mappings().one()
    return RetrainStatus(row["state"], _iso(row["started_at"]), _iso(row["finished_at"]), row["n_events"],
                         row["error"], row["directory"])


def claim(store: Store) -> bool:
    """Mark a retrain as running unless one already is (one conditional update: two callers, one wins)."""
    _ensure_row(store, LAST)
    now = _now()
    with store.engine.begin() as connection:
        claimed = connection.execute(
            update(status_table)
            .where(status_table.c.name == LAST)
            .where((status_table.c.state != RUNNING) | (status_table.c.started_at < now - STALE_AFTER))
            .values(state=RUNNING, started_at=now, finished_at=None, n_events=None, error=None, directory=None)
        ).rowcount
    return claimed == 1


def _finish(store: Store, state: str, error: Optional[str] = None, directory: Optional[Path] = None) -> None:
    with store.engine.begin() as connection:
        connection.execute(update(status_table).where(status_table.c.name == LAST).values(
            state=state, finished_at=_now(), error=error, directory=str(directory) if directory else None))


def start_retrain(settings: Settings, store: Store) -> RetrainStatus:
    """Start ``python -m recsys retrain`` in a child process and return at once.

    The child inherits this process's standard error, so its progress is in this server's log.
    A retrain already running is not doubled: its status is returned.
    """
    if not claim(store):
        logger.info("a retrain is already running; not starting another")
        return read_status(store)
    env = {**os.environ, **settings.to_env()}
    try:
        child = subprocess.Popen([sys.executable, "-m", "recsys", "retrain", "--claimed"], env=env,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        _finish(store, FAILED, f"could not start the retrain process: {exc}")
        raise
    logger.info("retrain started in process %d", child.pid)
    threading.Thread(target=child.wait, name="retrain-reaper", daemon=True).start()  # no zombie left behind
    return read_status(store)


def run_retrain(settings: Settings, store: Optional[Store] = None, claimed: bool = False) -> RetrainStatus:
    """Train a new artefact set on a snapshot of the events and publish it; the work of the child process.

    Any failure leaves the published set as it was, the status ``failed`` with the reason,
    and the reason in the log.
    """
    store = store or Store(settings.database_url)
    if not claimed and not claim(store):
        raise RuntimeError("a retrain is already running")
    directory: Optional[Path] = None
    try:
        catalog = LiveCatalog(Catalog.load(settings.catalog_path, settings.aliases_path), store).view.catalog
        snapshot = Snapshot.read(store, catalog, catalog.ids)
        with store.engine.begin() as connection:
            connection.execute(update(status_table).where(status_table.c.name == LAST).values(n_events=snapshot.n_events))
        logger.info("retrain: snapshot of %d events, %d products", snapshot.n_events, len(catalog))
        directory = new_set_directory(settings.model_dir)
        fit_and_save(settings, catalog, snapshot, directory)
        publish_set(settings.model_dir, directory)
    except Exception as exc:  # the reason goes to the status and the log; serving keeps the old set
        logger.exception("retrain failed; the previous models keep serving")
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        _finish(store, FAILED, f"{type(exc).__name__}: {exc}")
        return read_status(store)
    _finish(store, SUCCEEDED, directory=directory)
    logger.info("retrain succeeded: %s published", directory)
    return read_status(store)


def claim_scheduled_run(store: Store, every: float, now: Optional[datetime] = None) -> bool:
    """Whether this caller is the one to start the retrain due now (moves ``next_run_at`` on by ``every``)."""
    now = now or _now()
    _ensure_row(store, SCHEDULE, next_run_at=now + timedelta(seconds=every))
    with store.engine.begin() as connection:
        return connection.execute(
            update(status_table)
            .where(status_table.c.name == SCHEDULE)
            .where(status_table.c.next_run_at <= now)
            .values(next_run_at=now + timedelta(seconds=every))
        ).rowcount == 1


class RetrainScheduler(threading.Thread):
    """Checks now and then whether a scheduled retrain is due and, if this process wins it, starts it."""

    def __init__(self, settings: Settings, store: Store) -> None:
        super().__init__(name="retrain-scheduler", daemon=True)
        self._settings = settings
        self._store = store
        self._every = float(settings.retrain_every or 0)
        self._tick = max(1.0, min(60.0, self._every / 10))
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                if claim_scheduled_run(self._store, self._every):
                    start_retrain(self._settings, self._store)
            except Exception:  # a database hiccup must not end the schedule
                logger.exception("scheduled retrain check failed")

    def stop(self) -> None:
        self._stop.set()
