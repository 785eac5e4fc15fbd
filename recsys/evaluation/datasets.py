"""Loaders for the shared public benchmark datasets, with checksum verification.

The files live outside the project (``../shared/datasets`` relative to the
project root, or ``$DAOGOU_DATASETS``) and are read-only; a checksum mismatch
means the numbers would not compare with the README's, so it is an error, not
a warning.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import numpy as np
import pandas as pd

from recsys.events import load_events
from recsys.settings import PROJECT_ROOT


class DatasetError(RuntimeError):
    """A benchmark dataset is missing or is not the published file."""


@dataclass(frozen=True)
class DatasetFile:
    """One published file: where it is under the datasets root and its md5."""

    relative_path: str
    md5: str
    citation: str


DATASET_FILES: Dict[str, DatasetFile] = {
    "amazon-games": DatasetFile(
        "amazon-games/sequences.txt",
        "90ee83b589a4b2c2306bc8284214fdf5",
        "McAuley et al., SIGIR 2015 (Amazon reviews); SASRec preprocessing, Kang & McAuley, ICDM 2018",
    ),
    "movielens-100k": DatasetFile(
        "movielens-100k/u.data",
        "6e47046882bad158b0efbb84cd5cb987",
        "GroupLens MovieLens 100K (Harper & Konstan, ACM TiiS 2015)",
    ),
}


def datasets_root() -> Path:
    """``$DAOGOU_DATASETS`` if set, else ``<project root>/../shared/datasets``."""
    value = os.environ.get("DAOGOU_DATASETS")
    return Path(value).expanduser().resolve() if value else PROJECT_ROOT.parent / "shared" / "datasets"


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_path(name: str) -> Path:
    """Path of dataset ``name`` after checking that it exists and has the published md5."""
    if name not in DATASET_FILES:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASET_FILES))}")
    spec = DATASET_FILES[name]
    path = datasets_root() / spec.relative_path
    if not path.is_file():
        raise DatasetError(f"{name}: {path} not found (set DAOGOU_DATASETS to the folder holding {spec.relative_path})")
    actual = md5sum(path)
    if actual != spec.md5:
        raise DatasetError(f"{name}: {path} has md5 {actual}, expected {spec.md5}; results would not compare")
    return path


@dataclass
class Sequences:
    """Per-user chronological item sequences with 0-based item indices."""

    sequences: List[np.ndarray]
    n_items: int

    @property
    def n_users(self) -> int:
        return len(self.sequences)


def load_amazon_games() -> Sequences:
    """``user item`` lines (1-based ids, chronological per user) as 0-based sequences."""
    frame = pd.read_csv(verified_path("amazon-games"), sep=" ", header=None, names=["user", "item"], dtype=np.int64)
    users = frame["user"].to_numpy()
    items = frame["item"].to_numpy() - 1
    # The file lists each user's lines together and in order; a stable sort keeps that order.
    order = np.argsort(users, kind="stable")
    users, items = users[order], items[order]
    boundaries = np.flatnonzero(np.diff(users)) + 1
    return Sequences(sequences=np.split(items, boundaries), n_items=int(items.max()) + 1)


def load_movielens_100k() -> pd.DataFrame:
    """``u.data`` as columns user, item (0-based), rating, timestamp (seconds)."""
    frame = pd.read_csv(verified_path("movielens-100k"), sep="\t", header=None, names=["user", "item", "rating", "timestamp"], dtype=np.int64)
    frame["user"] -= 1
    frame["item"] -= 1
    return frame


def load_event_log_sequences(events_path: Path, item_ids: List[str]) -> Sequences:
    """A Daogou event log (the synthetic demo log, or a shop's real one) as per-shopper sequences.

    Every event type counts as touching the product; repeats in a row (view,
    cart, purchase of one product) are one step, so the next step is always a
    new decision. Products that are no longer in the catalog are dropped.
    """
    frame = load_events(events_path)
    position = {item: i for i, item in enumerate(item_ids)}
    frame = frame[frame["item_id"].isin(position)]
    sequences: List[np.ndarray] = []
    for _, items in frame.groupby("user_id", sort=True)["item_id"]:
        indices = items.map(position).to_numpy(dtype=np.int64)
        keep = np.concatenate([[True], indices[1:] != indices[:-1]])
        sequences.append(indices[keep])
    return Sequences(sequences=sequences, n_items=len(item_ids))
