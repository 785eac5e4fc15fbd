"""Load and speed benchmark (issue 17, point 3): Daogou against a bare `rasa init` bot, same machine, same run.

For each assistant it starts the servers on loopback and free ports, then measures one shopper at a time
(``/model/parse`` latency; a REST turn, for Daogou a recommendation through the action server), then
N shoppers x M messages at once over REST (throughput, latency percentiles, errors), sampling every server's
resident memory throughout. It prints a markdown table and writes JSON + markdown to ``benchmarks/results/``.

    .venv/bin/python benchmarks/load.py                      # 50 x 20, both assistants
    .venv/bin/python benchmarks/load.py --model other.tar.gz # another Daogou model (e.g. a new NLU design)
    .venv/bin/python benchmarks/load.py --quick              # a smoke run: few shoppers, few messages
    .venv/bin/python benchmarks/load.py --profile production # also Daogou as `make run-production` (nginx, 2 of each)

The `rasa init` bot is created and trained once per Rasa version under ``var/bench/`` (a few minutes).
Nothing is sent anywhere but 127.0.0.1, and nothing in the checkout changes except ``var/`` and the results.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import signal
import sys
import tempfile
import uuid
from contextlib import ExitStack
from datetime import datetime, timezone
from itertools import cycle, islice
from pathlib import Path
from typing import List, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a script: make `benchmarks.*` importable
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.load_report import LoadReport, Machine, TargetResult, git_commit  # noqa: E402
from benchmarks.load_servers import MemorySampler, ServerError, ServerGroup  # noqa: E402
from benchmarks.load_stats import summarise  # noqa: E402
from benchmarks.load_targets import (DEFAULT_TARGETS, Target, TargetError, daogou, parse_target_names,  # noqa: E402
                                     rasa_init)
from benchmarks.load_traffic import Step, run_concurrent, run_sequential  # noqa: E402
from daogou_server.production import data_stores  # noqa: E402
from daogou_server.services.common import ServiceError  # noqa: E402

logger = logging.getLogger("benchmarks.load")

FULL = {"shoppers": 50, "messages": 20, "parse_requests": 100, "turns": 40}
QUICK = {"shoppers": 4, "messages": 5, "parse_requests": 20, "turns": 6}


def measure(target: Target, args: argparse.Namespace, workdir: Path) -> TargetResult:
    """Start ``target``'s servers, warm them up, time the three runs, stop the servers."""
    prefix = f"load-{target.name}-{uuid.uuid4().hex[:8]}"
    logger.info("%s: starting %s", target.name, ", ".join(s.name for s in target.servers))
    with ExitStack() as running:
        if target.stores is not None:  # the production profile's PostgreSQL and Redis, before its servers
            running.enter_context(data_stores(target.stores))
        group = running.enter_context(ServerGroup(target.servers, workdir / f"{target.name}-logs", args.startup_timeout))
        startup = {name: server.ready_s for name, server in group.servers.items()}
        # The first turns load whatever the servers load lazily (the recommender, TensorFlow graphs): timed
        # apart, as what the first shopper after a restart waits, and kept out of the percentiles.
        warm_up = [(f"{prefix}-warm-{i}", step) for i, step in enumerate(target.turns)]
        warm_up += [(prefix, Step(text, "parse")) for text in target.parse_texts[:5]]
        first = asyncio.run(run_sequential(target.endpoints, warm_up, args.startup_timeout))
        if not first[0].ok:
            logger.warning("%s: the first turn failed (%s); measuring anyway", target.name, first[0].error)
        with MemorySampler(group) as memory:
            texts = list(islice(cycle(target.parse_texts), args.parse_requests))
            parse = asyncio.run(run_sequential(target.endpoints, [(prefix, Step(t, "parse")) for t in texts], args.timeout))
            turns = [(f"{prefix}-turn-{i}", target.turns[i % len(target.turns)]) for i in range(args.turns)]
            turn = asyncio.run(run_sequential(target.endpoints, turns, args.timeout))
            logger.info("%s: %d shoppers x %d messages", target.name, args.shoppers, args.messages)
            outcomes, wall = asyncio.run(run_concurrent(target.endpoints, target.mix, args.shoppers, args.messages,
                                                        f"{prefix}-shopper", args.timeout, args.max_seconds))
        logged_errors = {name: server.logged_errors() for name, server in group.servers.items()}
    return TargetResult(
        name=target.name, description=target.description, model_path=str(target.model_path),
        model_bytes=target.model_path.stat().st_size, main_server=target.main_server, startup_s=startup,
        first_turn_ms=first[0].latency_ms, parse=summarise(parse, 0, with_throughput=False),
        turn=summarise(turn, 0, with_throughput=False), concurrent=summarise(outcomes, wall), memory=memory.tracks,
        logged_errors=logged_errors,
    )


