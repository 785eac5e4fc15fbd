"""The soak (issue 21): the concurrent traffic held at a steady rate for many minutes, sampled once a minute.

What it answers: does anything grow with time alone (a cache without a bound, a tracker read that gets
slower as the table fills, a leak in a long-lived process)? Each minute records every process's resident
memory and the whole stack's (read together), the chat's p50 / p99 latency and the errors of the requests
that finished in that minute. :func:`flatness` then compares the first and the last stretch after a
warm-up, by the rule in :class:`FlatRule`.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from benchmarks.load_report import _loads, _table
from benchmarks.load_servers import WHOLE_STACK
from benchmarks.load_stats import LatencySummary, Outcome, megabytes
from benchmarks.load_traffic import CHAT_CHANNELS, ApiTraffic, Endpoints, Pacing, TrafficMix, run_concurrent

MINUTE_S = 60.0


@dataclass(frozen=True)
class SoakMinute:
    """One minute of the soak: memory read at its end, the requests that finished during it."""

    minute: int
    rss: Dict[str, Optional[int]]  # process (and "whole stack") -> bytes
    chat_messages: int
    chat_p50_ms: Optional[float]
    chat_p99_ms: Optional[float]
    chat_errors: int
    api_requests: int
    api_errors: int


def minute_of(index: int, outcomes: Sequence[Outcome], rss: Dict[str, Optional[int]]) -> SoakMinute:
    """The minute's figures from the outcomes that finished in it and one memory reading."""
    chat = [o for o in outcomes if o.channel in CHAT_CHANNELS]
    api = [o for o in outcomes if o.channel not in CHAT_CHANNELS]
    latency = LatencySummary.of([o.latency_ms for o in chat if o.latency_ms is not None])
    return SoakMinute(index, dict(rss), len(chat), latency.p50, latency.p99, sum(not o.ok for o in chat),
                      len(api), sum(not o.ok for o in api))


