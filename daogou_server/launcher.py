"""``make run``: start the whole assistant, wait until every part answers, print where it is, stop it all on Ctrl-C.

Tokens come from the environment or are made once for local use (:mod:`daogou_server.secrets`);
servers listen on 127.0.0.1 unless ``DAOGOU_BIND`` says otherwise; CORS allows the shop origins in
``DAOGOU_SHOP_ORIGIN``. Each line of log is echoed with its server's name and kept in ``var/logs/``.

``--profile production`` (``make run-production``) starts the same servers two of each behind nginx, on
PostgreSQL (data kept in ``var/postgres``) and Redis, with nginx on the ports the default profile uses.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from daogou_server.processes import ServerError, ServerGroup
from daogou_server.production import RECSYS_DB, TRACKER_DB, ProductionSettings
from daogou_server.secrets import local_tokens
from daogou_server.services.common import ServiceError
from daogou_server.stack import BIN, PROJECT_ROOT, StackConfig, running_stack, servers

STARTUP_TIMEOUT_S = 600


def config_from_env(args: argparse.Namespace) -> StackConfig:
    var_dir = Path(os.environ.get("DAOGOU_VAR_DIR") or PROJECT_ROOT / "var").resolve()
    tokens = local_tokens(var_dir)
    origins = tuple(o.strip() for o in os.environ.get("DAOGOU_SHOP_ORIGIN", "").split(",") if o.strip())
    production = (ProductionSettings.free(store_dir=var_dir / "postgres")
                  if getattr(args, "profile", "default") == "production" else None)
    return StackConfig(rasa_model=Path(args.model).resolve(), var_dir=var_dir, rasa_token=tokens["DAOGOU_RASA_TOKEN"],
                       api_token=tokens["DAOGOU_API_TOKEN"], host=os.environ.get("DAOGOU_BIND", "127.0.0.1"),
                       rasa_port=args.rasa_port, action_port=args.action_port, api_port=args.api_port, origins=origins,
                       production=production)


def banner(config: StackConfig) -> str:
    shop = PROJECT_ROOT / "shop_api" / "static" / "index.html"
    # The page talks to Rasa on its own host's :5005 unless told where (chat.js reads ?rasa=).
    shop_url = f"{config.api_url}/" + ("" if config.rasa_port == 5005 else f"?rasa={config.rasa_url}")
    return "\n".join([
        "", "Daogou is running:",
        *([f"  demo shop and chat   {shop_url}"] if shop.is_file() else []),
        f"  shop API             {config.api_url}/v1   (docs {config.api_url}/docs)",
        f"  Rasa REST channel    {config.rasa_url}/webhooks/rest/webhook",
        f"  Rasa HTTP API        {config.rasa_url}   (?token=$DAOGOU_RASA_TOKEN)",
        f"  action server        http://127.0.0.1:{config.action_port}/health",
        *(_production_lines(config) if config.production else []),
        f"  tokens               DAOGOU_API_TOKEN={config.api_token}",
        f"                       DAOGOU_RASA_TOKEN={config.rasa_token}",
        f"  logs                 {config.var_dir / 'logs'}", "Ctrl-C stops everything.", "",
    ])


def _production_lines(config: StackConfig) -> list:
    production = config.production
    assert production is not None

    def ports(values) -> str:
        return ", ".join(str(port) for port in values)
    return [f"  behind nginx         Rasa :{ports(production.rasa_ports)}, actions :{ports(production.action_ports)}, "
            f"shop API :{ports(production.api_ports)}   (nginx config {config.var_dir / 'nginx' / 'nginx.conf'})",
            f"  PostgreSQL           {production.database_url(TRACKER_DB)} (conversations), .../{RECSYS_DB} (recommender)",
            f"  Redis (lock store)   redis://127.0.0.1:{production.redis_port}/0"]


def _arguments(command: str, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m daogou_server {command}", description=__doc__)
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz"))
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--api-port", type=int, default=8000)
    if command == "run":
        parser.add_argument("--profile", choices=("default", "production"), default="default",
                            help="production: two of each server behind nginx, on PostgreSQL and Redis")
    return parser.parse_args(argv)


def shell(argv: Optional[Sequence[str]] = None) -> int:
    """``make shell``: the action server as ``make run`` starts it (its log in ``var/logs/actions.log``), and
    ``rasa shell`` in the foreground on the same endpoints and conversation store; leaving the shell stops both."""
    config = config_from_env(_arguments("shell", argv))
    actions = [spec for spec in servers(config) if spec.name == "actions"]
    try:
        with ServerGroup(actions, config.var_dir / "logs", STARTUP_TIMEOUT_S):
            return subprocess.call([str(BIN / "rasa"), "shell", "--model", str(config.rasa_model),
                                    "--endpoints", str(config.var_dir / "endpoints.yml")], cwd=PROJECT_ROOT)
    except ServerError as exc:
        print(f"could not start the action server: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C reaches both; the action server has been stopped on the way out
        return 0


def run(argv: Optional[Sequence[str]] = None) -> int:
    config = config_from_env(_arguments("run", argv))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with running_stack(config, STARTUP_TIMEOUT_S, echo=True) as stack:
            group = stack.group
            print(banner(config), flush=True)
            while True:
                for name, server in group.servers.items():
                    if server.process.poll() is not None:
                        print(f"{name} exited with {server.process.returncode}; stopping the others. Its last lines:\n"
                              f"{server.log_tail()}", file=sys.stderr)
                        return 1
                time.sleep(1)
    except (ServerError, ServiceError, ValueError) as exc:
        print(f"could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
