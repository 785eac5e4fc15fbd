"""Daogou's servers as one stack: the action server, the Rasa server and the shop API, configured alike.

``make run`` (:mod:`daogou_server.launcher`), the end-to-end tests and the load benchmark all build their
servers here, so what the tests and the benchmark measure is what ``make run`` starts: Rasa's HTTP API
behind a token, every server on loopback unless told otherwise, CORS only for the shop's origin.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

from daogou_server.processes import LOOPBACK, ServerSpec

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: Nothing leaves the machine: Rasa would otherwise try to send telemetry.
QUIET_ENV = {"PYTHONUNBUFFERED": "1", "RASA_TELEMETRY_ENABLED": "false"}


@dataclass(frozen=True)
class StackConfig:
    rasa_model: Path
    #: Conversations, the recommender's database, logs and the generated endpoints file live here.
    var_dir: Path
    rasa_token: str
    api_token: str
    host: str = LOOPBACK
    rasa_port: int = 5005
    action_port: int = 5055
    api_port: int = 8000
    #: Shop origins allowed by CORS on Rasa and the shop API (the demo shop is served by the API itself).
    origins: Tuple[str, ...] = ()
    #: The recommender's trained artefacts (default: ``models/recsys``).
    recsys_model_dir: Optional[Path] = None
    with_shop_api: bool = True
    #: Shop API processes (uvicorn workers); each holds its own recommender on the shared database.
    api_workers: int = 1
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def shop_origins(self) -> Tuple[str, ...]:
        return self.origins or (f"http://{self.host}:{self.api_port}", f"http://localhost:{self.api_port}")

    @property
    def tracker_db(self) -> Path:
        return self.var_dir / "conversations.db"


def endpoints_yaml(config: StackConfig) -> str:
    """Rasa's endpoints: this stack's action server and its conversation store (see ``endpoints.yml``)."""
    return (f'action_endpoint:\n  url: "http://{LOOPBACK}:{config.action_port}/webhook"\n'
            "tracker_store:\n  type: daogou_server.tracker_store.ForgettingSQLTrackerStore\n"
            f"  dialect: sqlite\n  db: {config.tracker_db}\n")


def _shared_env(config: StackConfig) -> Dict[str, str]:
    env = {**QUIET_ENV, "DAOGOU_VAR_DIR": str(config.var_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
           "DAOGOU_TRACKER_DB_URL": f"sqlite:///{config.tracker_db}", "DAOGOU_API_TOKEN": config.api_token,
           "DAOGOU_SHOP_ORIGIN": ",".join(config.shop_origins)}
    if config.recsys_model_dir is not None:
        env["DAOGOU_MODEL_DIR"] = str(config.recsys_model_dir)
    return {**env, **config.env}


def servers(config: StackConfig) -> List[ServerSpec]:
    """The stack in start order: the action server, then Rasa (it calls the actions), then the shop API."""
    config.var_dir.mkdir(parents=True, exist_ok=True)
    endpoints = config.var_dir / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(config))
    env = _shared_env(config)
    specs = [
        ServerSpec("actions", [sys.executable, "-m", "actions.serve", "--port", str(config.action_port)], PROJECT_ROOT,
                   f"http://{LOOPBACK}:{config.action_port}/health", env),
        ServerSpec("rasa", [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", config.rasa_token,
                            "--interface", config.host, "--port", str(config.rasa_port), "--cors", *config.shop_origins,
                            "--model", str(config.rasa_model), "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                            "--endpoints", str(endpoints)],
                   # "/" is open and answers once the model has loaded (Rasa loads it before serving).
                   PROJECT_ROOT, f"{config.rasa_url}/", env,
                   fatal_markers=("Could not load model",)),
    ]
    if config.with_shop_api:
        specs.append(ServerSpec("shop-api", [sys.executable, "-m", "shop_api", "--host", config.host,
                                             "--port", str(config.api_port), "--workers", str(config.api_workers)],
                                PROJECT_ROOT, f"{config.api_url}/v1/health", env))
    return specs
