"""What every throwaway server shares: a free port, a readiness wait, a clean stop."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from typing import List, Callable, Optional

from daogou_server.processes import free_port  # noqa: F401  (re-exported: one free-port finder)


class ServiceError(RuntimeError):
    """A local server could not be started or did not become ready; the message says which and why."""


class ThrowawayServer:
    """restart, destroy and ``with`` for a local server class that defines ``start``, ``stop``, ``root``
    and ``_own_root`` (its temporary folder, removed on destroy when it made it)."""

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def pid(self) -> Optional[int]:
        """The started process (as root PostgreSQL's ``runuser``, whose tree holds the server): None when stopped."""
        process = getattr(self, "_process", None)
        return process.pid if process is not None and process.poll() is None else None

    def _launch(self, command: List[str], ready: Callable[[], bool], name: str) -> None:
        """Start ``command`` as ``self._process`` (output to ``<root>/<log>``), wait until ``ready``; a server
        that does not come up is stopped, never left half-started."""
        log = open(self.root / f"{name.split()[0].lower()}.log", "ab")
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(ready, self._process, name)
        except Exception:
            self.stop()
            raise

    def destroy(self) -> None:
        self.stop()
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.destroy()


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, name: str, timeout_s: float = 30.0) -> None:
    """Poll `ready` until it is true; fail at once with the server's exit code if it died first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited with code {process.returncode} before it was ready")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - refused or reset while starting: not ready yet
            pass
        time.sleep(0.1)
    raise ServiceError(f"{name} was not ready after {timeout_s:.0f} s")


def stop_process(process: Optional[subprocess.Popen], sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> None:
    """Send `sig` to our own child and wait; kill it if it will not go."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout_s)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_binary(name: str, candidates: list) -> str:
    """The first existing path among `candidates`, else `name` on PATH; a clear error if neither."""
    for path in candidates:
        if os.path.exists(path):
            return path
    found = shutil.which(name)
    if found is None:
        raise ServiceError(f"{name} is not installed (scripts/install_system_packages.sh installs it)")
    return found
