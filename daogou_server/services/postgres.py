"""A throwaway PostgreSQL cluster on 127.0.0.1 for the production profile and its tests.

Why the `postgres` user: initdb and postgres refuse to run as root, and we do
run as root here and on CI. As root the data directory is handed to the
`postgres` system user and both programs run through `runuser`; as any other
user they run directly. The cluster trusts loopback connections: it is for
local runs and tests only, never a real deployment's database.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from daogou_server.services.common import (ServiceError, ThrowawayServer, find_binary, free_port, is_root, stop_process)

RUN_AS = "postgres"


def _bin(name: str) -> str:
    return find_binary(name, sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True))


@dataclass
class LocalPostgres(ThrowawayServer):
    """One PostgreSQL server: `start()`, `url(db)`, `create_database(name)`, `stop()`, `restart()`."""

    port: int = field(default_factory=free_port)
    root: Optional[Path] = None
    user: str = "daogou"
    _process: Optional[subprocess.Popen] = None
    _own_root: bool = False

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def _as_owner(self, argv: List[str]) -> List[str]:
        return ["runuser", "-u", RUN_AS, "--", *argv] if is_root() else argv

    def start(self) -> "LocalPostgres":
        """Create the cluster on first start (initdb), then run postgres and wait until it accepts connections."""
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="daogou-pg-"))
            self._own_root = True
        if not (self.data_dir / "PG_VERSION").exists():
            self._init_cluster()
        self._launch(self._as_owner([_bin("postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                                     "-h", "127.0.0.1", "-k", str(self.root / "sock"), "-c", "fsync=off"]),
                     self._accepts, f"PostgreSQL on port {self.port}")
        return self

    def _init_cluster(self) -> None:
        assert self.root is not None
        (self.root / "sock").mkdir(exist_ok=True)
        if is_root():
            shutil.chown(self.root, RUN_AS)
            shutil.chown(self.root / "sock", RUN_AS)
            os.chmod(self.root, 0o755)
        result = subprocess.run(
            self._as_owner([_bin("initdb"), "-D", str(self.data_dir), "-U", self.user, "-A", "trust",
                            "-E", "UTF8", "--locale=C.UTF-8"]),
            capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"initdb failed: {result.stderr.strip()[-500:]}")

    def _accepts(self) -> bool:
        """Ready when a real query answers, not only when the port is open (it opens during recovery)."""
        import psycopg2

        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            pass
        try:
            psycopg2.connect(self.url("postgres"), connect_timeout=2).close()
        except psycopg2.OperationalError:
            return False
        return True

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` (if missing) and return its URL."""
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a real outage. Data stays for `start()`."""
        stop_process(self._process)
        self._process = None
        # As root the child is `runuser`, which may return before postgres has let go of its lock file.
        deadline = time.monotonic() + 30
        while self.root is not None and (self.data_dir / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

