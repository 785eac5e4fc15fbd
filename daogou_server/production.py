"""The production profile's ports and data stores: PostgreSQL and Redis, started before the servers.

Why here and not in :mod:`daogou_server.stack`: the data stores are not supervised servers of the
stack (they are :mod:`daogou_server.services`' throwaway servers, restartable on the same port and
data), and the stack's servers only need their addresses, which this module turns into the
environment of ``endpoints.production.yml`` and of the recommender (``DAOGOU_DATABASE_URL``).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

from daogou_server.processes import LOOPBACK, free_port
from daogou_server.services import LocalPostgres, LocalRedis

#: Rasa's conversations and the recommender's tables, in two databases of one PostgreSQL server.
TRACKER_DB = "rasa"
RECSYS_DB = "daogou"
DB_USER = "daogou"


def _free_ports(count: int) -> Tuple[int, ...]:
    return tuple(free_port() for _ in range(count))


@dataclass(frozen=True)
class ProductionSettings:
    """Where the backends behind nginx and the data stores listen (always loopback)."""

    rasa_ports: Tuple[int, ...]
    action_ports: Tuple[int, ...]
    api_ports: Tuple[int, ...]
    postgres_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    #: PostgreSQL's folder, kept between runs (``var/postgres``); None: a throwaway one removed at stop.
    store_dir: Optional[Path] = None

    @classmethod
    def free(cls, replicas: int = 2, store_dir: Optional[Path] = None) -> "ProductionSettings":
        """``replicas`` of each server on free ports."""
        return cls(_free_ports(replicas), _free_ports(replicas), _free_ports(replicas), store_dir=store_dir)

    def database_url(self, name: str) -> str:
        return f"postgresql://{DB_USER}@{LOOPBACK}:{self.postgres_port}/{name}"

    def environment(self, action_url: str) -> Dict[str, str]:
        """What ``endpoints.production.yml``, the recommender and the shop API read (trust auth: no password)."""
        return {"DAOGOU_ACTION_URL": action_url,
                "DAOGOU_TRACKER_DB_HOST": LOOPBACK, "DAOGOU_TRACKER_DB_PORT": str(self.postgres_port),
                "DAOGOU_TRACKER_DB_NAME": TRACKER_DB, "DAOGOU_TRACKER_DB_USER": DB_USER,
                "DAOGOU_TRACKER_DB_PASSWORD": "",
                "DAOGOU_REDIS_HOST": LOOPBACK, "DAOGOU_REDIS_PORT": str(self.redis_port), "DAOGOU_REDIS_PASSWORD": "",
                "DAOGOU_DATABASE_URL": self.database_url(RECSYS_DB),
                # the shop API's "forget me" erases the conversation in Rasa's store
                "DAOGOU_TRACKER_DB_URL": self.database_url(TRACKER_DB)}


@dataclass
class DataStores:
    """The running PostgreSQL and Redis (the fault tests stop and restart them)."""

    postgres: LocalPostgres
    redis: LocalRedis


@contextmanager
def data_stores(settings: ProductionSettings) -> Iterator[DataStores]:
    """Start PostgreSQL (with both databases) and Redis; stop both on leaving, whatever happened."""
    postgres = LocalPostgres(port=settings.postgres_port, root=settings.store_dir, user=DB_USER)
    redis = LocalRedis(port=settings.redis_port)
    if settings.store_dir is not None:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    try:
        postgres.start()
        for name in (TRACKER_DB, RECSYS_DB):
            postgres.create_database(name)
        redis.start()
        yield DataStores(postgres, redis)
    finally:
        redis.destroy()
        postgres.destroy()
