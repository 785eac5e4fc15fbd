"""Train/test splits with exactly the held-out items, histories and negatives to score.

A protocol produces an :class:`EvaluationSplit`; :mod:`recsys.evaluation.evaluator`
scores any model on any split, so adding a protocol never touches the metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.evaluation.datasets import Sequences
from recsys.events import Interactions

N_SAMPLED_NEGATIVES = 100


@dataclass
class EvaluationSplit:
    """What a model is fitted on and what it is asked to find.

    Row ``i`` of ``histories``/``targets`` is one evaluated shopper: the items the
    model may see, and the held-out items it should rank high. ``users[i]`` is
    that shopper's row in ``train.matrix`` (``-1`` if the shopper is new), for
    models that keep learned user vectors. ``negatives`` (optional) are the
    sampled items each single target competes with in the sampled protocol.
    ``sequences[i]`` (optional) is row ``i``'s history in time order, for models
    that read order; ``train.sequences`` is then set too, so they can be fitted.
    """

    name: str
    train: Interactions
    histories: sp.csr_matrix
    targets: sp.csr_matrix
    users: np.ndarray
    cutoffs: Tuple[int, ...] = (10,)
    negatives: Optional[np.ndarray] = None
    description: str = ""
    sequences: Optional[List[np.ndarray]] = None

    @property
    def n_items(self) -> int:
        return self.train.matrix.shape[1]

    @property
    def n_evaluated(self) -> int:
        return self.histories.shape[0]


def _rows_to_csr(rows: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary matrix with one row per item list (repeated items count once)."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(rows) if len(rows) else np.empty(0, dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(indices.size, dtype=np.float32), indices, indptr), shape=(len(rows), n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _interactions(matrix: sp.csr_matrix, sequences: Optional[List[np.ndarray]] = None) -> Interactions:
    return Interactions(
        matrix=matrix,
        user_ids=[str(u) for u in range(matrix.shape[0])],
        item_ids=[str(i) for i in range(matrix.shape[1])],
        sequences=None if sequences is None else [np.asarray(s, dtype=np.int64) for s in sequences],
    )


def sample_negatives(rated: Sequence[np.ndarray], n_items: int, n: int = N_SAMPLED_NEGATIVES, seed: int = 0) -> np.ndarray:
    """``(len(rated), n)`` distinct items per user, uniform over items the user never touched.

    Rejection sampling with one seeded generator: reproducible, and fast because
    a user has touched a tiny share of the catalog.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((len(rated), n), dtype=np.int64)
    for row, seen in enumerate(rated):
        if n_items - len(np.unique(seen)) < n:
            raise ValueError(f"user row {row} has fewer than {n} unseen items to sample from")
        chosen = np.empty(0, dtype=np.int64)
        while chosen.size < n:
            draw = rng.integers(0, n_items, size=2 * n)
            draw = draw[~np.isin(draw, seen)]
            merged = np.concatenate([chosen, draw])
            _, first = np.unique(merged, return_index=True)
            chosen = merged[np.sort(first)]
        out[row] = chosen[:n]
    return out


