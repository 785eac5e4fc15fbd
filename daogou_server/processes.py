"""Start servers on loopback, wait for their health checks, stop them all; read their resident memory.

One supervisor for every caller: ``make run`` (:mod:`daogou_server.launcher`, echoing each line of
log with the server's name), the end-to-end tests and the load benchmark. Each server runs in its own
process group with its log in a file, so a failed start shows the server's own last words and
stopping it takes its children along.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on now (the server binds it a moment later; a clash fails the start loudly)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server and how to tell it is ready (``health_url`` answers 200)."""

    name: str
    command: Sequence[str]
    cwd: Path
    health_url: str
    env: Mapping[str, str] = field(default_factory=dict)  # added to the benchmark's own environment
    # log lines that mean the server will never be ready although it keeps running (Rasa without its model)
    fatal_markers: Tuple[str, ...] = ()


class ServerError(RuntimeError):
    """A server exited or never came up; the message carries the end of its log."""


def _children(pid: int) -> List[int]:
    kids: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            kids.extend(int(child) for child in text.split())
    except OSError:
        pass
    return kids


def _rss(pid: int) -> Optional[int]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return 0  # a zombie has no VmRSS line


def tree_rss(pid: int) -> Optional[int]:
    """Resident bytes of ``pid`` and all its descendants (Linux ``/proc``); None when ``pid`` is gone."""
    own = _rss(pid)
    if own is None:
        return None
    total, stack = own, _children(pid)
    while stack:
        child = stack.pop()
        total += _rss(child) or 0
        stack.extend(_children(child))
    return total


def count_logged_errors(log: str) -> Dict[str, int]:
    """``{logger: count}`` of the ERROR lines in a Rasa or Rasa SDK log (``<date> <time> ERROR <logger> - ...``)."""
    counts: Dict[str, int] = {}
    for line in log.splitlines():
        parts = line.split(None, 4)
        if len(parts) >= 4 and parts[2] == "ERROR":
            counts[parts[3]] = counts.get(parts[3], 0) + 1
    return dict(sorted(counts.items()))


class Server:
    """One started server process; use :func:`start_servers` to start several and always stop them."""

    def __init__(self, spec: ServerSpec, log_dir: Path, echo: bool = False):
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self._log = self.log_path.open("a")  # a restarted server keeps its earlier lines
        self.started = time.monotonic()
        self.ready_s: Optional[float] = None
        self.process = subprocess.Popen(
            list(spec.command), cwd=spec.cwd, env={**os.environ, **spec.env},
            stdout=subprocess.PIPE if echo else self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        if echo:  # copy each line to the log file and, prefixed with the server's name, to our output
            threading.Thread(target=self._echo, name=f"echo-{spec.name}", daemon=True).start()

    def _echo(self) -> None:
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode(errors="replace")
            self._log.write(line)
            self._log.flush()
            sys.stdout.write(f"{self.spec.name:>8} | {line}")
            sys.stdout.flush()

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_until_up(self, timeout_s: float) -> None:
        deadline = self.started + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.spec.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.spec.fatal_markers:
                log = self.log_tail(100_000)
                marker = next((m for m in self.spec.fatal_markers if m in log), None)
                if marker:
                    raise ServerError(f"{self.spec.name} failed to start ({marker!r}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.spec.health_url, timeout=2) as response:
                    if response.status == 200:
                        self.ready_s = time.monotonic() - self.started
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise ServerError(f"{self.spec.name} not up at {self.spec.health_url} after {timeout_s:.0f}s:\n{self.log_tail()}")

    def rss(self) -> Optional[int]:
        return tree_rss(self.process.pid)

    def logged_errors(self) -> Dict[str, int]:
        """ERROR lines in the server's log so far, by logger: failures a shopper may never see as an error
        (an action that failed leaves a reply without its products), which the client cannot count."""
        self._log.flush()
        return count_logged_errors(self.log_path.read_text(errors="replace"))

    def stop(self, grace_s: float = 30) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self._log.close()


class ServerGroup:
    """Start servers in order (each waits for the one before: the Rasa server wants its action server),
    and stop them all on leaving the ``with`` block, whatever happened inside it."""

    def __init__(self, specs: Sequence[ServerSpec], log_dir: Path, startup_timeout_s: float, echo: bool = False):
        self.specs, self.log_dir, self.startup_timeout_s, self.echo = list(specs), log_dir, startup_timeout_s, echo
        self.servers: Dict[str, Server] = {}

    def start(self, spec: ServerSpec) -> "Server":
        """Start one server and wait for its health check (also how :meth:`restart` brings one back)."""
        server = Server(spec, self.log_dir, self.echo)
        self.servers[spec.name] = server
        server.wait_until_up(self.startup_timeout_s)
        return server

    def kill(self, name: str) -> None:
        """SIGKILL server ``name``'s process group at once, as a crash would (it stays down until :meth:`restart`)."""
        server = self.servers[name]
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()

    def restart(self, name: str, kill: bool = False) -> "Server":
        """Stop server ``name`` (``kill``: as a crash would, see :meth:`kill`) and start it again;
        the fault tests use it to check that a conversation survives its servers."""
        if kill:
            self.kill(name)
        old = self.servers[name]
        old.stop()
        return self.start(old.spec)

    def __enter__(self) -> "ServerGroup":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for spec in self.specs:
                self.start(spec)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        for server in reversed(list(self.servers.values())):
            server.stop()

    def rss(self) -> Dict[str, Optional[int]]:
        return {name: server.rss() for name, server in self.servers.items()}