@dataclass(frozen=True)
class FlatRule:
    """Flat: after ``warm_up`` minutes, the mean over the last ``window`` minutes is within ``memory_tolerance``
    (whole stack and every process's RSS) and ``latency_tolerance`` (the chat's p50) of the mean over the
    first ``window`` minutes. For a 30-minute soak: 5 minutes of warm-up, then minutes 6-15 against 21-30.
    Shorter soaks shrink both (a 2-minute check compares minute 1 with minute 2). The chat's p99 is shown
    beside them but not judged: at a few messages a second, one minute's p99 is its two or three slowest
    messages, which a neighbour's burst of CPU on a shared machine decides."""

    warm_up: int
    window: int
    memory_tolerance: float = 0.10
    latency_tolerance: float = 0.20

    @classmethod
    def for_minutes(cls, minutes: int) -> "FlatRule":
        warm_up = min(5, minutes // 6)
        return cls(warm_up, max(1, min(10, (minutes - warm_up) // 2)))


@dataclass(frozen=True)
class Drift:
    what: str
    first: Optional[float]
    last: Optional[float]
    tolerance: float
    judged: bool = True  # False: shown, not part of the verdict

    @property
    def change(self) -> Optional[float]:
        if self.first is None or self.last is None or self.first == 0:
            return None
        return self.last / self.first - 1

    @property
    def flat(self) -> Optional[bool]:
        return None if self.change is None else abs(self.change) <= self.tolerance


def _mean(values: Sequence[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def flatness(minutes: Sequence[SoakMinute], rule: FlatRule) -> List[Drift]:
    """Every figure's first-window and last-window means, against the rule's tolerance."""
    settled = list(minutes)[rule.warm_up:]
    first, last = settled[:rule.window], settled[-rule.window:]
    if not first:
        return []
    names = list(dict.fromkeys(name for m in minutes for name in m.rss))
    drifts = [Drift(f"{name} RSS", _mean([m.rss.get(name) for m in first]), _mean([m.rss.get(name) for m in last]),
                    rule.memory_tolerance) for name in names]
    for label, key, judged in (("chat p50", "chat_p50_ms", True), ("chat p99", "chat_p99_ms", False)):
        drifts.append(Drift(label, _mean([getattr(m, key) for m in first]), _mean([getattr(m, key) for m in last]),
                            rule.latency_tolerance, judged))
    return drifts


def _progress_line(m: SoakMinute) -> str:
    whole = megabytes(m.rss.get(WHOLE_STACK))
    p50 = "-" if m.chat_p50_ms is None else f"{m.chat_p50_ms / 1000:.2f} s"
    p99 = "-" if m.chat_p99_ms is None else f"{m.chat_p99_ms / 1000:.2f} s"
    return (f"soak minute {m.minute}: whole stack {whole:,.0f} MB, chat {m.chat_messages} msgs p50 {p50} p99 {p99}, "
            f"errors {m.chat_errors}, shop API {m.api_requests} requests, errors {m.api_errors}")


async def run_soak(endpoints: Endpoints, mix: TrafficMix, shoppers: int, rate: float, minutes: int,
                   api: Optional[ApiTraffic], read_memory: Callable[[], Dict[str, Optional[int]]], timeout_s: float,
                   sender_prefix: str, progress: Callable[[str], None] = print) -> Tuple[List[SoakMinute], List[Outcome]]:
    """``minutes`` of paced traffic at ``rate`` chat messages a second; one :class:`SoakMinute` a minute, printed
    through ``progress`` as it is taken. Returns the minutes and every outcome."""
    finished: List[Outcome] = []
    taken: List[SoakMinute] = []
    duration = minutes * MINUTE_S
    traffic = asyncio.create_task(run_concurrent(
        endpoints, mix, shoppers, 0, sender_prefix, timeout_s, duration + timeout_s + 30, api=api,
        pacing=Pacing(rate, duration), on_outcome=finished.append))
    started, seen = time.monotonic(), 0
    for index in range(1, minutes + 1):
        await asyncio.sleep(max(0.0, started + index * MINUTE_S - time.monotonic()))
        if traffic.done():
            break
        rss = await asyncio.get_running_loop().run_in_executor(None, read_memory)
        minute = minute_of(index, finished[seen:], rss)
        seen = len(finished)
        taken.append(minute)
        progress(_progress_line(minute))
    outcomes, _ = await traffic
    return taken, outcomes


@dataclass
class SoakReport:
    """What a soak wrote: the settings, each minute, and the verdict."""

    started: str
    machine: Dict[str, object]
    commit: str
    command: str
    target: str
    settings: Dict[str, object]
    load_average: Dict[str, Sequence[float]]
    minutes: List[SoakMinute]
    rule: FlatRule
    totals: Dict[str, Dict[str, object]] = field(default_factory=dict)  # channel -> requests / errors

    @property
    def drifts(self) -> List[Drift]:
        return flatness(self.minutes, self.rule)

    @property
    def flat(self) -> Optional[bool]:
        verdicts = [d.flat for d in self.drifts if d.judged]
        return None if not verdicts or None in verdicts else all(verdicts)

    def markdown(self) -> str:
        names = list(dict.fromkeys(name for m in self.minutes for name in m.rss))
        header = ["minute", *(f"{n} MB" for n in names), "chat msgs", "p50 s", "p99 s", "chat errors",
                  "shop API requests", "shop API errors"]
        rows = [[str(m.minute), *(_mb(m.rss.get(n)) for n in names), str(m.chat_messages), _s(m.chat_p50_ms),
                 _s(m.chat_p99_ms), str(m.chat_errors), str(m.api_requests), str(m.api_errors)] for m in self.minutes]
        rule = self.rule
        verdict = {True: "flat", False: "**not flat**", None: "not measured"}
        drift_rows = [[d.what, _fmt(d.first, d.what), _fmt(d.last, d.what),
                       "-" if d.change is None else f"{d.change:+.1%}", f"±{d.tolerance:.0%}" if d.judged else "not judged",
                       verdict[d.flat] if d.judged else "-"]
                      for d in self.drifts]
        s = self.settings
        lines = [
            f"# Soak: {self.target}, {len(self.minutes)} minutes",
            "",
            f"- Date: {self.started}; commit `{self.commit}`; machine: {self.machine.get('cpu')}, "
            f"{self.machine.get('cores')} cores, {self.machine.get('memory_gib')} GiB",
            f"- Load average before {_loads(self.load_average.get('before'))}, after {_loads(self.load_average.get('after'))}",
            f"- Command: `{self.command}`",
            f"- Traffic: {s['shoppers']} shopper seats at {s['rate']:.2f} chat messages/s in all "
            f"({s['rate_source']}), each seat a new shopper after each conversation; {s['api']}",
            "- Totals: " + "; ".join(f"{ch} {t['requests']} requests, {t['errors']} errors" for ch, t in self.totals.items()),
            "",
            _table(header, rows),
            "",
            f"Flat (the rule): after {rule.warm_up} minutes of warm-up, the mean of the last {rule.window} minutes "
            f"within ±{rule.memory_tolerance:.0%} (memory) and ±{rule.latency_tolerance:.0%} (chat p50) of the "
            f"mean of the first {rule.window} (p99 shown, not judged: a minute's p99 is its two or three slowest "
            f"messages). Verdict: {verdict[self.flat] if self.flat is False else f'**{verdict[self.flat]}**'}.",
            "",
            _table(["figure", "first window", "last window", "change", "allowed", ""], drift_rows),
            "",
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {**asdict(self), "drifts": [{**asdict(d), "change": d.change, "flat": d.flat} for d in self.drifts],
                "flat": self.flat}

    def write(self, out_dir: Path, stem: str) -> List[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [out_dir / f"{stem}.json", out_dir / f"{stem}.md", out_dir / f"{stem}.png"]
        paths[0].write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths[1].write_text(self.markdown(), encoding="utf-8")
        plot(self, paths[2])
        return paths


def plot(report: SoakReport, path: Path) -> None:
    """Memory of each process and the whole stack, and the chat's p50 / p99, by minute."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [m.minute for m in report.minutes]
    figure, (memory, latency) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    for name in dict.fromkeys(n for m in report.minutes for n in m.rss):
        values = [megabytes(m.rss.get(name)) for m in report.minutes]
        memory.plot(minutes, values, marker=".", label=name, linewidth=2.5 if name == WHOLE_STACK else 1)
    memory.set_ylabel("resident memory, MB")
    memory.set_ylim(bottom=0)  # from zero: growth shows at its true size
    memory.legend(fontsize="small", ncol=3, loc="lower right")
    memory.grid(alpha=0.3)
    for key, label in (("chat_p50_ms", "chat p50"), ("chat_p99_ms", "chat p99")):
        latency.plot(minutes, [None if getattr(m, key) is None else getattr(m, key) / 1000 for m in report.minutes],
                     marker=".", label=label)
    latency.set_ylabel("latency, s")
    latency.set_ylim(bottom=0)
    latency.set_xlabel("minute")
    latency.legend(fontsize="small")
    latency.grid(alpha=0.3)
    figure.suptitle(f"Soak: {report.target} at {report.settings['rate']:.2f} msg/s, {report.started}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _mb(value: Optional[float]) -> str:
    return "-" if value is None else f"{megabytes(value):,.0f}"


def _s(value: Optional[float]) -> str:
    return "-" if value is None else f"{value / 1000:.2f}"


def _fmt(value: Optional[float], what: str) -> str:
    if value is None:
        return "-"
    return f"{megabytes(value):,.0f} MB" if what.endswith("RSS") else f"{value / 1000:.2f} s"
