"""What keeping the catalog, the market and the models live costs a serving process (issue 18).

Two :class:`recsys.Recommender` instances on one SQLite file stand for two serving
processes, over the real catalog and a copy of the trained models (nothing is
written into ``models/``). Measured, in-process, one thread:

- the three checks every request now makes (catalog change log, market rows, published set);
- ``recommend`` for known shoppers, quiet and while the other process records an event before each query;
- a product added through one process until the other returns it from ``similar`` (its first request
  pays for the catalog rebuild and the content projection).

Run: ``.venv/bin/python benchmarks/live_updates.py``; writes ``benchmarks/results/live_updates.md``.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, List

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.serving_latency import machine  # noqa: E402
from recsys import RecommendationQuery, Recommender, Settings  # noqa: E402
from recsys.artifacts import artifact_stamp  # noqa: E402


def timed(call: Callable[[], object], repeat: int) -> np.ndarray:
    """Milliseconds per call."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return np.array(times) * 1e3


def row(name: str, ms: np.ndarray) -> str:
    return f"| {name} | {len(ms)} | {np.percentile(ms, 50):.3f} | {np.percentile(ms, 99):.3f} | {ms.max():.3f} |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--products", type=int, default=20, help="products added one after another")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "live_updates.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    base = Settings.from_env()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        shutil.copytree(base.model_dir, tmp / "models")
        settings = replace(base, model_dir=tmp / "models", database_url=f"sqlite:///{tmp / 'live.db'}")
        writer = Recommender.from_settings(settings, train_if_missing=False)
        reader = Recommender.from_settings(settings, train_if_missing=False, seed=False)
        shoppers = list(reader.shoppers.known_shoppers())
        products = [p.id for p in reader.catalog.products]
        queries = [RecommendationQuery(user_id=shoppers[i], k=10) for i in rng.integers(len(shoppers), size=args.queries)]
        for query in queries:
            reader.recommend(query)  # every shopper built once: the rows below time serving, not first reads
        lines = ["| what | n | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
        lines.append(row("catalog change-log check (`LiveCatalog.sync`)", timed(reader.live_catalog.sync, args.queries)))
        lines.append(row("market rows since the last request (`MarketCounters.refresh`)", timed(reader.market.refresh, args.queries)))
        lines.append(row("published-set check (`artifact_stamp`)", timed(lambda: artifact_stamp(settings.model_dir), args.queries)))
        it = iter(queries)
        lines.append(row("`recommend`, k=10, known shoppers, quiet", timed(lambda: reader.recommend(next(it)), args.queries)))
        it = iter(queries)

        def with_event() -> None:
            query = next(it)
            writer.record_event(f"stream-{rng.integers(1000)}", products[int(rng.integers(len(products)))], "purchase")
            started = time.perf_counter()
            reader.recommend(query)
            with_event.times.append(time.perf_counter() - started)

        with_event.times = []
        timed(with_event, args.queries)
        lines.append(row("`recommend` while the other process records an event before each query",
                         np.array(with_event.times) * 1e3))
        anchor = reader.catalog.get(products[0])
        visible: List[float] = []
        for i in range(args.products):
            record = {**anchor.to_record(), "id": f"{anchor.id}-live-{i}", "fits": []}
            started = time.perf_counter()
            writer.upsert_product(record)
            found = record["id"] in {r.product.id for r in reader.similar(anchor.id, k=50)}
            visible.append(time.perf_counter() - started)
            assert found, f"{record['id']} not similar to {anchor.id}"
        lines.append(row("a product upserted in one process until `similar` returns it in the other", np.array(visible) * 1e3))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"# Live catalog, market and model checks\n\n{machine()}; {stamp}; "
            f"`.venv/bin/python benchmarks/live_updates.py` (SQLite WAL, one thread, the real catalog of "
            f"{len(products)} products and the trained models; other jobs shared the machine).\n\n" + "\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
