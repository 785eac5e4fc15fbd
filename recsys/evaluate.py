"""Benchmark recommenders on public datasets: ``python -m recsys.evaluate --help``.

Fits each requested model on the dataset's training split, scores it with the
tie-aware evaluator and merges the results into ``<out>/<dataset>.csv``, then
regenerates ``<dataset>.md`` and ``<dataset>.png`` from the CSV. A model may be
given with parameters, ``item_knn:neighbours=0:similarity=bm25``; the label in
the table is exactly what was typed.
"""
from __future__ import annotations

import argparse
import inspect
import json
import logging
import random
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

import numpy as np

from recsys.catalog import Catalog
from recsys.ensemble import EnsembleModel
from recsys.evaluation import datasets, report
from recsys.evaluation.evaluator import EvaluationResult, evaluate
from recsys.evaluation.protocols import EvaluationSplit, leave_last_two_out, temporal_split
from recsys.models import MODEL_CLASSES
from recsys.models.base import RecommenderModel
from recsys.settings import PROJECT_ROOT, Settings

logger = logging.getLogger("recsys.evaluate")

DEFAULT_MODELS = "popularity,item_knn,item_knn:neighbours=0,user_knn,als,bpr,svd,nmf"

#: What ``--models`` may name: every registered model, plus the hybrid ensemble of them
#: (``hybrid:members=gru+item_knn+popularity``; its fit time includes learning the weights).
EVALUATED_MODELS: Dict[str, type] = {**MODEL_CLASSES, EnsembleModel.name: EnsembleModel}


@dataclass(frozen=True)
class ModelSpec:
    """A model name plus constructor overrides, parsed from ``name:key=value:...``."""

    label: str
    name: str
    params: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "ModelSpec":
        name, *assignments = text.strip().split(":")
        if name not in EVALUATED_MODELS:
            raise SystemExit(f"unknown model {name!r}; known: {', '.join(sorted(EVALUATED_MODELS))}")
        params: Dict[str, Any] = {}
        for assignment in assignments:
            key, _, value = assignment.partition("=")
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                params[key] = value
        return cls(label=text.strip(), name=name, params=params)

    def build(self, seed: int) -> RecommenderModel:
        cls = EVALUATED_MODELS[self.name]
        params = dict(self.params)
        if "random_state" in inspect.signature(cls).parameters and "random_state" not in params:
            params["random_state"] = seed
        return cls(**params)


def amazon_splits(seed: int, stage: str, fit_on_validation: bool) -> List[EvaluationSplit]:
    return [leave_last_two_out(datasets.load_amazon_games(), stage=stage, seed=seed, fit_on_validation=fit_on_validation)]


def movielens_splits(seed: int, stage: str, fit_on_validation: bool) -> List[EvaluationSplit]:
    return [temporal_split(datasets.load_movielens_100k())]


def daogou_splits(seed: int, stage: str, fit_on_validation: bool) -> List[EvaluationSplit]:
    """Daogou's own event log (``DAOGOU_EVENTS``, the synthetic demo log by default) under the same
    leave-last-two-out protocol as Amazon Games: each shopper's last product is the target."""
    settings = Settings.from_env()
    item_ids = Catalog.load(settings.catalog_path, settings.aliases_path).ids
    data = datasets.load_event_log_sequences(settings.events_path, list(item_ids))
    return [leave_last_two_out(data, stage=stage, seed=seed, fit_on_validation=fit_on_validation)]


SPLITS: Dict[str, Callable[[int, str, bool], List[EvaluationSplit]]] = {
    "amazon-games": amazon_splits,
    "movielens-100k": movielens_splits,
    "daogou-demo": daogou_splits,
}


def fold_in_everyone(split: EvaluationSplit) -> EvaluationSplit:
    """The split with every shopper marked new, so models with learned user vectors must fold
    the history in -- the situation of a shopper whose latest clicks came after training."""
    return replace(
        split,
        users=np.full_like(split.users, -1),
        name=f"{split.name}/fold-in",
        description=split.description + " Every shopper folded in from the history row (no learned user vectors).",
    )


def run_model(spec: ModelSpec, split: EvaluationSplit, seed: int, batch_size: int) -> EvaluationResult:
    random.seed(seed)
    np.random.seed(seed)
    model = spec.build(seed)
    started = time.perf_counter()
    model.fit(split.train)
    fitted = time.perf_counter()
    metrics = evaluate(model, split, batch_size=batch_size, description=spec.label)
    scored = time.perf_counter()
    return EvaluationResult(
        model=spec.label,
        split=split.name,
        metrics=metrics,
        n_evaluated=split.n_evaluated,
        fit_seconds=fitted - started,
        score_seconds=scored - fitted,
        params={**model.params(), **(model.fit_details() if hasattr(model, "fit_details") else {})},
        protocol=split.description,
    )


def notes_for(dataset: str) -> List[str]:
    spec = datasets.DATASET_FILES.get(dataset)
    if spec is not None:
        lines = [f"Data: `{spec.relative_path}` (md5 `{spec.md5}`); {spec.citation}.", ""]
    else:
        lines = [f"Data: Daogou's event log `{Settings.from_env().events_path.relative_to(PROJECT_ROOT)}` (synthetic: "
                 "written by `recsys/simulate.py`, see `data/events/REPORT.md`), over the committed catalog.", ""]
    lines += [
        "- Ranks are tie-aware: an item tied with the held-out one counts as half a place above it.",
        "- `fit s` is wall-clock fit time, `score s` the time to score and rank every evaluated user.",
        "- See `benchmarks/README.md` for what each column means.",
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recsys.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=sorted(SPLITS))
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated specs (default {DEFAULT_MODELS}); 'all' = every registered model")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage", choices=("test", "validation"), default="test", help="amazon-games only: which held-out item to rank")
    parser.add_argument("--fit-on", choices=("train+validation", "train"), default="train+validation", help="amazon-games test stage: what models are fitted on")
    parser.add_argument("--fold-in", action="store_true", help="hide user indices: every model scores from the history row alone")
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    text = ",".join(sorted(MODEL_CLASSES)) if args.models == "all" else args.models
    specs = [ModelSpec.parse(part) for part in text.split(",") if part.strip()]
    try:
        splits = SPLITS[args.dataset](args.seed, args.stage, args.fit_on == "train+validation")
    except datasets.DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.fold_in:
        splits = [fold_in_everyone(split) for split in splits]
    results: List[EvaluationResult] = []
    for split in splits:
        for spec in specs:
            result = run_model(spec, split, args.seed, args.batch_size)
            logger.info("%s %s fit %.1fs score %.1fs %s", split.name, spec.label, result.fit_seconds, result.score_seconds,
                        {k: round(v, 4) for k, v in result.metrics.items()})
            results.append(result)
            # Merge after every model so a crash or a kill keeps what was finished.
            frame = report.merge_csv(args.out / f"{args.dataset}.csv", report.results_frame([result]))
    report.write_markdown(args.out / f"{args.dataset}.md", args.dataset, frame, notes_for(args.dataset))
    report.write_plot(args.out / f"{args.dataset}.png", args.dataset, frame)
    print((args.out / f"{args.dataset}.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
