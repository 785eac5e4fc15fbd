"""Throwaway PostgreSQL and Redis servers for the production-profile tests (one of each per module)."""
from __future__ import annotations

from typing import Iterator

import pytest

from daogou_server.services import LocalPostgres, LocalRedis


@pytest.fixture(scope="module")
def postgres() -> Iterator[LocalPostgres]:
    with LocalPostgres() as server:
        yield server


@pytest.fixture(scope="module")
def redis_server() -> Iterator[LocalRedis]:
    with LocalRedis() as server:
        yield server
