"""What the production-profile tests share: the running profile, reading its PostgreSQL directly, and talking to it."""
from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import psycopg2
import requests

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


def live_rasa_backends(config: StackConfig, stack: RunningStack) -> List[str]:
    """Each Rasa server's own URL, but those a test has killed (the session's stack is shared, and under
    ``pytest -n 2 --dist loadfile`` the kill tests may run before the others)."""
    names = [f"rasa-{i}" for i in range(1, len(config.rasa_backend_urls) + 1)]
    return [url for name, url in zip(names, config.rasa_backend_urls)
            if stack.group.servers[name].process.poll() is None]


def say(url: str, sender: str, message: str, metadata: Optional[dict] = None) -> List[dict]:
    body = {"sender": sender, "message": message, **({"metadata": metadata} if metadata else {})}
    response = requests.post(f"{url}/webhooks/rest/webhook", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def user_texts(config: StackConfig, sender: str) -> List[str]:
    return [event["text"] for event in tracker_events(config, sender) if event["event"] == "user"]


def no_trace(response: requests.Response, allowed_5xx: Tuple[int, ...] = ()) -> None:
    """No server error (but those allowed, e.g. a 503 during an outage) and nothing of a stack trace."""
    assert response.status_code < 500 or response.status_code in allowed_5xx, (response.status_code, response.text[:500])
    for marker in ("Traceback", 'File "', "Exception", "psycopg2", "sqlalchemy"):
        assert marker not in response.text, response.text[:500]


def post_event_with_retries(config: StackConfig, event: dict, tries: int = 5, pause_s: float = 0.5,
                            answers: Optional[List[requests.Response]] = None) -> str:
    """What a shop's client does: post, and on a failed connection or a 5xx post the same event again;
    returns the event's status. ``answers`` collects every response (the outage test reads the 503s)."""
    for _ in range(tries):
        try:
            response = requests.post(f"{config.api_url}/v1/events", json=event,
                                     headers={"Authorization": f"Bearer {config.api_token}"}, timeout=30)
        except requests.ConnectionError:
            time.sleep(pause_s)
            continue
        if answers is not None:
            answers.append(response)
        if response.status_code < 500:
            assert response.status_code == 200, response.text
            return response.json()["results"][0]["status"]
        time.sleep(pause_s)
    raise AssertionError(f"event {event['event_id']} not accepted after {tries} tries")
