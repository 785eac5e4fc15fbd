"""Load and speed benchmark (issue 17, point 3): Daogou against a bare `rasa init` bot, same machine, same run.

For each assistant it starts the servers on loopback and free ports, then measures one shopper at a time
(``/model/parse`` latency; a REST turn, for Daogou a recommendation through the action server), then
N shoppers x M messages at once, over REST and (one shopper in five, Daogou only) socket.io, with shop API
clients posting events and fetching recommendations beside them (throughput, latency percentiles, errors,
each channel apart), sampling every process's resident memory and the whole stack's throughout. It prints
a markdown table and writes JSON + markdown to ``benchmarks/results/``.

    .venv/bin/python benchmarks/load.py                      # 50 x 20, both assistants
    .venv/bin/python benchmarks/load.py --model other.tar.gz # another Daogou model (e.g. a new NLU design)
    .venv/bin/python benchmarks/load.py --quick              # a smoke run: few shoppers, few messages
    .venv/bin/python benchmarks/load.py --profile production # also Daogou as `make run-production` (nginx, 2 of each)
    .venv/bin/python benchmarks/load.py --soak 30            # Daogou for 30 minutes at half its measured throughput

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
import json
import urllib.request
from dataclasses import asdict
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from itertools import cycle, islice
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a script: make `benchmarks.*` importable
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.load_report import LoadReport, Machine, TargetResult, git_commit  # noqa: E402
from benchmarks.load_servers import MemorySampler, ServerError, ServerGroup, tree_rss  # noqa: E402
from benchmarks.load_soak import FlatRule, SoakReport, run_soak  # noqa: E402
from benchmarks.load_stats import by_channel, summarise  # noqa: E402
from benchmarks.load_targets import (DEFAULT_TARGETS, Target, TargetError, daogou, parse_target_names,  # noqa: E402
                                     rasa_init)
from benchmarks.load_traffic import CHAT_CHANNELS, ApiTraffic, Endpoints, Step, run_concurrent, run_sequential  # noqa: E402
from daogou_server.production import DataStores, data_stores  # noqa: E402
from daogou_server.services.common import ServiceError  # noqa: E402

logger = logging.getLogger("benchmarks.load")

FULL = {"shoppers": 50, "messages": 20, "parse_requests": 100, "turns": 40}
QUICK = {"shoppers": 4, "messages": 5, "parse_requests": 20, "turns": 6}


@contextmanager
def started(target: Target, args: argparse.Namespace, workdir: Path, prefix: str) -> Iterator[Tuple[ServerGroup, Dict[str, Callable[[], Optional[int]]], float]]:
    """``target``'s data stores and servers, up and warmed: yields the server group, the data stores' memory
    readers (PostgreSQL, Redis) and the first turn's time; stops everything on leaving."""
    logger.info("%s: starting %s", target.name, ", ".join(s.name for s in target.servers))
    with ExitStack() as running:
        stores: Optional[DataStores] = None
        if target.stores is not None:  # the production profile's PostgreSQL and Redis, before its servers
            stores = running.enter_context(data_stores(target.stores))
        group = running.enter_context(ServerGroup(target.servers, workdir / f"{target.name}-logs", args.startup_timeout))
        # The first turns load whatever the servers load lazily (the recommender, TensorFlow graphs): timed
        # apart, as what the first shopper after a restart waits, and kept out of the percentiles.
        warm_up = [(f"{prefix}-warm-{i}", step) for i, step in enumerate(target.turns)]
        warm_up += [(f"{prefix}-warm-sio", Step(target.turns[0].text, "socketio"))] if target.mix.socketio_every else []
        warm_up += [(prefix, Step(text, "parse")) for text in target.parse_texts[:5]]
        first = asyncio.run(run_sequential(target.endpoints, warm_up, args.startup_timeout))
        if not first[0].ok:
            logger.warning("%s: the first turn failed (%s); measuring anyway", target.name, first[0].error)
        yield group, store_memory(stores), first[0].latency_ms


