"""The load benchmark's record: what was measured, where, on which commit, and how it compares with issue 17.

One :class:`LoadReport` is written twice, as JSON (the record; every figure) and as markdown (the table a
reader wants), under a name that carries the date, the machine and the commit, so runs never overwrite
each other and a figure can always be traced to the code that produced it.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from benchmarks.load_servers import WHOLE_STACK
from benchmarks.load_stats import LatencySummary, MemoryTrack, RunSummary, megabytes

# Issue 17, point 3.
PARSE_P50_MS = 20.0
TURN_P50_MS = 50.0
SERVER_RSS_BYTES = 1e9
MODEL_BYTES = 100e6
# Issue 21: the default profile's whole stack (every process tree, summed at each sample).
WHOLE_STACK_BYTES = 2.5e9


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    uname: str
    python: str

    @classmethod
    def here(cls) -> "Machine":
        cpuinfo = Path("/proc/cpuinfo")
        lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                   platform.processor() or "unknown CPU")
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        u = platform.uname()
        return cls(cpu, os.cpu_count() or 0, round(memory, 1), f"{u.system} {u.release} {u.machine}",
                   platform.python_version())

    @property
    def slug(self) -> str:
        system, arch = self.uname.split(" ")[0], self.uname.split(" ")[-1]
        return f"{self.cores}c-{self.memory_gib:.0f}GiB-{system}-{arch}"


def git_commit(root: Path) -> str:
    """The checkout's commit, ``-dirty`` when tracked files differ from it (the numbers then are of no commit)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=root).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


@dataclass
class TargetResult:
    """Everything measured on one assistant."""

    name: str
    description: str
    model_path: str
    model_bytes: int
    main_server: str
    startup_s: Dict[str, Optional[float]]
    first_turn_ms: Optional[float]  # the first recommendation (or greeting) after start-up: lazy loading shows here
    parse: RunSummary
    turn: RunSummary
    concurrent: RunSummary  # the chat messages of every channel (REST and socket.io) together
    memory: Dict[str, MemoryTrack]
    logged_errors: Dict[str, Dict[str, int]] = field(default_factory=dict)  # server -> logger -> ERROR lines
    #: The concurrent run by channel: "rest", "socketio", and the shop API's "events" and "recommendations".
    channels: Dict[str, RunSummary] = field(default_factory=dict)

    @property
    def main_rss_peak(self) -> Optional[int]:
        track = self.memory.get(self.main_server)
        return track.peak if track and track.samples else None

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("parse", "turn", "concurrent"):
            data[key] = getattr(self, key).to_dict()
        data["channels"] = {name: summary.to_dict() for name, summary in self.channels.items()}
        return data

    @property
    def whole_stack_peak(self) -> Optional[int]:
        track = self.memory.get(WHOLE_STACK)
        return track.peak if track and track.samples else None


@dataclass(frozen=True)
class Goal:
    what: str
    bound: str
    measured: str
    met: Optional[bool]  # None: not measured in this run


