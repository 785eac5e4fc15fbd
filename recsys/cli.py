"""Command line: ``python -m recsys train | recommend | status``."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

from recsys.artifacts import ArtifactMetadata
from recsys.facade import QueryError, RecommendationQuery, Recommender
from recsys.models import ArtifactError
from recsys.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recsys", description="Daogou recommender")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="fit and save the models (simulates a demo event log if none exists)")
    train.add_argument("--if-missing", action="store_true", help="do nothing when up-to-date models exist")
    rec = sub.add_parser("recommend", help="print recommendations as JSON lines")
    rec.add_argument("--user")
    rec.add_argument("--category")
    rec.add_argument("--brand")
    rec.add_argument("--min-price", type=float)
    rec.add_argument("--max-price", type=float)
    rec.add_argument("-k", type=int, default=5)
    sub.add_parser("status", help="show the trained models' metadata")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    try:
        if args.command == "train":
            if args.if_missing:
                Recommender.from_settings(settings, train_if_missing=True)
            else:
                Recommender.train(settings)
        elif args.command == "status":
            print(json.dumps(ArtifactMetadata.read(settings.model_dir).__dict__, indent=2))
        elif args.command == "recommend":
            recommender = Recommender.from_settings(settings, train_if_missing=False)
            query = RecommendationQuery(
                user_id=args.user, category=args.category, brand=args.brand,
                min_price=args.min_price, max_price=args.max_price, k=args.k,
            )
            for rec in recommender.recommend(query):
                print(json.dumps({"id": rec.product.id, "name": rec.product.name["en"], "price": rec.product.price,
                                  "score": round(rec.score, 4), "reason": rec.reason.code, **rec.reason.params},
                                 ensure_ascii=False))
    except (ArtifactError, QueryError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
