"""`endpoints.production.yml` builds our tracker store on PostgreSQL and our lock store on Redis."""
from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import create_tracker_store
from rasa.core.utils import read_endpoints_from_path
from rasa.shared.core.domain import Domain

from daogou_server.lock_store import AtomicRedisLockStore
from daogou_server.tracker_store import ForgettingSQLTrackerStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_production_endpoints_build_our_stores(postgres, redis_server, monkeypatch):
    postgres.create_database("rasa_prod")
    for key, value in {"DAOGOU_ACTION_URL": "http://127.0.0.1:1/webhook", "DAOGOU_TRACKER_DB_HOST": "127.0.0.1",
                       "DAOGOU_TRACKER_DB_PORT": str(postgres.port), "DAOGOU_TRACKER_DB_NAME": "rasa_prod",
                       "DAOGOU_TRACKER_DB_USER": postgres.user, "DAOGOU_TRACKER_DB_PASSWORD": "",
                       "DAOGOU_REDIS_HOST": "127.0.0.1", "DAOGOU_REDIS_PORT": str(redis_server.port),
                       "DAOGOU_REDIS_PASSWORD": ""}.items():
        monkeypatch.setenv(key, value)
    endpoints = read_endpoints_from_path(str(PROJECT_ROOT / "endpoints.production.yml"))
    store = create_tracker_store(endpoints.tracker_store, Domain.load(str(PROJECT_ROOT / "domain.yml")))
    assert isinstance(getattr(store, "_tracker_store", store), ForgettingSQLTrackerStore)
    assert asyncio.run(store.retrieve("nobody")) is None  # it reached PostgreSQL
    lock_store = LockStore.create(endpoints.lock_store)
    assert isinstance(lock_store, AtomicRedisLockStore)
    assert not lock_store.is_someone_waiting("nobody")  # it reached Redis
