"""``make run``: start the whole assistant, wait until every part answers, print where it is, stop it all on Ctrl-C.

Tokens come from the environment or are made once for local use (:mod:`daogou_server.secrets`);
servers listen on 127.0.0.1 unless ``DAOGOU_BIND`` says otherwise; CORS allows the shop origins in
``DAOGOU_SHOP_ORIGIN``. Each line of log is echoed with its server's name and kept in ``var/logs/``.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from daogou_server.processes import ServerError, ServerGroup
from daogou_server.secrets import local_tokens
from daogou_server.stack import PROJECT_ROOT, StackConfig, servers

STARTUP_TIMEOUT_S = 600


def config_from_env(args: argparse.Namespace) -> StackConfig:
    var_dir = Path(os.environ.get("DAOGOU_VAR_DIR") or PROJECT_ROOT / "var").resolve()
    tokens = local_tokens(var_dir)
    origins = tuple(o.strip() for o in os.environ.get("DAOGOU_SHOP_ORIGIN", "").split(",") if o.strip())
    return StackConfig(rasa_model=Path(args.model).resolve(), var_dir=var_dir, rasa_token=tokens["DAOGOU_RASA_TOKEN"],
                       api_token=tokens["DAOGOU_API_TOKEN"], host=os.environ.get("DAOGOU_BIND", "127.0.0.1"),
                       rasa_port=args.rasa_port, action_port=args.action_port, api_port=args.api_port, origins=origins)


def banner(config: StackConfig) -> str:
    shop = PROJECT_ROOT / "shop_api" / "static" / "index.html"
    return "\n".join([
        "", "Daogou is running:",
        *([f"  demo shop and chat   {config.api_url}/"] if shop.is_file() else []),
        f"  shop API             {config.api_url}/v1   (docs {config.api_url}/docs)",
        f"  Rasa REST channel    {config.rasa_url}/webhooks/rest/webhook",
        f"  Rasa HTTP API        {config.rasa_url}   (?token=$DAOGOU_RASA_TOKEN)",
        f"  action server        http://127.0.0.1:{config.action_port}/health",
        f"  tokens               DAOGOU_API_TOKEN={config.api_token}",
        f"                       DAOGOU_RASA_TOKEN={config.rasa_token}",
        f"  logs                 {config.var_dir / 'logs'}", "Ctrl-C stops everything.", "",
    ])


def run(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daogou_server run", description=__doc__)
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz"))
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--api-port", type=int, default=8000)
    args = parser.parse_args(argv)
    config = config_from_env(args)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with ServerGroup(servers(config), config.var_dir / "logs", STARTUP_TIMEOUT_S, echo=True) as group:
            print(banner(config), flush=True)
            while True:
                for name, server in group.servers.items():
                    if server.process.poll() is not None:
                        print(f"{name} exited with {server.process.returncode}; stopping the others", file=sys.stderr)
                        return 1
                time.sleep(1)
    except ServerError as exc:
        print(f"could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
