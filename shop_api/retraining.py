"""Background retraining: a separate process trains on the database's events while the old models serve.

Training writes the new artefacts with ``metadata.json`` last, so every serving process (shop
API workers, action servers) swaps them in on its next request (``Recommender.reload_if_changed``)
and never sees half a set. The state lives in the database's meta table, so every worker reports
the same one and only one retrain runs at a time per deployment.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from recsys import Recommender

logger = logging.getLogger(__name__)
STATE_KEY = "retrain_state"
LOG_TAIL = 2000


@dataclass(frozen=True)
class RetrainState:
    state: str = "idle"  # idle, running, succeeded, failed
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    error: Optional[str] = None
    pid: Optional[int] = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_state(rec: Recommender) -> RetrainState:
    raw = rec.store.get_meta(STATE_KEY)
    if not raw:
        return RetrainState()
    state = RetrainState(**json.loads(raw))
    if state.state == "running" and state.pid and not _alive(state.pid):
        return RetrainState("failed", state.started_at, None, "the training process disappeared", state.pid)
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_lock = threading.Lock()


def start_retrain(rec: Recommender, log_path: Path) -> RetrainState:
    """Start ``python -m recsys train`` in the background unless one runs; returns the state now."""
    with _lock:
        current = read_state(rec)
        if current.state == "running":
            return current
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("w")
        process = subprocess.Popen([sys.executable, "-m", "recsys", "train"], stdout=log, stderr=subprocess.STDOUT,
                                   env=os.environ.copy())
        state = RetrainState("running", _now(), pid=process.pid)
        rec.store.set_meta(STATE_KEY, json.dumps(asdict(state)))
        logger.info("retrain started (pid %d), log in %s", process.pid, log_path)
        threading.Thread(target=_watch, args=(rec, process, state, log_path), daemon=True).start()
        return state


def _watch(rec: Recommender, process: subprocess.Popen, state: RetrainState, log_path: Path) -> None:
    code = process.wait()
    if code == 0:
        finished = RetrainState("succeeded", state.started_at, _now(), None, state.pid)
        logger.info("retrain finished; serving processes swap the new models in on their next request")
    else:
        tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
        finished = RetrainState("failed", state.started_at, _now(), f"exit code {code}: {tail.strip()[-500:]}", state.pid)
        logger.error("retrain failed with exit code %d; the old models keep serving. Log: %s", code, log_path)
    rec.store.set_meta(STATE_KEY, json.dumps(asdict(finished)))
