"""``python -m shop_api [--host 127.0.0.1] [--port 8000] [--workers 1]``: serve the shop API with uvicorn."""
from __future__ import annotations

import argparse
import logging

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shop_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless you mean otherwise)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="processes; they share the database and the models")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # uvicorn's access log prints query strings (shopper ids): shop_api.app logs requests without them.
    uvicorn.run("shop_api.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, access_log=False, timeout_keep_alive=20,
                ws="none")  # no websockets here; Rasa pins an old websockets uvicorn cannot use


if __name__ == "__main__":
    main()
