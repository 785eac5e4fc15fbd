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
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

logger = logging.getLogger(__name__)

EVENT_COLUMNS = ("timestamp", "user_id", "session_id", "event_type", "item_id", "value")
EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase", "rating", "dislike")

#: How strongly each event says "this shopper wants this item", for implicit-feedback models.
#: A removal from the cart and a dislike say nothing to them (a dislike filters the product out instead,
#: :func:`disliked_items`); a rating's weight comes from its stars (:func:`rating_weight`).
EVENT_WEIGHTS: Mapping[str, float] = {"view": 1.0, "cart": 3.0, "remove_from_cart": 0.0, "purchase": 5.0,
                                      "rating": 0.0, "dislike": 0.0}


class EventLogError(ValueError):
    """The event log cannot be read; the message says which file and column."""


def check_event_table(frame: pd.DataFrame) -> Optional[str]:
    """What is wrong with a table of events (missing columns, unknown event types), or None.

    Every way in (a log file, a batch appended to the database) checks with this, and each
    caller raises its own error with the words returned.
    """
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        return f"missing columns {', '.join(missing)}"
    unknown = sorted(set(frame["event_type"]) - set(EVENT_TYPES))
    if unknown:
        return f"unknown event types {', '.join(map(str, unknown))}"
    return None


def load_events(path: Path) -> pd.DataFrame:
    """Read a log from CSV or Parquet and check its columns and event types."""
    path = Path(path)
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"user_id": str, "session_id": str, "item_id": str})
    except (OSError, ValueError) as exc:
        raise EventLogError(f"{path}: cannot read event log: {exc}") from exc
    problem = check_event_table(frame)
    if problem:
        raise EventLogError(f"{path}: {problem}")
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


#: The event type of an explicit "not this one" (the shop API's ``dislike``), where the log has it.
DISLIKE = "dislike"


def disliked_items(events: pd.DataFrame, item_position: Mapping[str, int]) -> Dict[str, Set[int]]:
    """Per shopper, the catalog positions of products whose latest rating is a dislike.

    Implicit-feedback models cannot learn "not this" from a low rating (its
    weight is 0), so the recommender filters these out for the shopper who gave it.
    """
    types = events["event_type"].to_numpy()
    is_rating = (types == "rating") | (types == DISLIKE)
    # An explicit "not this one" counts as the lowest rating; a later good rating takes it back.
    stars_of = np.where(types == DISLIKE, 1.0, events["value"].to_numpy(dtype=np.float64))
    latest: Dict[Tuple[str, str], float] = {}
    for user_id, item_id, stars in zip(events["user_id"].to_numpy()[is_rating], events["item_id"].to_numpy()[is_rating],
                                       stars_of[is_rating]):
        if item_id in item_position and stars == stars:
            latest[(user_id, item_id)] = stars  # events are in time order: the last one stays
    disliked: Dict[str, Set[int]] = {}
    for (user_id, item_id), stars in latest.items():
        if is_dislike(stars):
            disliked.setdefault(user_id, set()).add(item_position[item_id])
    return disliked


def purchased_items(events: pd.DataFrame, item_position: Mapping[str, int]) -> Dict[str, Set[int]]:
    """Per shopper, the catalog positions of products they bought: never pushed to them again,
    their compatible accessories raised instead."""
    bought = (events["event_type"] == "purchase").to_numpy()
    purchased: Dict[str, Set[int]] = {}
    for user_id, item_id in zip(events["user_id"].to_numpy()[bought], events["item_id"].to_numpy()[bought]):
        position = item_position.get(item_id)
        if position is not None:
            purchased.setdefault(str(user_id), set()).add(position)
    return purchased


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

    @classmethod
    def from_events(cls, events: pd.DataFrame, item_ids: Sequence[str],
                    item_position: Optional[Mapping[str, int]] = None) -> "Interactions":
        """Aggregate events; rows about products not in the catalog are dropped and counted.

        ``item_position`` (each id's position in ``item_ids``) spares a caller that aggregates
        one shopper at a time from rebuilding it.
        """
        if item_position is None:
            item_position = {item: i for i, item in enumerate(item_ids)}
        cols = np.fromiter((item_position.get(item, -1) for item in events["item_id"]), dtype=np.int64, count=len(events))
        known = cols >= 0
        if not known.all():
            logger.warning("ignored %d events about products that are not in the catalog", int((~known).sum()))
            events, cols = events[known], cols[known]
        types = events["event_type"].to_numpy()
        weights = np.fromiter((EVENT_WEIGHTS[t] for t in types), dtype=np.float64, count=len(types))
        is_rating = types == "rating"
        if is_rating.any():
            weights[is_rating] = [rating_weight(v) for v in events["value"].to_numpy(dtype=np.float64)[is_rating]]
        user_ids, rows = np.unique(events["user_id"].to_numpy(dtype=object), return_inverse=True)
        user_ids = [str(u) for u in user_ids]
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
                   sequences=_sequences(rows[~is_rating], cols[~is_rating], len(user_ids)))


def _sequences(rows: np.ndarray, cols: np.ndarray, n_users: int) -> List[np.ndarray]:
    """Each user's items in time order (``rows``/``cols`` of the non-rating events, in time order), repeats collapsed."""
    order = np.argsort(rows, kind="stable")  # by user, time order kept within each
    rows, cols = rows[order], cols[order].astype(np.int64)
    keep = np.ones(len(cols), dtype=bool)
    keep[1:] = (cols[1:] != cols[:-1]) | (rows[1:] != rows[:-1])
    rows, cols = rows[keep], cols[keep]
    bounds = np.searchsorted(rows, np.arange(n_users + 1))
    return [cols[bounds[u]:bounds[u + 1]] for u in range(n_users)]


def _min_duplicates(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple) -> sp.csr_matrix:
    """Sparse matrix holding, per (row, col), the smallest value plus one (so zero ages stay stored)."""
    order = np.lexsort((values, cols, rows))  # by row, then column, then value: each pair's smallest first
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_matrix((values[first] + 1.0, (rows[first], cols[first])), shape=shape)
