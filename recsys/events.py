"""Shopper events and the interaction matrix the models learn from.

A log is a table with the columns in :data:`EVENT_COLUMNS`; the demo log from
:mod:`recsys.simulate` and a shop's real CSV/Parquet export go through the same
loader, so nothing downstream knows which one it got.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Set

import numpy as np
import pandas as pd
import scipy.sparse as sp

logger = logging.getLogger(__name__)

EVENT_COLUMNS = ("timestamp", "user_id", "session_id", "event_type", "item_id", "value")
EVENT_TYPES = ("view", "cart", "purchase", "rating")

#: How strongly each event says "this shopper wants this item", for implicit-feedback models.
EVENT_WEIGHTS: Mapping[str, float] = {"view": 1.0, "cart": 3.0, "purchase": 5.0, "rating": 0.0}


class EventLogError(ValueError):
    """The event log cannot be read; the message says which file and column."""


def load_events(path: Path) -> pd.DataFrame:
    """Read a log from CSV or Parquet and check its columns and event types."""
    path = Path(path)
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"user_id": str, "session_id": str, "item_id": str})
    except (OSError, ValueError) as exc:
        raise EventLogError(f"{path}: cannot read event log: {exc}") from exc
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        raise EventLogError(f"{path}: missing columns {', '.join(missing)}")
    unknown = sorted(set(frame["event_type"]) - set(EVENT_TYPES))
    if unknown:
        raise EventLogError(f"{path}: unknown event types {', '.join(map(str, unknown))}")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def data_hash(frame: pd.DataFrame) -> str:
    """Short content hash, stored in model metadata to tell which data a model saw."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame[list(EVENT_COLUMNS)], index=False).values.tobytes())
    return digest.hexdigest()[:16]


#: A rating at or below this many stars is a dislike: the product is not recommended to that shopper again.
DISLIKE_MAX_STARS = 2


def is_dislike(stars: float) -> bool:
    return stars <= DISLIKE_MAX_STARS


def disliked_items(events: pd.DataFrame, item_position: Mapping[str, int]) -> Dict[str, Set[int]]:
    """Per shopper, the catalog positions of products whose latest rating is a dislike.

    Implicit-feedback models cannot learn "not this" from a low rating (its
    weight is 0), so the recommender filters these out for the shopper who gave it.
    """
    ratings = events[(events["event_type"] == "rating") & events["item_id"].isin(item_position)]
    latest = ratings.groupby(["user_id", "item_id"], sort=False)["value"].last()  # events are in time order
    disliked: Dict[str, Set[int]] = {}
    for (user_id, item_id), stars in latest.items():
        if stars == stars and is_dislike(float(stars)):
            disliked.setdefault(user_id, set()).add(item_position[item_id])
    return disliked


def rating_weight(value: float) -> float:
    """Ratings of 4-5 count as a liked item, 3 as a faint signal, below as none."""
    return {5: 5.0, 4: 4.0, 3: 1.0}.get(int(round(value)), 0.0)


