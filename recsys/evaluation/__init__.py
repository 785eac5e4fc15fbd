"""Offline evaluation on public datasets: loaders, split protocols, tie-aware metrics, a batched evaluator.

Entry point for people: ``python -m recsys.evaluate`` (see ``benchmarks/README.md``).
"""
from recsys.evaluation.datasets import DatasetError, load_amazon_games, load_movielens_100k
from recsys.evaluation.evaluator import EvaluationResult, evaluate
from recsys.evaluation.protocols import EvaluationSplit, leave_last_two_out, temporal_split

__all__ = [
    "DatasetError",
    "EvaluationResult",
    "EvaluationSplit",
    "evaluate",
    "leave_last_two_out",
    "load_amazon_games",
    "load_movielens_100k",
    "temporal_split",
]
