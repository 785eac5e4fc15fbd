"""What one measured request came to, and the summary of many: the load benchmark's arithmetic.

Pure functions and dataclasses, no I/O, so the numbers in a results file can be checked by a unit test
(``tests/benchmarks``) rather than trusted.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

# An error kind is a short label, counted per kind in the summary: "http 500", "timeout", "empty reply", ...
UNFINISHED = "unfinished"  # cut off by the run's deadline: never sent or never answered, so no latency


@dataclass(frozen=True)
class Outcome:
    """One request: how long it took and, when it failed, how (``error`` is None for a good answer)."""

    latency_ms: Optional[float]
    error: Optional[str] = None
    #: What carried it ("rest", "socketio", "events", ...): the report summarises each channel apart.
    channel: str = "rest"
    #: ``time.monotonic()`` when it finished (None: never sent): the soak buckets outcomes by minute.
    finished_at: Optional[float] = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles in milliseconds (numpy's linear interpolation); all None when nothing was timed."""

    count: int
    p50: Optional[float]
    p95: Optional[float]
    p99: Optional[float]
    mean: Optional[float]
    max: Optional[float]

    @classmethod
    def of(cls, latencies_ms: Sequence[float]) -> "LatencySummary":
        if not len(latencies_ms):
            return cls(0, None, None, None, None, None)
        values = np.asarray(latencies_ms, dtype=float)
        p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99]))
        return cls(len(values), p50, p95, p99, float(values.mean()), float(values.max()))


@dataclass(frozen=True)
class RunSummary:
    """A batch of requests: counts, throughput of good answers, latency, errors by kind.

    Latency covers every request that finished, failed ones included (a timeout counts at the time it
    took to give up), so errors cannot flatter the percentiles; only requests the deadline cut off
    (:data:`UNFINISHED`) have no latency.
    """

    requests: int
    ok: int
    errors: Dict[str, int]
    wall_s: float
    throughput: Optional[float]  # good answers per second of wall time; None for a sequential run
    latency: LatencySummary

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def to_dict(self) -> dict:
        return {**asdict(self), "error_count": self.error_count}


def summarise(outcomes: Iterable[Outcome], wall_s: float, with_throughput: bool = True) -> RunSummary:
    """Summarise ``outcomes`` measured over ``wall_s`` seconds."""
    outcomes = list(outcomes)
    if wall_s < 0:
        raise ValueError(f"wall time must not be negative, got {wall_s}")
    ok = sum(o.ok for o in outcomes)
    errors = dict(sorted(Counter(o.error for o in outcomes if not o.ok).items()))
    latency = LatencySummary.of([o.latency_ms for o in outcomes if o.latency_ms is not None])
    throughput = (ok / wall_s if wall_s > 0 else None) if with_throughput else None
    return RunSummary(len(outcomes), ok, errors, wall_s, throughput, latency)


def by_channel(outcomes: Iterable[Outcome]) -> Dict[str, list]:
    """``{channel: [outcome, ...]}`` in the order the channels first appear."""
    grouped: Dict[str, list] = {}
    for outcome in outcomes:
        grouped.setdefault(outcome.channel, []).append(outcome)
    return grouped


@dataclass
class MemoryTrack:
    """Resident memory of one server (its process and children), in bytes: after start-up, peak, last."""

    idle: Optional[int] = None
    peak: int = 0
    last: Optional[int] = None
    samples: int = field(default=0, repr=False)

    def add(self, rss: Optional[int]) -> None:
        if rss is None:  # the process is gone: keep what was seen
            return
        if self.idle is None:
            self.idle = rss
        self.peak = max(self.peak, rss)
        self.last = rss
        self.samples += 1


def megabytes(n_bytes: Optional[float]) -> Optional[float]:
    """Decimal megabytes, the unit issue 17 states its bounds in (1 GB = 1,000 MB)."""
    return None if n_bytes is None else n_bytes / 1e6