def store_memory(stores: Optional[DataStores]) -> Dict[str, Callable[[], Optional[int]]]:
    """PostgreSQL's and Redis's process trees' RSS, for the memory sampler (none in the default profile)."""
    if stores is None:
        return {}

    def reader(server) -> Callable[[], Optional[int]]:
        return lambda: None if server.pid is None else tree_rss(server.pid)

    return {"postgres": reader(stores.postgres), "redis": reader(stores.redis)}


def api_traffic(endpoints: Endpoints, args: argparse.Namespace) -> Optional[ApiTraffic]:
    """The shop API clients beside the chat, on the catalog's first 100 products; None without a shop API."""
    if "shop_api" not in endpoints.urls or args.api_clients == 0:
        return None
    with urllib.request.urlopen(f"{endpoints['shop_api']}/v1/products?limit=100", timeout=60) as response:
        products = tuple(p["id"] for p in json.load(response)["products"])
    return ApiTraffic(args.api_clients, args.api_rate, products)


def measure(target: Target, args: argparse.Namespace, workdir: Path) -> TargetResult:
    """Start ``target``'s servers, warm them up, time the three runs, stop the servers."""
    prefix = f"load-{target.name}-{uuid.uuid4().hex[:8]}"
    with started(target, args, workdir, prefix) as (group, extra, first_ms):
        startup = {name: server.ready_s for name, server in group.servers.items()}
        api = api_traffic(target.endpoints, args)
        with MemorySampler(group, extra=extra) as memory:
            texts = list(islice(cycle(target.parse_texts[5:]), args.parse_requests))  # not the warm-up's five
            parse = asyncio.run(run_sequential(target.endpoints, [(prefix, Step(t, "parse")) for t in texts], args.timeout))
            turns = [(f"{prefix}-turn-{i}", target.turns[i % len(target.turns)]) for i in range(args.turns)]
            turn = asyncio.run(run_sequential(target.endpoints, turns, args.timeout))
            logger.info("%s: %d shoppers x %d messages", target.name, args.shoppers, args.messages)
            outcomes, wall = asyncio.run(run_concurrent(target.endpoints, target.mix, args.shoppers, args.messages,
                                                        f"{prefix}-shopper", args.timeout, args.max_seconds, api=api))
        logged_errors = {name: server.logged_errors() for name, server in group.servers.items()}
    return TargetResult(
        name=target.name, description=target.description, model_path=str(target.model_path),
        model_bytes=target.model_path.stat().st_size, main_server=target.main_server, startup_s=startup,
        first_turn_ms=first_ms, parse=summarise(parse, 0, with_throughput=False),
        turn=summarise(turn, 0, with_throughput=False),
        concurrent=summarise([o for o in outcomes if o.channel in CHAT_CHANNELS], wall), memory=memory.tracks,
        logged_errors=logged_errors,
        channels={name: summarise(group_, wall) for name, group_ in by_channel(outcomes).items()},
    )