@dataclass
class Interactions:
    """A users x items matrix of summed event weights over the catalog's item order."""

    matrix: sp.csr_matrix
    user_ids: List[str]
    item_ids: List[str]
    #: Same sparsity as ``matrix``: 1 + days between the pair's latest event and the log's newest
    #: one (the offset keeps an age of zero stored in the sparse matrix).
    age_days: Optional[sp.csr_matrix] = None
    #: Per user (same order as ``user_ids``), the items they touched in time order, repeats collapsed:
    #: what sequence models learn from.
    sequences: Optional[List[np.ndarray]] = None
    #: Items x features matrix describing the products themselves (text, brand, specs), for content models.
    item_features: Optional[sp.csr_matrix] = None

    def with_item_features(self, features: sp.csr_matrix) -> "Interactions":
        if features.shape[0] != len(self.item_ids):
            raise ValueError(f"item features have {features.shape[0]} rows for {len(self.item_ids)} items")
        return replace(self, item_features=features.tocsr())

    @property
    def user_index(self) -> Dict[str, int]:
        return {u: i for i, u in enumerate(self.user_ids)}

    def with_event(self, user_id: str, item: int, weight: float) -> "Interactions":
        """A copy with one more event: how a click shapes the next recommendation without retraining."""
        users = list(self.user_ids)
        matrix = self.matrix
        position = self.user_index.get(user_id)
        if position is None:
            position = len(users)
            users.append(user_id)
            matrix = sp.vstack([matrix, sp.csr_matrix((1, matrix.shape[1]), dtype=matrix.dtype)], format="csr")
        delta = sp.csr_matrix(([weight], ([position], [item])), shape=matrix.shape, dtype=matrix.dtype)
        matrix = (matrix + delta).tocsr()
        matrix.eliminate_zeros()
        sequences = None
        if self.sequences is not None:
            sequences = list(self.sequences) + [np.empty(0, dtype=np.int64)] * (len(users) - len(self.sequences))
            if sequences[position].size == 0 or sequences[position][-1] != item:
                sequences[position] = np.append(sequences[position], item)
        return Interactions(matrix=matrix, user_ids=users, item_ids=self.item_ids, age_days=None,
                            sequences=sequences, item_features=self.item_features)

    @classmethod
    def from_events(cls, events: pd.DataFrame, item_ids: Sequence[str]) -> "Interactions":
        """Aggregate events; rows about products not in the catalog are dropped and counted."""
        item_position = {item: i for i, item in enumerate(item_ids)}
        known = events["item_id"].isin(item_position)
        dropped = int((~known).sum())
        if dropped:
            logger.warning("ignored %d events about products that are not in the catalog", dropped)
        events = events[known]
        weights = events["event_type"].map(EVENT_WEIGHTS).astype(float).to_numpy()
        is_rating = (events["event_type"] == "rating").to_numpy()
        if is_rating.any():
            weights[is_rating] = events.loc[is_rating, "value"].astype(float).map(rating_weight).to_numpy()
        user_ids = sorted(events["user_id"].unique())
        user_position = {u: i for i, u in enumerate(user_ids)}
        rows = events["user_id"].map(user_position).to_numpy()
        cols = events["item_id"].map(item_position).to_numpy()
        shape = (len(user_ids), len(item_ids))
        matrix = sp.csr_matrix((weights, (rows, cols)), shape=shape, dtype=np.float32)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        age_days = None
        if len(events):
            newest = events["timestamp"].max()
            ages = ((newest - events["timestamp"]).dt.total_seconds() / 86400.0).to_numpy()
            age_days = _min_duplicates(rows, cols, ages, shape)
            age_days = age_days.multiply(matrix > 0).tocsr()
        return cls(matrix=matrix, user_ids=user_ids, item_ids=list(item_ids), age_days=age_days,
                   sequences=_sequences(events, rows, cols, len(user_ids)))


def _sequences(events: pd.DataFrame, rows: np.ndarray, cols: np.ndarray, n_users: int) -> List[np.ndarray]:
    """Each user's items in time order (events are sorted by time), ratings left out, repeats collapsed."""
    touched = (events["event_type"] != "rating").to_numpy()
    frame = pd.DataFrame({"user": rows[touched], "item": cols[touched]})
    sequences = [np.empty(0, dtype=np.int64)] * n_users
    for user, items in frame.groupby("user", sort=False)["item"]:
        values = items.to_numpy(dtype=np.int64)
        keep = np.ones(len(values), dtype=bool)
        keep[1:] = values[1:] != values[:-1]
        sequences[int(user)] = values[keep]
    return sequences


def _min_duplicates(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple) -> sp.csr_matrix:
    """Sparse matrix holding, per (row, col), the smallest value plus one (so zero ages stay stored)."""
    frame = pd.DataFrame({"r": rows, "c": cols, "v": values}).groupby(["r", "c"], sort=True)["v"].min()
    r = frame.index.get_level_values(0).to_numpy()
    c = frame.index.get_level_values(1).to_numpy()
    return sp.csr_matrix((frame.to_numpy() + 1.0, (r, c)), shape=shape)
