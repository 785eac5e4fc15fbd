"""Training at shop scale (issue 22): Spark ``local[2]`` against ``implicit`` in one process.

Three parts, each writing ``benchmarks/results/scale-*``:

- ``quality``: Amazon Games, the SASRec protocol of ``benchmarks/README.md`` (test stage, fitted on all
  but each user's last item): MLlib's implicit ALS vs ``implicit``'s ALS (its default conjugate-gradient
  solver and its exact solve), same rank, regularisation, iterations and pair confidences
  (``recsys.spark.members.fit_als`` translates ``alpha``); full and sampled NDCG@10.
- ``curve``: a scaled replay of the demo log (its shoppers copied under new ids until the log has N
  events) at each ``--events`` size: time and peak memory (RSS of the whole process tree, the JVM
  included, sampled every 0.2 s) to fit the collaborative members (ALS, BM25 item co-occurrence,
  popularity) with each engine, each in a fresh child process.
- ``serving``: the serving benchmark (``serving_latency.py``, reused, not copied) answered by
  artefacts Spark wrote.

Run under ``nice`` in the background; progress goes to the log and rows to the CSV as they finish::

    nice -n 10 .venv/bin/python benchmarks/scale.py quality
    nice -n 10 .venv/bin/python benchmarks/scale.py curve --events 1000000 5000000 20000000
    nice -n 10 .venv/bin/python benchmarks/scale.py serving
    .venv/bin/python benchmarks/scale.py report    # table + plot from the CSVs
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from recsys import Catalog  # noqa: E402
from recsys.events import load_events  # noqa: E402
from recsys.export import EventSnapshot, SnapshotWriter  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
ALS_PARAMS = dict(factors=64, regularization=0.05, iterations=15, alpha=2.0)  # ALSModel's defaults
logger = logging.getLogger("scale")


def machine() -> str:
    from benchmarks.serving_latency import machine as describe

    return describe()


# -- quality -------------------------------------------------------------------------------------
def quality(args) -> None:
    from recsys.evaluation.datasets import load_amazon_games
    from recsys.evaluation.evaluator import evaluate
    from recsys.evaluation.protocols import leave_last_two_out
    from recsys.models import ALSModel
    from recsys.spark import spark_session
    from recsys.spark.members import fit_members

    split = leave_last_two_out(load_amazon_games(), stage="test")
    coo = split.train.matrix.tocoo()
    # MLlib regularises each row by lambda x its rating count (ALS-WR) and has no switch for it; implicit
    # with lambda x the mean count per shopper shows what that stronger regularisation is worth alone.
    per_user = split.train.matrix.getnnz(axis=1)
    wr_lambda = round(ALS_PARAMS["regularization"] * float(per_user[per_user > 0].mean()), 3)
    local_runs = {  # implicit's default conjugate-gradient solver (the default engine's) and its exact solve (MLlib's)
        "implicit": dict(ALS_PARAMS),
        "implicit exact solve": dict(ALS_PARAMS, use_cg=False),
        f"implicit, lambda {wr_lambda} (0.05 x mean ratings per shopper)": dict(ALS_PARAMS, regularization=wr_lambda),
    }
    rows = []
    for engine, params in local_runs.items():
        if args.engines and not any(engine.startswith(e) for e in args.engines):
            continue
        started = time.perf_counter()
        local = ALSModel(**params).fit(split.train)
        rows.append({"engine": engine, "fit_seconds": time.perf_counter() - started, **evaluate(local, split, progress=False)})
        logger.info("%s: %s", engine, rows[-1])
    if not args.engines or "spark" in args.engines:
        with tempfile.TemporaryDirectory() as scratch:
            # Each (user, item) weight becomes that many views, so Spark aggregates to the same matrix.
            repeats = np.rint(coo.data).astype(np.int64)
            frame = pd.DataFrame({"row": np.arange(repeats.sum()), "user": np.repeat(coo.row, repeats).astype(np.int32),
                                  "item": np.repeat(coo.col, repeats).astype(np.int32), "event_type": "view",
                                  "value": np.nan, "timestamp": pd.Timestamp("2026-01-01", tz="UTC")})
            writer = SnapshotWriter(Path(scratch) / "events")
            writer.write(frame)
            snapshot = writer.close([str(u) for u in range(coo.shape[0])], [str(i) for i in range(coo.shape[1])])
            spark = spark_session(args.master, driver_memory="2g")
            started = time.perf_counter()
            remote = fit_members(spark, snapshot, {"als": ALSModel(**ALS_PARAMS)})["als"]
            seconds = time.perf_counter() - started
            spark.stop()
        rows.append({"engine": f"spark {args.master}", "fit_seconds": seconds, **evaluate(remote, split, progress=False)})
        logger.info("spark: %s", rows[-1])
    frame = pd.DataFrame(rows)
    frame["date"] = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    path = RESULTS / "scale-quality.csv"
    if path.exists():  # rows of engines not run this time are kept, with their dates
        old = pd.read_csv(path)
        frame = pd.concat([old[~old["engine"].isin(frame["engine"])], frame], ignore_index=True)
    frame.to_csv(path, index=False)


# -- scale curve ---------------------------------------------------------------------------------
def replay(n_events: int, catalog: Catalog, out: Path) -> EventSnapshot:
    """The demo log's shoppers copied (``~r<k>`` ids) until the log holds ``n_events`` events."""
    demo = load_events(PROJECT_ROOT / "data" / "events" / "demo_events.csv.gz")
    position = catalog.index
    demo = demo[demo["item_id"].isin(position)].reset_index(drop=True)
    base_users, user_codes = np.unique(demo["user_id"].to_numpy(dtype=object), return_inverse=True)
    items = demo["item_id"].map(position).to_numpy(np.int32)
    writer = SnapshotWriter(out)
    copies = int(np.ceil(n_events / len(demo)))
    per_chunk = max(1, 1_000_000 // len(demo))  # about a million rows a write: few, large Parquet files
    written = 0
    for first in range(0, copies, per_chunk):
        parts = []
        for copy in range(first, min(first + per_chunk, copies)):
            take = min(len(demo), n_events - written)
            parts.append(pd.DataFrame({
                "row": np.arange(written, written + take), "timestamp": demo["timestamp"].iloc[:take].to_numpy(),
                "user": (user_codes[:take] + copy * len(base_users)).astype(np.int32), "item": items[:take],
                "event_type": demo["event_type"].iloc[:take].to_numpy(),
                "value": demo["value"].iloc[:take].to_numpy(np.float64)}))
            written += take
        writer.write(pd.concat(parts, ignore_index=True).assign(timestamp=lambda f: pd.to_datetime(f["timestamp"], utc=True)))
    users = [f"{u}~r{k}" for k in range(copies) for u in base_users]
    return writer.close(users, catalog.ids)


def fit_child(engine: str, snapshot_path: str, master: str) -> Dict[str, float]:
    """Runs in the measured child: fit the three collaborative members with one engine."""
    from recsys.ensemble import build_member

    snapshot = EventSnapshot.open(Path(snapshot_path))
    names = ("als", "item_knn", "popularity")
    started = time.perf_counter()
    if engine == "implicit":
        from recsys.events import Interactions

        table = pd.read_parquet(snapshot.path)
        frame = pd.DataFrame({"timestamp": table["timestamp"], "event_type": table["event_type"].astype(str),
                              "value": table["value"],
                              "user_id": np.asarray(snapshot.user_ids, dtype=object)[table["user"].to_numpy()],
                              "item_id": np.asarray(snapshot.item_ids, dtype=object)[table["item"].to_numpy()]})
        del table
        interactions = Interactions.from_events(frame, snapshot.item_ids)  # today's path, from string ids
        del frame
        for name in names:
            build_member(name, 0).fit(interactions)
    else:
        from recsys.spark import spark_session
        from recsys.spark.members import fit_members

        spark = spark_session(master, driver_memory=os.environ.get("SCALE_DRIVER_MEMORY", "4g"))
        fit_members(spark, snapshot, {name: build_member(name, 0) for name in names})
        spark.stop()
    return {"fit_seconds": time.perf_counter() - started}


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, from /proc."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            total += int((Path("/proc") / str(current) / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(current, []))
    return total


def measure(engine: str, snapshot: EventSnapshot, master: str, limit_s: int) -> Dict[str, object]:
    command = [sys.executable, __file__, "child", engine, str(snapshot.path), "--master", master]
    started, peak = time.perf_counter(), 0
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        if time.perf_counter() - started > limit_s:
            process.kill()
            return {"status": f"stopped after {limit_s} s", "wall_seconds": limit_s, "peak_rss_gib": peak / 2**30}
        time.sleep(0.2)
    output = process.stdout.read().strip().splitlines()
    if process.returncode != 0 or not output:
        return {"status": f"failed (exit {process.returncode})", "wall_seconds": time.perf_counter() - started,
                "peak_rss_gib": peak / 2**30}
    return {"status": "ok", **json.loads(output[-1]), "wall_seconds": time.perf_counter() - started,
            "peak_rss_gib": peak / 2**30}


def curve(args) -> None:
    catalog = Catalog.load(PROJECT_ROOT / "data/catalog/products.jsonl", PROJECT_ROOT / "data/catalog/aliases.yml")
    path = RESULTS / "scale-curve.csv"
    for n_events in args.events:
        with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
            snapshot = replay(n_events, catalog, Path(scratch) / "events")
            logger.info("replay of %d events, %d shoppers written", snapshot.manifest.n_events, snapshot.manifest.n_users)
            for engine in args.engines:
                result = measure(engine, snapshot, args.master, args.limit)
                row = {"events": snapshot.manifest.n_events, "shoppers": snapshot.manifest.n_users,
                       "engine": engine if engine == "implicit" else f"spark {args.master}", **result,
                       "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"}
                logger.info("%s", row)
                old = pd.read_csv(path) if path.exists() else pd.DataFrame()
                pd.concat([old, pd.DataFrame([row])], ignore_index=True).to_csv(path, index=False)


# -- serving ---------------------------------------------------------------------------------------
def serving(args) -> None:
    from benchmarks import serving_latency
    from recsys import Settings
    from recsys.simulate import SimulationParams, write_simulation
    from recsys.spark.pipeline import SparkTraining, train_on_spark
    from recsys.store import open_store

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    real = Catalog.load(PROJECT_ROOT / "data/catalog/products.jsonl", PROJECT_ROOT / "data/catalog/aliases.yml")
    serving_latency.grow_catalog(real, args.items, 0, work)
    settings = Settings(  # exactly the settings serving_latency.py builds for --workdir, so it loads these models
        catalog_path=work / "products.jsonl", aliases_path=PROJECT_ROOT / "data/catalog/aliases.yml",
        events_path=work / "events.csv.gz", model_dir=work / "models", database_url=f"sqlite:///{work / 'bench.db'}",
        seed=0, validation_shoppers=500)
    catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
    if not settings.events_path.exists():
        write_simulation(catalog, SimulationParams(n_shoppers=args.shoppers, seed=0), settings.events_path)
    open_store(settings, catalog, seed_log=settings.events_path)
    train_on_spark(settings, SparkTraining(master=args.master, snapshot_root=work / "snapshots"))
    serving_latency.main(["--items", str(args.items), "--shoppers", str(args.shoppers), "--workdir", str(work),
                          "--out", str(RESULTS / "scale-serving.md")])


# -- report ----------------------------------------------------------------------------------------
def report(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["# Training at shop scale: Spark local[2] vs implicit in one process", "",
             f"- Machine: {machine()}, shared with other work (load varies; figures are one run each)", ""]
    quality_path = RESULTS / "scale-quality.csv"
    if quality_path.exists():
        q = pd.read_csv(quality_path)
        lines += ["## Quality: Amazon Games, SASRec protocol (test), ALS " + ", ".join(f"{k}={v}" for k, v in ALS_PARAMS.items()),
                  "", "| engine | full NDCG@10 | full Hit@10 | sampled NDCG@10 | fit s | date |", "|---|---|---|---|---|---|"]
        for r in q.itertuples():
            row = q.iloc[r.Index]
            lines.append(f"| {r.engine} | {row['full_ndcg@10']:.4f} | {row['full_hit@10']:.4f} | "
                         f"{row['sampled_ndcg@10']:.4f} | {r.fit_seconds:.1f} | {r.date} |")
        lines.append("")
    curve_path = RESULTS / "scale-curve.csv"
    if curve_path.exists():
        c = pd.read_csv(curve_path)
        lines += ["## Scale curve: ALS + BM25 item co-occurrence + popularity on a scaled replay of the demo log", "",
                  "| events | shoppers | engine | status | fit s | wall s (incl. start-up) | peak RSS GiB (tree) | date | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        c = c.assign(note=c["note"].fillna("") if "note" in c else "")
        for r in c.itertuples():
            lines.append(f"| {r.events:,} | {r.shoppers:,} | {r.engine} | {r.status} | {r.fit_seconds:.1f} | "
                         f"{r.wall_seconds:.1f} | {r.peak_rss_gib:.2f} | {r.date} | {r.note} |")
        figure, axes = plt.subplots(1, 2, figsize=(10, 4))
        # The machine is shared: per engine and size the quickest finished run (the least disturbed) is the
        # curve; a run stopped at its limit is drawn as a lower bound (an upward triangle at the limit).
        for engine, rows in c.groupby("engine"):
            done = rows[rows["status"] == "ok"].sort_values("wall_seconds").groupby("events").head(1).sort_values("events")
            line, = axes[0].plot(done["events"] / 1e6, done["wall_seconds"], marker="o", label=engine)
            axes[1].plot(done["events"] / 1e6, done["peak_rss_gib"], marker="o", label=engine, color=line.get_color())
            stopped = rows[(rows["status"] != "ok") & ~rows["events"].isin(done["events"])]
            if len(stopped):
                axes[0].scatter(stopped["events"] / 1e6, stopped["wall_seconds"], marker="^", color=line.get_color(),
                                label=f"{engine}: stopped (at least)")
        axes[0].set_yscale("log")
        axes[0].set(xlabel="events (millions)", ylabel="seconds", title="training time")
        axes[1].set(xlabel="events (millions)", ylabel="GiB", title="peak memory (process tree)")
        for axis in axes:
            axis.legend()
        figure.tight_layout()
        figure.savefig(RESULTS / "scale-curve.png", dpi=110)
        lines += ["", "![scale curve](scale-curve.png)", ""]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("quality", "curve", "serving", "child"):
        command = sub.add_parser(name)
        command.add_argument("--master", default="local[2]")
    sub.choices["curve"].add_argument("--events", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000])
    sub.choices["curve"].add_argument("--engines", nargs="+", default=["implicit", "spark"])
    sub.choices["quality"].add_argument("--engines", nargs="+", default=None,
                                        help="only these rows (by name prefix: implicit, spark); the others stay in the CSV")
    sub.choices["curve"].add_argument("--limit", type=int, default=3600, help="seconds before a fit is stopped")
    sub.choices["curve"].add_argument("--scratch", type=Path, default=None)
    sub.choices["serving"].add_argument("--workdir", type=Path, default=PROJECT_ROOT / "var" / "scale-serving")
    sub.choices["serving"].add_argument("--items", type=int, default=25_000)
    sub.choices["serving"].add_argument("--shoppers", type=int, default=5_000)
    sub.choices["child"].add_argument("engine", choices=("implicit", "spark"))
    sub.choices["child"].add_argument("snapshot")
    sub.add_parser("report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "child":
        print(json.dumps(fit_child(args.engine, args.snapshot, args.master)))
        return 0
    {"quality": quality, "curve": curve, "serving": serving, "report": report}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
