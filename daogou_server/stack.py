"""Daogou's servers as one stack: the action server, the Rasa server and the shop API, configured alike.

``make run`` (:mod:`daogou_server.launcher`), the end-to-end tests and the load benchmark all build their
servers here, so what the tests and the benchmark measure is what ``make run`` starts: Rasa's HTTP API
behind a token, every server on loopback unless told otherwise, CORS only for the shop's origin.

Two profiles, one code path. The default runs one of each on SQLite. The production profile
(``StackConfig.production``) runs two of each behind nginx (:mod:`daogou_server.nginx`) on PostgreSQL
and Redis (:mod:`daogou_server.production`): nginx listens on the default profile's ports, so
``rasa_url``, ``api_url`` and the action URL mean the same in both; the backends listen on loopback.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from contextlib import contextmanager
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

from daogou_server.nginx import Site, nginx_spec
from daogou_server.processes import LOOPBACK, ServerGroup, ServerSpec
from daogou_server.production import DataStores, ProductionSettings, data_stores

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
    #: The production profile (two of each behind nginx, PostgreSQL, Redis); None: the default profile.
    production: Optional[ProductionSettings] = None

    @property
    def profile(self) -> str:
        return "default" if self.production is None else "production"

    @property
    def action_url(self) -> str:
        """Where Rasa calls its actions (nginx's action site in the production profile)."""
        return f"http://{LOOPBACK}:{self.action_port}/webhook"

    @property
    def rasa_backend_urls(self) -> Tuple[str, ...]:
        """Each Rasa server itself, not through nginx (the two-server race test)."""
        ports = self.production.rasa_ports if self.production else (self.rasa_port,)
        return tuple(f"http://{LOOPBACK}:{port}" for port in ports)

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
    return (f'action_endpoint:\n  url: "{config.action_url}"\n'
            "tracker_store:\n  type: daogou_server.tracker_store.ForgettingSQLTrackerStore\n"
            f"  dialect: sqlite\n  db: {config.tracker_db}\n")


def _shared_env(config: StackConfig) -> Dict[str, str]:
    env = {**QUIET_ENV, "DAOGOU_VAR_DIR": str(config.var_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
           "DAOGOU_TRACKER_DB_URL": f"sqlite:///{config.tracker_db}", "DAOGOU_API_TOKEN": config.api_token,
           "DAOGOU_SHOP_ORIGIN": ",".join(config.shop_origins)}
    if config.recsys_model_dir is not None:
        env["DAOGOU_MODEL_DIR"] = str(config.recsys_model_dir)
    if config.production is not None:
        env.update(config.production.environment(config.action_url))
    return {**env, **config.env}


def _actions(name: str, port: int, env: Mapping[str, str]) -> ServerSpec:
    return ServerSpec(name, [sys.executable, "-m", "actions.serve", "--port", str(port)], PROJECT_ROOT,
                      f"http://{LOOPBACK}:{port}/health", env)


def _rasa(name: str, config: StackConfig, host: str, port: int, endpoints: Path, env: Mapping[str, str]) -> ServerSpec:
    return ServerSpec(name, [str(BIN / "rasa"), "run", "--enable-api",
                             # one argument even when the token starts with "-" (token_urlsafe makes such tokens)
                             f"--auth-token={config.rasa_token}",
                             "--interface", host, "--port", str(port), "--cors", *config.shop_origins,
                             "--model", str(config.rasa_model), "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                             "--endpoints", str(endpoints)],
                      # "/" is open and answers once the model has loaded (Rasa loads it before serving).
                      PROJECT_ROOT, f"http://{host}:{port}/", env, fatal_markers=("Could not load model",))


def _shop_api(name: str, host: str, port: int, workers: int, env: Mapping[str, str]) -> ServerSpec:
    return ServerSpec(name, [sys.executable, "-m", "shop_api", "--host", host, "--port", str(port),
                             "--workers", str(workers)], PROJECT_ROOT, f"http://{host}:{port}/v1/health", env)


def nginx_sites(config: StackConfig) -> List[Site]:
    """nginx's three sites: Rasa (REST, socket.io, HTTP API), the actions (for Rasa) and the shop API."""
    assert config.production is not None
    sites = [Site("rasa", config.rasa_port, config.production.rasa_ports, socketio=True),
             Site("actions", config.action_port, config.production.action_ports)]
    if config.with_shop_api:
        sites.append(Site("shop_api", config.api_port, config.production.api_ports))
    return sites


def servers(config: StackConfig) -> List[ServerSpec]:
    """The stack in start order: the action server(s), then Rasa (it calls the actions), then the shop API;
    in the production profile each numbered (``rasa-1``, ``rasa-2``) and nginx last."""
    config.var_dir.mkdir(parents=True, exist_ok=True)
    env = _shared_env(config)
    production = config.production
    if production is None:
        endpoints = config.var_dir / "endpoints.yml"
        endpoints.write_text(endpoints_yaml(config))
        return [_actions("actions", config.action_port, env),
                _rasa("rasa", config, config.host, config.rasa_port, endpoints, env),
                *([_shop_api("shop-api", config.host, config.api_port, config.api_workers, env)]
                  if config.with_shop_api else [])]
    endpoints = PROJECT_ROOT / "endpoints.production.yml"
    specs = [_actions(f"actions-{i}", port, env) for i, port in enumerate(production.action_ports, 1)]
    specs += [_rasa(f"rasa-{i}", config, LOOPBACK, port, endpoints, env) for i, port in enumerate(production.rasa_ports, 1)]
    if config.with_shop_api:
        specs += [_shop_api(f"shop-api-{i}", LOOPBACK, port, config.api_workers, env)
                  for i, port in enumerate(production.api_ports, 1)]
    return specs + [nginx_spec(nginx_sites(config), config.var_dir / "nginx", config.host)]


@dataclass
class RunningStack:
    """The started servers, and in the production profile the data stores (None in the default one)."""

    group: ServerGroup
    stores: Optional[DataStores]


@contextmanager
def running_stack(config: StackConfig, startup_timeout_s: float, echo: bool = False) -> Iterator[RunningStack]:
    """Start the profile's data stores, then its servers; stop everything on leaving, whatever happened."""
    log_dir = config.var_dir / "logs"
    if config.production is None:
        with ServerGroup(servers(config), log_dir, startup_timeout_s, echo) as group:
            yield RunningStack(group, None)
        return
    with data_stores(config.production) as stores:
        with ServerGroup(servers(config), log_dir, startup_timeout_s, echo) as group:
            yield RunningStack(group, stores)