def leave_last_two_out(data: Sequences, stage: str = "test", seed: int = 0, fit_on_validation: bool = True) -> EvaluationSplit:
    """The SASRec protocol (Kang & McAuley 2018) as the datasets README states it.

    Users with >= 3 interactions: last item = test target, second to last =
    validation target, the rest = training; shorter sequences are training only.
    ``stage="test"``: history = train + validation item, target = last item.
    ``stage="validation"``: history = train, target = validation item -- the
    split to tune hyper-parameters or blend weights on without touching the test
    items. Negatives: 100 items the user never touched (whole sequence),
    seeded; the validation stage uses another seed stream.

    What the model is *fitted* on at the test stage: with ``fit_on_validation``
    (default) every item but the last, i.e. the test history. That is how the
    datasets README's reference table was made (popularity and item-kNN match
    it to four decimals only this way) and it is fair to models that keep
    per-user vectors and would otherwise never see the validation item. With
    ``fit_on_validation=False`` the fit uses train only, as the SASRec paper
    trains its own model; the validation stage always fits on train only.
    """
    if stage not in ("test", "validation"):
        raise ValueError(f"stage must be 'test' or 'validation', not {stage!r}")
    train_rows: List[np.ndarray] = []
    histories: List[np.ndarray] = []
    targets: List[np.ndarray] = []
    users: List[int] = []
    rated: List[np.ndarray] = []
    for user, sequence in enumerate(data.sequences):
        if len(sequence) < 3:
            train_rows.append(sequence)
            continue
        train = sequence[:-2]
        train_rows.append(sequence[:-1] if stage == "test" and fit_on_validation else train)
        users.append(user)
        rated.append(sequence)
        if stage == "test":
            histories.append(sequence[:-1])
            targets.append(sequence[-1:])
        else:
            histories.append(train)
            targets.append(sequence[-2:-1])
    negatives = sample_negatives(rated, data.n_items, seed=seed if stage == "test" else seed + 1)
    return EvaluationSplit(
        name=f"leave-last-two-out/{stage}" + ("" if stage == "validation" or fit_on_validation else "/fit-on-train"),
        train=_interactions(_rows_to_csr(train_rows, data.n_items), train_rows),
        histories=_rows_to_csr(histories, data.n_items),
        sequences=[np.asarray(h, dtype=np.int64) for h in histories],
        targets=_rows_to_csr(targets, data.n_items),
        users=np.asarray(users, dtype=np.int64),
        cutoffs=(10,),
        negatives=negatives,
        description=(
            "SASRec protocol: fit on all but each user's last "
            + ("item; " if stage == "test" and fit_on_validation else "two items; ")
            + ("history = train + validation item, target = last item; " if stage == "test" else "history = train, target = validation item; ")
            + f"{N_SAMPLED_NEGATIVES} sampled unseen negatives (seed {seed}) and full ranking; ties count half a place above."
        ),
    )


def temporal_split(ratings: pd.DataFrame, quantile: float = 0.8, min_rating: int = 4, cutoffs: Tuple[int, ...] = (10, 20)) -> EvaluationSplit:
    """Global time cut: what happened before the ``quantile`` of timestamps trains, after it tests.

    Unlike a random or leave-one-out split this never lets a model learn from the
    future. Training interactions are all ratings, as binary implicit feedback
    (rating a film means watching it); held-out targets are the test-period
    items rated >= ``min_rating`` (liked) by users who have some training
    history. Users who first appear after the cut have no history and are not
    evaluated (that is a cold-start question, not a ranking one).
    """
    n_users = int(ratings["user"].max()) + 1
    n_items = int(ratings["item"].max()) + 1
    cut = ratings["timestamp"].quantile(quantile)
    before = ratings[ratings["timestamp"] <= cut]
    after = ratings[(ratings["timestamp"] > cut) & (ratings["rating"] >= min_rating)]
    train = sp.csr_matrix(
        (np.ones(len(before), dtype=np.float32), (before["user"].to_numpy(), before["item"].to_numpy())), shape=(n_users, n_items)
    )
    train.sum_duplicates()
    train.data[:] = 1.0
    held_out = sp.csr_matrix(
        (np.ones(len(after), dtype=np.float32), (after["user"].to_numpy(), after["item"].to_numpy())), shape=(n_users, n_items)
    )
    held_out.sum_duplicates()
    held_out.data[:] = 1.0
    held_out = (held_out - held_out.multiply(train)).tocsr()  # a re-rated film is not a discovery
    held_out.eliminate_zeros()
    has_history = np.diff(train.indptr) > 0
    has_targets = np.diff(held_out.indptr) > 0
    users = np.flatnonzero(has_history & has_targets)
    sequences = _time_ordered(before, n_users)
    return EvaluationSplit(
        name=f"temporal-{int(quantile * 100)}",
        train=_interactions(train, sequences),
        histories=train[users],
        sequences=[sequences[u] for u in users],
        targets=held_out[users],
        users=users.astype(np.int64),
        cutoffs=cutoffs,
        negatives=None,
        description=(
            f"global timestamp cut at the {quantile:.0%} quantile; fit on all ratings before it (binary); "
            f"targets = items rated >= {min_rating} after it, for users with history; full ranking over unseen items."
        ),
    )


def _time_ordered(ratings: pd.DataFrame, n_users: int) -> List[np.ndarray]:
    """Each user's items by timestamp (stable for ties), first rating of an item only."""
    ordered = ratings.sort_values(["user", "timestamp"], kind="stable").drop_duplicates(["user", "item"])
    sequences = [np.empty(0, dtype=np.int64)] * n_users
    for user, items in ordered.groupby("user", sort=False)["item"]:
        sequences[int(user)] = items.to_numpy(dtype=np.int64)
    return sequences
