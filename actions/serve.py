"""Start the action server: ``python -m actions.serve [--port 5055] [rasa_sdk options]``.

``make run`` (daogou_server.stack), ``make shell``, the end-to-end tests and the load benchmark start the action
server through here, so it runs with the same settings everywhere. Two settings matter. It listens on loopback unless ``DAOGOU_BIND`` says otherwise. And:
Sanic closes an idle keep-alive connection after 5 s by default, while the Rasa server's aiohttp
client keeps pooled connections for 15 s. Under concurrent shoppers Rasa then reuses a connection
the action server is closing ("Cannot write to closing transport"), the action fails, and the
shopper's answer loses its products. Keeping connections open longer on the server side than on the
client side means the client always closes first.
"""
from __future__ import annotations

import os
import sys
from typing import List, Optional

#: Longer than aiohttp's default pooled keep-alive (15 s), see above.
KEEP_ALIVE_SECONDS = 20


def main(argv: Optional[List[str]] = None) -> None:
    os.environ.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", str(KEEP_ALIVE_SECONDS))
    # Only the Rasa server calls the actions: loopback unless the deployment binds elsewhere (DAOGOU_BIND).
    os.environ.setdefault("SANIC_HOST", os.environ.get("DAOGOU_BIND", "127.0.0.1"))
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    args = create_argument_parser().parse_args(["--actions", "actions", *(sys.argv[1:] if argv is None else argv)])
    main_from_args(args)


if __name__ == "__main__":
    main()