def soak(target: Target, args: argparse.Namespace, workdir: Path, report: LoadReport) -> SoakReport:
    """Calibrate (a short concurrent run, unless ``--rate``), then hold half that throughput for ``--soak`` minutes."""
    prefix = f"soak-{target.name}-{uuid.uuid4().hex[:8]}"
    with started(target, args, workdir, prefix) as (group, extra, _):
        api = api_traffic(target.endpoints, args)
        rate, source = args.rate, "--rate"
        if rate is None:
            logger.info("%s: calibrating with %d shoppers x %d messages", target.name, args.shoppers,
                        args.calibration_messages)
            outcomes, wall = asyncio.run(run_concurrent(target.endpoints, target.mix, args.shoppers,
                                                        args.calibration_messages, f"{prefix}-calibration",
                                                        args.timeout, args.max_seconds, api=api))
            throughput = summarise([o for o in outcomes if o.channel in CHAT_CHANNELS], wall).throughput or 0
            if throughput <= 0:
                raise ServerError(f"{target.name}: the calibration run answered nothing")
            rate, source = throughput / 2, f"half the {throughput:.2f} msg/s of a {args.shoppers} x " \
                                           f"{args.calibration_messages} calibration run"
        logger.info("%s: soaking %d minutes at %.2f msg/s (%s)", target.name, args.soak, rate, source)
        sampler = MemorySampler(group, extra=extra)
        minutes, outcomes = asyncio.run(run_soak(
            target.endpoints, target.mix, args.shoppers, rate, args.soak, api, sampler.read, args.timeout,
            f"{prefix}-shopper", progress=lambda line: print(line, flush=True)))
    totals = {name: {"requests": len(group_), "errors": sum(not o.ok for o in group_)}
              for name, group_ in by_channel(outcomes).items()}
    api_text = (f"{api.clients} shop API clients at {api.rate:g} requests/s in all (events and recommendations in turn)"
                if api else "no shop API traffic")
    return SoakReport(
        started=f"{report.started:%Y-%m-%d %H:%M} UTC", machine=asdict(report.machine), commit=report.commit,
        command=report.command, target=target.name,
        settings={"shoppers": args.shoppers, "rate": rate, "rate_source": source, "minutes": args.soak, "api": api_text,
                  "timeout_s": args.timeout},
        load_average={"before": report.load_average["before"], "after": os.getloadavg()},
        minutes=minutes, rule=FlatRule.for_minutes(args.soak), totals=totals)


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
    parser.add_argument("--api-clients", type=int, default=2,
                        help="shop API clients beside the chat, Daogou only (0: none; default %(default)s)")
    parser.add_argument("--api-rate", type=float, default=4,
                        help="shop API requests a second, all clients together (default %(default)s)")
    parser.add_argument("--soak", type=int, metavar="MINUTES",
                        help="soak mode: Daogou's concurrent traffic at a steady rate for MINUTES, sampled each minute "
                             "(--targets daogou unless given; --profile production: daogou-production)")
    parser.add_argument("--rate", type=float,
                        help="the soak's chat messages a second (default: half the throughput of a calibration run)")
    parser.add_argument("--calibration-messages", type=int, default=4,
                        help="messages per shopper in the soak's calibration run (default %(default)s)")
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
    if args.soak is not None:
        if args.soak < 1 or (args.rate is not None and args.rate <= 0) or args.calibration_messages < 1:
            parser.error("--soak needs at least 1 minute, --rate and --calibration-messages must be positive")
        if "--targets" not in (argv if argv is not None else sys.argv[1:]):
            args.targets = ["daogou-production" if args.profile == "production" else "daogou"]
        if "rasa-init" in args.targets:
            parser.error("the soak measures Daogou's profiles only")
    elif args.profile == "production" and "daogou-production" not in args.targets:
        args.targets.append("daogou-production")
    if args.api_clients < 0 or args.api_rate <= 0:
        parser.error("--api-clients must be 0 or more and --api-rate positive")
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
                  "max_seconds": args.max_seconds, "targets": args.targets,
                  "channels": "over REST, and socket.io for one Daogou shopper in five",
                  "api": (f"{args.api_clients} shop API clients at {args.api_rate:g} requests/s in all beside Daogou's "
                          "chat (an event posted, then recommendations fetched, in turn)") if args.api_clients
                         else "no shop API traffic"},
        load_average={"before": os.getloadavg()}, niceness=os.nice(0),
    )
    with tempfile.TemporaryDirectory(prefix="daogou-load-") as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()  # nginx reads its config relative to its own prefix
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            targets = [build_target(name, args, workdir) for name in args.targets]  # fail before starting anything
            if args.soak is not None:
                return _soak_all(targets, args, workdir, report)
            for target in targets:
                report.targets.append(measure(target, args, workdir))
        except (TargetError, ServerError, ServiceError, OSError) as exc:
            print(f"load benchmark: {exc}", file=sys.stderr)
            return 1
    report.load_average["after"] = os.getloadavg()
    print(report.markdown())
    if not args.no_save:
        for path in report.write(args.out_dir):
            print(f"wrote {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")
    return 0


def _soak_all(targets: List[Target], args: argparse.Namespace, workdir: Path, report: LoadReport) -> int:
    for target in targets:
        result = soak(target, args, workdir, report)
        print(result.markdown())
        if not args.no_save:
            stem = f"soak-{report.started:%Y-%m-%dT%H%M}Z-{report.machine.slug}-{report.commit}-{target.name}"
            for path in result.write(args.out_dir, stem):
                print(f"wrote {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
