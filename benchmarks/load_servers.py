"""The load benchmark's servers: started by the one supervisor (:mod:`daogou_server.processes`), and sampled
for resident memory while traffic runs."""
from __future__ import annotations

import threading
from typing import Dict

from benchmarks.load_stats import MemoryTrack
from daogou_server.processes import (LOOPBACK, Server, ServerError, ServerGroup, ServerSpec, count_logged_errors,
                                     free_port, tree_rss)

__all__ = ["LOOPBACK", "MemorySampler", "Server", "ServerError", "ServerGroup", "ServerSpec", "count_logged_errors",
           "free_port", "tree_rss"]


class MemorySampler:
    """Samples every server's resident memory on a background thread while the ``with`` block runs.

    The first sample is the idle figure (servers up and warmed, no traffic); the peak is what a capacity
    plan needs. Reading ``/proc`` twice a second costs nothing measurable.
    """

    def __init__(self, group: ServerGroup, interval_s: float = 0.5):
        self.group, self.interval_s = group, interval_s
        self.tracks: Dict[str, MemoryTrack] = {name: MemoryTrack() for name in group.servers}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        for name, rss in self.group.rss().items():
            self.tracks[name].add(rss)

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
