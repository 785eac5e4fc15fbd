"""What every throwaway server shares: a free port, a readiness wait, a clean stop."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Callable, Optional


class ServiceError(RuntimeError):
    """A local server could not be started or did not become ready; the message says which and why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
