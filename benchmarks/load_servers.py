"""The load benchmark's servers: started by the one supervisor (:mod:`daogou_server.processes`), and sampled
for resident memory while traffic runs."""
from __future__ import annotations

import threading
from typing import Callable, Dict, Mapping, Optional

from benchmarks.load_stats import MemoryTrack
from daogou_server.processes import (LOOPBACK, Server, ServerError, ServerGroup, ServerSpec, count_logged_errors,
                                     free_port, tree_rss)

__all__ = ["LOOPBACK", "WHOLE_STACK", "MemorySampler", "Server", "ServerError", "ServerGroup", "ServerSpec", "count_logged_errors",
           "free_port", "tree_rss"]


WHOLE_STACK = "whole stack"


class MemorySampler:
    """Samples every server's resident memory on a background thread while the ``with`` block runs.

    ``extra`` adds processes that are not the group's servers (the production profile's PostgreSQL and
    Redis), each a function returning its process tree's RSS. Every sample also adds up all of them,
    read together, as the :data:`WHOLE_STACK` track: its peak is the peak of the sum, not the sum of
    the peaks. The first sample is the idle figure (servers up and warmed, no traffic); the peak is what
    a capacity plan needs. Reading ``/proc`` twice a second costs nothing measurable.
    """

    def __init__(self, group: ServerGroup, interval_s: float = 0.5,
                 extra: Optional[Mapping[str, Callable[[], Optional[int]]]] = None):
        self.group, self.interval_s, self.extra = group, interval_s, dict(extra or {})
        self.tracks: Dict[str, MemoryTrack] = {name: MemoryTrack() for name in [*group.servers, *self.extra, WHOLE_STACK]}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def read(self) -> Dict[str, Optional[int]]:
        """One reading of every process and their sum (None for a process that is gone)."""
        readings = {**self.group.rss(), **{name: read() for name, read in self.extra.items()}}
        readings[WHOLE_STACK] = sum(rss for rss in readings.values() if rss is not None)
        return readings

    def sample(self) -> Dict[str, Optional[int]]:
        readings = self.read()
        for name, rss in readings.items():
            self.tracks.setdefault(name, MemoryTrack()).add(rss)
        return readings

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> "MemorySampler":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
