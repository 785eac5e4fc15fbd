"""Command line: ``python -m recsys <command>``; ``--help`` lists the commands."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import List, Optional

from recsys.artifacts import ArtifactMetadata, current_directory
from recsys.catalog import Catalog, CatalogError
from recsys.events import EventLogError, load_events
from recsys.export import SnapshotError
from recsys.facade import Recommender
from recsys.queries import QueryError, Recommendation, RecommendationQuery
from recsys.models import ArtifactError
from recsys.retraining import SUCCEEDED, run_retrain
from recsys.settings import Settings
from recsys.simulate import SimulationParams, write_simulation
from recsys.store import Store, StoreError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recsys", description="Daogou recommender")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("import-catalog", help="validate the catalog files and make the database hold exactly them")
    events = sub.add_parser("import-events", help="append a real event log (CSV or Parquet) to the database")
    events.add_argument("path", type=Path)
    simulate = sub.add_parser("simulate", help="write the synthetic demo event log, its report and plot")
    simulate.add_argument("--out", type=Path, help="log path (default: DAOGOU_EVENTS)")
    simulate.add_argument("--shoppers", type=int, default=SimulationParams.n_shoppers)
    simulate.add_argument("--seed", type=int, default=SimulationParams.seed)
    train = sub.add_parser("train", help="fit and save the models on the database's events")
    train.add_argument("--if-missing", action="store_true", help="only when no usable models exist")
    train.add_argument("--engine", choices=("local", "spark"), default="local",
                       help="local: every member in this process (default); spark: ALS, item co-occurrence and "
                            "popularity on Spark (needs the [spark] extra and Java 17)")
    train.add_argument("--master", default="local[2]", help="Spark master: local[2], spark://host:7077, yarn")
    train.add_argument("--snapshot", type=Path, help="an exported event snapshot to train on (default: export one now)")
    export = sub.add_parser("export-events", help="write the database's events as a dated, partitioned Parquet snapshot")
    export.add_argument("--out", type=Path, help="folder for snapshots (default: beside the model folder, snapshots/)")
    export.add_argument("--chunk", type=int, default=200_000, help="rows read from SQL at a time")
    rec = sub.add_parser("recommend", help="print recommendations as JSON lines")
    rec.add_argument("--user")
    rec.add_argument("--category")
    rec.add_argument("--brand")
    rec.add_argument("--min-price", type=float)
    rec.add_argument("--max-price", type=float)
    rec.add_argument("-k", type=int, default=5)
    similar = sub.add_parser("similar", help="print products like one product as JSON lines")
    similar.add_argument("product_id")
    similar.add_argument("--any-category", action="store_true", help="not only the product's own category")
    similar.add_argument("-k", type=int, default=5)
    retrain = sub.add_parser("retrain", help="train a new model set on a snapshot of the events and publish it "
                                             "(serving processes swap it in on their next request)")
    retrain.add_argument("--claimed", action="store_true", help=argparse.SUPPRESS)  # started by start_retrain
    sub.add_parser("status", help="show the trained models' metadata")
    return parser


def _print_recommendations(recommendations: List[Recommendation]) -> None:
    for rec in recommendations:
        print(json.dumps({"id": rec.product.id, "name": rec.product.name["en"], "price": rec.product.price,
                          "score": round(rec.score, 4), "reason": rec.reason.code, **rec.reason.params},
                         ensure_ascii=False))


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    try:
        if args.command == "import-catalog":
            catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
            report = Store(settings.database_url).import_catalog(catalog, show_progress=True)
            print(json.dumps(asdict(report)))
        elif args.command == "import-events":
            count = Store(settings.database_url).append_events(load_events(args.path), show_progress=True)
            print(f"imported {count} events from {args.path}")
        elif args.command == "simulate":
            catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
            out = args.out or settings.events_path
            events = write_simulation(catalog, SimulationParams(n_shoppers=args.shoppers, seed=args.seed), out)
            print(f"wrote {len(events)} events to {out}, with REPORT.md and purchase_prices.png beside it")
        elif args.command == "export-events":
            from recsys.export import export_events

            catalog = Catalog.load(settings.catalog_path, settings.aliases_path)
            snapshot = export_events(Store(settings.database_url), catalog.ids,
                                     args.out or settings.model_dir.parent / "snapshots", chunk=args.chunk,
                                     show_progress=True)
            print(f"exported {snapshot.manifest.n_events} events of {snapshot.manifest.n_users} shoppers to {snapshot.path}")
        elif args.command == "train" and args.engine == "spark":
            from recsys.spark.pipeline import SparkTraining, train_on_spark

            train_on_spark(settings, SparkTraining(master=args.master, snapshot=args.snapshot))
        elif args.command == "train":
            if args.if_missing:
                Recommender.from_settings(settings, train_if_missing=True)
            else:
                Recommender.train(settings)
        elif args.command == "retrain":
            status = run_retrain(settings, claimed=args.claimed)
            print(json.dumps(asdict(status)))
            return 0 if status.state == SUCCEEDED else 1
        elif args.command == "status":
            print(json.dumps(asdict(ArtifactMetadata.read(current_directory(settings.model_dir))), indent=2))
        elif args.command == "recommend":
            recommender = Recommender.from_settings(settings, train_if_missing=False)
            query = RecommendationQuery(
                user_id=args.user, category=args.category, brand=args.brand,
                min_price=args.min_price, max_price=args.max_price, k=args.k,
            )
            _print_recommendations(recommender.recommend(query))
        elif args.command == "similar":
            recommender = Recommender.from_settings(settings, train_if_missing=False)
            _print_recommendations(recommender.similar(args.product_id, k=args.k, same_category=not args.any_category))
    # RuntimeError: a retrain already running, and Spark or Java missing (SparkUnavailable says what to install).
    except (ArtifactError, CatalogError, EventLogError, QueryError, StoreError, SnapshotError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
