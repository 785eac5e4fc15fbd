"""The running assistant for end-to-end tests: the action server, Rasa and the shop API on free loopback ports.

One stack per test module (module-scoped fixtures), started exactly as ``make run`` starts it
(:mod:`daogou_server.stack`: Rasa's HTTP API behind a token, CORS for the shop origin only), from the
trained models in ``models/`` (``make test`` trains them first), with its own conversation store and
recommender database in the module's work directory. ``chat.py`` holds what a test says to it.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterator

import pytest

from daogou_server.processes import ServerGroup, free_port
from daogou_server.stack import PROJECT_ROOT, StackConfig, servers
from recsys import Catalog

#: The model `make models` trains; DAOGOU_RASA_MODEL points the test at another one (a branch's own training).
RASA_MODEL = Path(os.environ.get("DAOGOU_RASA_MODEL") or PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz")
STARTUP_SECONDS = 300


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The servers' endpoints, logs, conversation store (``conversations.db``) and recommender database."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="module")
def stack_config(workdir) -> StackConfig:
    assert RASA_MODEL.exists(), "no trained Rasa model: run `make models` (make test does)"
    return StackConfig(rasa_model=RASA_MODEL, var_dir=workdir, rasa_token=secrets.token_urlsafe(16),
                       api_token=secrets.token_urlsafe(16), rasa_port=free_port(), action_port=free_port(),
                       api_port=free_port())


@pytest.fixture(scope="module")
def server_group(stack_config) -> Iterator[ServerGroup]:
    """The running servers themselves (logs in ``workdir/logs``, ``restart`` for the fault tests)."""
    with ServerGroup(servers(stack_config), stack_config.var_dir / "logs", STARTUP_SECONDS) as group:
        yield group


@pytest.fixture(scope="module")
def stack(stack_config, server_group) -> StackConfig:
    return stack_config


@pytest.fixture(scope="module")
def rasa_url(stack) -> str:
    return stack.rasa_url


@pytest.fixture(scope="module")
def rasa_token(stack) -> str:
    return stack.rasa_token


@pytest.fixture(scope="module")
def shop_api_url(stack) -> str:
    return stack.api_url


@pytest.fixture(scope="module")
def api_token(stack) -> str:
    return stack.api_token


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(PROJECT_ROOT / "data/catalog/products.jsonl", PROJECT_ROOT / "data/catalog/aliases.yml")
