"""Conversation retention: erase stored conversations idle for longer than the configured days.

Why: Rasa's tracker table only grows, and it holds everything shoppers typed.
`DAOGOU_CONVERSATION_RETENTION_DAYS` (unset or 0: off, the default) bounds it.
A conversation whose latest event is older than the cutoff is deleted whole,
as "forget me" deletes it; active conversations keep their earlier sessions,
since the slots carried between sessions answer "what did you recommend?".

Run once per deployment on a schedule (one pruner, not one per Rasa server):
`python -m daogou_server.retention --endpoints endpoints.yml` from cron or a
systemd timer, or `--every-hours N` to keep running.
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func

from daogou_server.tracker_store import ForgettingSQLTrackerStore

logger = logging.getLogger(__name__)

RETENTION_ENV = "DAOGOU_CONVERSATION_RETENTION_DAYS"


@dataclass(frozen=True)
class PruneResult:
    conversations: int
    events: int


def retention_days(environ: Optional[dict] = None) -> Optional[float]:
    """The configured retention in days, or None when off; a bad value is a clear error."""
    raw = (environ if environ is not None else os.environ).get(RETENTION_ENV, "").strip()
    if not raw:
        return None
    try:
        days = float(raw)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV} must be a number of days, not {raw!r}") from None
    if days < 0:
        raise ValueError(f"{RETENTION_ENV} must not be negative")
    return days or None


def prune_conversations(store: ForgettingSQLTrackerStore, older_than_days: float,
                        now: Optional[float] = None) -> PruneResult:
    """Delete every conversation whose latest stored event is older than `older_than_days`."""
    cutoff = (time.time() if now is None else now) - older_than_days * 86400
    events = store.SQLEvent
    with store.session_scope() as session:
        idle = (session.query(events.sender_id).group_by(events.sender_id)
                .having(func.max(events.timestamp) < cutoff).subquery())
        senders = [row[0] for row in session.query(idle.c.sender_id)]
        deleted = 0
        for start in range(0, len(senders), 500):
            chunk = senders[start:start + 500]
            deleted += session.query(events).filter(events.sender_id.in_(chunk)).delete(synchronize_session=False)
        session.commit()
    logger.info("Retention: erased %d idle conversations (%d events).", len(senders), deleted)
    return PruneResult(conversations=len(senders), events=int(deleted))


def _store_from_endpoints(path: str) -> ForgettingSQLTrackerStore:
    from rasa.core.tracker_store import create_tracker_store
    from rasa.core.utils import read_endpoints_from_path

    store = create_tracker_store(read_endpoints_from_path(path).tracker_store)
    inner = getattr(store, "_tracker_store", store)  # Rasa wraps it in a FailSafeTrackerStore
    if not isinstance(inner, ForgettingSQLTrackerStore):
        raise SystemExit(f"{path} does not configure daogou_server.tracker_store.ForgettingSQLTrackerStore")
    return inner


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--every-hours", type=float, default=0, help="keep running, pruning this often")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        days = retention_days()
    except ValueError as error:
        parser.error(str(error))
    if days is None:
        logger.info("%s is not set: conversations are kept.", RETENTION_ENV)
        return 0
    store = _store_from_endpoints(args.endpoints)
    while True:
        try:
            prune_conversations(store, days)
        except Exception as error:  # database briefly down: try again next round, never crash the pruner
            logger.warning("Retention run failed (%s); next run will retry.", type(error).__name__)
        if args.every_hours <= 0:
            return 0
        time.sleep(args.every_hours * 3600)


if __name__ == "__main__":
    raise SystemExit(main())