def _target_names(text: str) -> List[str]:
    try:
        return parse_target_names(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_target(name: str, args: argparse.Namespace, workdir: Path) -> Target:
    if name in ("daogou", "daogou-production"):
        return daogou(workdir, args.model.resolve(), args.recsys_models.resolve(), name == "daogou-production")
    return rasa_init(workdir, args.bot_cache.resolve())


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models/rasa/daogou.tar.gz",
                        help="Daogou's Rasa model (default: %(default)s)")
    parser.add_argument("--recsys-models", type=Path,
                        default=Path(os.environ.get("DAOGOU_MODEL_DIR", PROJECT_ROOT / "models/recsys")),
                        help="the trained recommender the action server loads (default: $DAOGOU_MODEL_DIR or models/recsys)")
    parser.add_argument("--targets", type=_target_names, default=list(DEFAULT_TARGETS),
                        help=f"comma-separated, measured in this order (default: {','.join(DEFAULT_TARGETS)}; "
                             "daogou-production: as `make run-production`)")
    parser.add_argument("--profile", choices=("default", "production"),
                        help="production: the production profile beside the default one (adds daogou-production to --targets)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK['shoppers']} shoppers x {QUICK['messages']} messages, fewer single requests")
    parser.add_argument("--shoppers", type=int, help=f"concurrent shoppers (default {FULL['shoppers']})")
    parser.add_argument("--messages", type=int, help=f"messages per shopper (default {FULL['messages']})")
    parser.add_argument("--parse-requests", type=int, help=f"single-shopper /model/parse requests (default {FULL['parse_requests']})")
    parser.add_argument("--turns", type=int, help=f"single-shopper REST turns (default {FULL['turns']})")
    parser.add_argument("--timeout", type=float, default=60, help="seconds one message may take (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=1200,
                        help="seconds the concurrent run may take; messages left then count as errors (default %(default)s)")
    parser.add_argument("--startup-timeout", type=float, default=600,
                        help="seconds a server may take to come up, and its first turn to be answered (default %(default)s)")
    parser.add_argument("--bot-cache", type=Path, default=PROJECT_ROOT / "var/bench",
                        help="where the trained `rasa init` bot is kept between runs (default: %(default)s)")
    parser.add_argument("--out-dir", type=Path, default=PROJECT_ROOT / "benchmarks/results")
    parser.add_argument("--no-save", action="store_true", help="print the table only")
    parser.add_argument("--workdir", type=Path, help="keep the servers' logs and stores here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.profile == "production" and "daogou-production" not in args.targets:
        args.targets.append("daogou-production")
    for key, full in FULL.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else full)
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    if min(args.timeout, args.max_seconds, args.startup_timeout) <= 0:
        parser.error("timeouts must be positive")
    return args


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds the `with` blocks, so the servers are stopped too


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # `timeout` and CI cancel with SIGTERM
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    command = shlex.join(["benchmarks/load.py", *(sys.argv[1:] if argv is None else argv)])
    report = LoadReport(
        started=datetime.now(timezone.utc), machine=Machine.here(), commit=git_commit(PROJECT_ROOT), command=command,
        settings={**{key: getattr(args, key) for key in FULL}, "timeout_s": args.timeout,
                  "max_seconds": args.max_seconds, "targets": args.targets},
        load_average={"before": os.getloadavg()}, niceness=os.nice(0),
    )
    with tempfile.TemporaryDirectory(prefix="daogou-load-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            targets = [build_target(name, args, workdir) for name in args.targets]  # fail before starting anything
            for target in targets:
                report.targets.append(measure(target, args, workdir))
        except (TargetError, ServerError, ServiceError) as exc:
            print(f"load benchmark: {exc}", file=sys.stderr)
            return 1
    report.load_average["after"] = os.getloadavg()
    print(report.markdown())
    if not args.no_save:
        for path in report.write(args.out_dir):
            print(f"wrote {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
