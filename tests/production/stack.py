"""What the production-profile tests share: the running profile, and reading its PostgreSQL directly."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Iterator, List, Tuple

import psycopg2

from daogou_server.processes import free_port
from daogou_server.production import RECSYS_DB, TRACKER_DB, ProductionSettings
from daogou_server.stack import PROJECT_ROOT, RunningStack, StackConfig, running_stack

RASA_MODEL = Path(os.environ.get("DAOGOU_RASA_MODEL") or PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz")
#: Two Rasa servers load one after the other on two shared cores.
STARTUP_SECONDS = 600


def production_config(var_dir: Path) -> StackConfig:
    assert RASA_MODEL.exists(), "no trained Rasa model: run `make models` (make test does)"
    return StackConfig(rasa_model=RASA_MODEL, var_dir=var_dir, rasa_token=secrets.token_urlsafe(16),
                       api_token=secrets.token_urlsafe(16), rasa_port=free_port(), action_port=free_port(),
                       api_port=free_port(), production=ProductionSettings.free())


def start(var_dir: Path) -> Iterator[Tuple[StackConfig, RunningStack]]:
    config = production_config(var_dir)
    with running_stack(config, STARTUP_SECONDS) as stack:
        yield config, stack


def query(config: StackConfig, database: str, sql: str, *args) -> List[tuple]:
    """Rows straight from the profile's PostgreSQL (``TRACKER_DB``: Rasa's conversations; ``RECSYS_DB``)."""
    assert config.production is not None and database in (TRACKER_DB, RECSYS_DB)
    with psycopg2.connect(config.production.database_url(database)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    connection.close()
    return rows


def tracker_events(config: StackConfig, sender: str) -> List[dict]:
    """The shopper's conversation as Rasa stored it, in stored order."""
    rows = query(config, TRACKER_DB, "select data from events where sender_id = %s order by id", sender)
    return [json.loads(data) for (data,) in rows]
