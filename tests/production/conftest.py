"""Throwaway PostgreSQL and Redis servers for the production-profile tests (one of each per module), and the
production profile itself, started once for the whole session (two Rasa servers take minutes to load on two
cores): ``test_outages`` and ``test_production_stack`` share it, the outages first (files run in name order)
and the killed servers last. Under ``make test`` (``pytest -n 2 --dist loadfile``) each worker has its own
session: two files on two workers start a stack each, as module fixtures would; on one worker, one stack."""
from __future__ import annotations

from typing import Iterator, Tuple

import pytest

from daogou_server.services import LocalPostgres, LocalRedis
from daogou_server.stack import RunningStack, StackConfig
from tests.production.stack import start


@pytest.fixture(scope="module")
def postgres() -> Iterator[LocalPostgres]:
    with LocalPostgres() as server:
        yield server


@pytest.fixture(scope="module")
def redis_server() -> Iterator[LocalRedis]:
    with LocalRedis() as server:
        yield server


@pytest.fixture(scope="session")
def production(tmp_path_factory) -> Iterator[Tuple[StackConfig, RunningStack]]:
    yield from start(tmp_path_factory.mktemp("production"))


@pytest.fixture(scope="session")
def config(production) -> StackConfig:
    return production[0]
