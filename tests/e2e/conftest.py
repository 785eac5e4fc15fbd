"""The running assistant for end-to-end tests: Rasa and the action server on free loopback ports.

One stack per test module (module-scoped fixtures), with its own conversation store, started from the
trained models in ``models/`` (``make test`` trains them first). ``chat.py`` holds what a test says to it.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from recsys import Catalog

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: The model `make models` trains; DAOGOU_RASA_MODEL points the test at another one (a branch's own training).
RASA_MODEL = Path(os.environ.get("DAOGOU_RASA_MODEL") or PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz")
STARTUP_SECONDS = 240

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not up after {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The servers' endpoints, logs and conversation store."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="module")
def rasa_url(workdir) -> Iterator[str]:
    assert RASA_MODEL.exists(), "no trained Rasa model: run `make models` (make test does)"
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "tracker_store:\n  type: daogou_server.tracker_store.ForgettingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {workdir / 'conversations.db'}\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    commands = {
        "actions": [sys.executable, "-m", "actions.serve", "--port", str(action_port)],
        "rasa": [str(BIN / "rasa"), "run", "--enable-api", "--port", str(rasa_port), "--model", str(RASA_MODEL),
                 "--credentials", "credentials.yml", "--endpoints", str(endpoints)],
    }
    processes = {}
    try:
        for name, command in commands.items():
            log = workdir / f"{name}.log"
            processes[name] = (subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True), log)
        wait_until_up(f"http://127.0.0.1:{action_port}/health", *processes["actions"])
        wait_until_up(f"http://127.0.0.1:{rasa_port}/status", *processes["rasa"])
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for process, _ in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(PROJECT_ROOT / "data/catalog/products.jsonl", PROJECT_ROOT / "data/catalog/aliases.yml")
