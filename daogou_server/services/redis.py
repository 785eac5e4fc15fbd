"""A throwaway Redis server on 127.0.0.1 (no persistence) for Rasa's lock store in the profile and tests."""
from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from daogou_server.services.common import ThrowawayServer, find_binary, free_port, stop_process


@dataclass
class LocalRedis(ThrowawayServer):
    """One redis-server: `start()`, `url()`, `stop()`, `restart()` (same port, so clients can reconnect)."""

    port: int = field(default_factory=free_port)
    root: Optional[Path] = None
    _process: Optional[subprocess.Popen] = None
    _own_root: bool = False

    def start(self) -> "LocalRedis":
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="daogou-redis-"))
            self._own_root = True
        self._launch([find_binary("redis-server", ["/usr/bin/redis-server"]), "--bind", "127.0.0.1", "--port",
                      str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.root)],
                     self._pings, f"Redis on port {self.port}")
        return self

    def _pings(self) -> bool:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping())

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        stop_process(self._process)
        self._process = None