@dataclass
class LoadReport:
    started: datetime
    machine: Machine
    commit: str
    command: str
    settings: Dict[str, object]
    # 1-, 5- and 15-minute load averages before and after, and the niceness the servers inherited: a shared
    # machine, or servers run below other work's priority, make every figure slower
    load_average: Dict[str, Tuple[float, float, float]]
    niceness: int = 0
    targets: List[TargetResult] = field(default_factory=list)

    def target(self, name: str) -> Optional[TargetResult]:
        return next((t for t in self.targets if t.name == name), None)

    def goals(self) -> List[Goal]:
        """Issue 17's speed and weight bounds and issue 21's memory bound, for Daogou, against this run."""
        ours, toy = self.target("daogou"), self.target("rasa-init")
        if ours is None:
            return []

        def at_most(value: Optional[float], bound: float) -> Optional[bool]:
            return None if value is None else value <= bound

        parse_p50, turn_p50 = ours.parse.latency.p50, ours.turn.latency.p50
        rss = ours.main_rss_peak
        goals = [
            Goal("`/model/parse` p50", f"<= {PARSE_P50_MS:g} ms", _ms(parse_p50), at_most(parse_p50, PARSE_P50_MS)),
            Goal("recommendation turn over REST, p50", f"<= {TURN_P50_MS:g} ms", _ms(turn_p50), at_most(turn_p50, TURN_P50_MS)),
            Goal(f"{self.settings['shoppers']} shoppers x {self.settings['messages']} messages: errors", "0",
                 str(ours.concurrent.error_count), ours.concurrent.error_count == 0),
        ]
        if toy is not None and toy.concurrent.throughput and ours.concurrent.throughput is not None:
            ratio = ours.concurrent.throughput / toy.concurrent.throughput
            goals.append(Goal("throughput against the `rasa init` bot", f">= {toy.concurrent.throughput:.1f} msg/s",
                              f"{ours.concurrent.throughput:.1f} msg/s ({ratio:.2f}x)", ratio >= 1))
        else:
            goals.append(Goal("throughput against the `rasa init` bot", "the bot's, same run", "not measured", None))
        goals += [
            Goal("Rasa server resident memory (peak)", "<= 1,000 MB", _mb(rss), at_most(rss, SERVER_RSS_BYTES)),
            Goal("model file", "<= 100 MB", _mb(ours.model_bytes), ours.model_bytes <= MODEL_BYTES),
            Goal("default profile whole stack, resident (peak of the sum)", "<= 2,500 MB", _mb(ours.whole_stack_peak),
                 at_most(ours.whole_stack_peak, WHOLE_STACK_BYTES)),
        ]
        return goals

    @property
    def stem(self) -> str:
        return f"load-{self.started:%Y-%m-%dT%H%M}Z-{self.machine.slug}-{self.commit}"

    def to_dict(self) -> dict:
        return {
            "started": self.started.isoformat(), "machine": asdict(self.machine), "commit": self.commit,
            "command": self.command, "settings": self.settings, "load_average": self.load_average,
            "niceness": self.niceness,
            "targets": [t.to_dict() for t in self.targets], "goals": [asdict(g) for g in self.goals()],
        }

    def markdown(self) -> str:
        names = [t.name for t in self.targets]
        rows = _metric_rows(self.targets)
        s = self.settings
        lines = [
            "# Load benchmark: Daogou and a bare `rasa init` bot",
            "",
            f"- Date: {self.started:%Y-%m-%d %H:%M} UTC; commit `{self.commit}`",
            f"- Machine: {self.machine.cpu}, {self.machine.cores} cores, {self.machine.memory_gib:g} GiB, "
            f"{self.machine.uname}, Python {self.machine.python}",
            f"- Load average (1 / 5 / 15 min) before {_loads(self.load_average['before'])}, after "
            f"{_loads(self.load_average.get('after'))}; the benchmark and its servers ran at niceness {self.niceness}"
            + ("" if self.niceness == 0 else " (below other work's priority)")
            + ": other work on the machine slows every figure",
            f"- Command: `{self.command}`",
            f"- Traffic: `/model/parse` x {s['parse_requests']} (for Daogou every text distinct and none seen before, so "
            f"its memory of recent sentence vectors never answers) and {s['turns']} single-shopper REST turns "
            f"(each from a new shopper) one at a time; then {s['shoppers']} shoppers x {s['messages']} messages at once "
            f"({s.get('channels', 'over REST')}), each its own sender, no think time (timeout {s['timeout_s']:g} s a "
            f"message, {s['max_seconds']:g} s a run); {s.get('api', 'no shop API traffic')}",
            "",
            _table(["", *names], rows),
        ]
        goals = self.goals()
        if goals:
            verdict = {True: "met", False: "**missed**", None: "not measured"}
            lines += ["", "Issue 17, point 3, and issue 21 (Daogou):", "",
                      _table(["bound", "goal", "measured", ""], [[g.what, g.bound, g.measured, verdict[g.met]] for g in goals])]
        for target in self.targets:
            for run, summary in (("parse", target.parse), ("turn", target.turn), ("concurrent", target.concurrent)):
                if summary.errors:
                    detail = ", ".join(f"{kind} x {count}" for kind, count in summary.errors.items())
                    lines.append(f"\n- {target.name}, {run}: errors {detail}")
            for channel, summary in target.channels.items():
                if summary.errors and channel not in ("rest", "socketio"):
                    detail = ", ".join(f"{kind} x {count}" for kind, count in summary.errors.items())
                    lines.append(f"\n- {target.name}, {channel}: errors {detail}")
        lines += ["", "Latency percentiles cover every finished request, failed ones included; throughput counts "
                  "good answers (HTTP 200 with at least one reply; over socket.io a turn with at least one reply; an "
                  "event stored; a product list) per second of the concurrent run's wall time; `concurrent` is the "
                  "chat, REST and socket.io together. Memory is each server's process tree (RSS); the whole stack is "
                  "their sum read at the same moment (shared pages, e.g. PostgreSQL's buffers, count in each process "
                  "that maps them, so the sum errs high). "
                  "The servers' ERROR lines are counted over the whole run (`rasa.core.channels.rest` logs a "
                  "request the client gave up on; `rasa.core.actions.action` an action call that failed, whose "
                  "reply then lacks the action's part).", ""]
        return "\n".join(lines)

    def write(self, out_dir: Path) -> Sequence[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path, md_path = out_dir / f"{self.stem}.json", out_dir / f"{self.stem}.md"
        json_path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        md_path.write_text(self.markdown(), encoding="utf-8")
        return json_path, md_path


def _loads(loads: Optional[Sequence[float]]) -> str:
    return "-" if loads is None else " / ".join(f"{v:.2f}" for v in loads)


def _ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _mb(value: Optional[float]) -> str:
    return "-" if value is None else f"{megabytes(value):,.0f} MB"


def _percentiles(latency: LatencySummary) -> str:
    """``p50 / p95 / p99`` in one unit: milliseconds, or seconds once the tail passes one second."""
    values = (latency.p50, latency.p95, latency.p99)
    if latency.p99 is None:
        return "-"
    if latency.p99 < 1000:
        return " / ".join(f"{v:.1f}" for v in values) + " ms"
    return " / ".join(f"{v / 1000:.2f}" for v in values) + " s"


def _logged_errors(target: TargetResult) -> str:
    """``rasa 404 (rasa.core.actions.action 374, ...); actions 0``."""
    cells = []
    for server, by_logger in target.logged_errors.items():
        detail = ", ".join(f"{name} {count}" for name, count in by_logger.items())
        cells.append(f"{server} {sum(by_logger.values())}" + (f" ({detail})" if detail else ""))
    return "; ".join(cells) or "-"


def _metric_rows(targets: Sequence[TargetResult]) -> List[List[str]]:
    def row(label, cell):
        return [label, *(cell(t) for t in targets)]

    # every process first, the whole stack last
    server_names = sorted(dict.fromkeys(name for t in targets for name in t.memory), key=lambda n: n == WHOLE_STACK)
    rows = [
        row("model file", lambda t: _mb(t.model_bytes)),
        row("servers up after", lambda t: ", ".join(f"{n} {s:.0f} s" for n, s in t.startup_s.items() if s is not None)),
        row("first turn after start-up", lambda t: _ms(t.first_turn_ms)),
        row("`/model/parse` p50 / p95 / p99", lambda t: _percentiles(t.parse.latency)),
        row("single-shopper REST turn p50 / p95 / p99", lambda t: _percentiles(t.turn.latency)),
        row("concurrent: throughput", lambda t: "-" if t.concurrent.throughput is None else f"{t.concurrent.throughput:.1f} msg/s"),
        row("concurrent: p50 / p95 / p99", lambda t: _percentiles(t.concurrent.latency)),
        row("concurrent: errors / messages", lambda t: f"{t.concurrent.error_count} / {t.concurrent.requests}"),
        row("concurrent: wall time", lambda t: f"{t.concurrent.wall_s:.1f} s"),
    ]
    for channel in dict.fromkeys(c for t in targets for c in t.channels):
        unit = "msg/s" if channel in ("rest", "socketio") else "req/s"
        rows += [
            row(f"{channel}: throughput / p50 / p95 / p99", lambda t, c=channel: (
                f"{t.channels[c].throughput or 0:.1f} {unit}; {_percentiles(t.channels[c].latency)}"
                if c in t.channels else "-")),
            row(f"{channel}: errors / requests", lambda t, c=channel: (
                f"{t.channels[c].error_count} / {t.channels[c].requests}" if c in t.channels else "-")),
        ]
    rows.append(row("ERROR lines in the server logs", _logged_errors))
    for name in server_names:
        label = f"{name} RSS idle / peak" + (" (sampled together)" if name == WHOLE_STACK else "")
        rows.append(row(label, lambda t, n=name: (
            f"{_mb(t.memory[n].idle)} / {_mb(t.memory[n].peak)}" if n in t.memory and t.memory[n].samples else "-")))
    return rows


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in r) + " |" for r in rows]
    return "\n".join(lines)
