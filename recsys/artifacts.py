"""Versioned model artefacts: the files of each model plus one metadata file.

``metadata.json`` is written last, so a directory without it is an unfinished
training run and is never loaded. The metadata records which catalog and which
event log the models were fitted on; a mismatch means the models would score
the wrong products, so loading refuses.

A set is written either in place in the model directory (``python -m recsys train``) or, by a
background retrain, into ``sets/<time>-<pid>/`` and published by renaming the ``CURRENT`` pointer
(:func:`publish_set`): a reader resolves the pointer once and reads one whole set.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from recsys.models.base import ArtifactError

FORMAT_VERSION = 2  # 2: a hybrid of several models with learned weights
METADATA_FILE = "metadata.json"


def ids_hash(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]


@dataclass
class ArtifactMetadata:
    catalog_hash: str
    events_hash: str
    n_events: int
    n_users: int
    n_items: int
    models: Dict[str, Dict[str, Any]]
    #: The hybrid's blend weights, learned on validation data, and what they scored there.
    weights: Dict[str, float] = field(default_factory=dict)
    validation: Dict[str, float] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    python: str = field(default_factory=platform.python_version)
    metrics: Dict[str, float] = field(default_factory=dict)

    def write(self, directory: Path) -> None:
        tmp = Path(directory) / f".{METADATA_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        tmp.replace(Path(directory) / METADATA_FILE)

    @classmethod
    def read(cls, directory: Path) -> "ArtifactMetadata":
        path = Path(directory) / METADATA_FILE
        if not path.exists():
            raise ArtifactError(f"no trained recommender in {directory} (missing {METADATA_FILE})")
        try:
            raw = json.loads(path.read_text())
            metadata = cls(**raw)
        except (ValueError, TypeError) as exc:
            raise ArtifactError(f"{path} is corrupt: {exc}") from exc
        if metadata.format_version != FORMAT_VERSION:
            raise ArtifactError(f"{path} has format {metadata.format_version}; this code reads {FORMAT_VERSION}")
        return metadata

    def check_catalog(self, catalog_hash: str, directory: Path) -> None:
        """Models index products by position, so another catalog makes them score the wrong items.

        Newer events are fine: shoppers are folded in from their current history.
        """
        if self.catalog_hash != catalog_hash:
            raise ArtifactError(f"models in {directory} were trained on another catalog; retrain them")


#: Before shopper fingerprints were recorded: one trained shopper per line, in factor-row order.
LEGACY_USERS_FILE = "users.txt"
#: One JSON line per trained shopper, in factor-row order: ``[user_id, event count, last event id]``.
USERS_FILE = "users.jsonl"


def metadata_stamp(directory: Path) -> Optional[float]:
    """When a set of artefacts was finished (``metadata.json`` is written last), or None if there is none."""
    try:
        return (Path(directory) / METADATA_FILE).stat().st_mtime
    except OSError:
        return None


@dataclass(frozen=True)
class TrainedShopper:
    """A shopper the models were trained on: their factor row, and which of their events they saw."""

    user_id: str
    row: int
    #: The count and newest id of the shopper's events at training (None: not recorded, legacy artefacts).
    count: Optional[int] = None
    last_id: Optional[int] = None


def write_trained_shoppers(directory: Path, shoppers: Sequence[TrainedShopper]) -> None:
    tmp = Path(directory) / f".{USERS_FILE}.tmp"
    tmp.write_text("".join(json.dumps([s.user_id, s.count, s.last_id], ensure_ascii=False) + "\n" for s in shoppers),
                   encoding="utf-8")
    tmp.replace(Path(directory) / USERS_FILE)


def read_trained_shoppers(directory: Path) -> List[TrainedShopper]:
    """The trained shoppers in factor-row order; from artefacts written before fingerprints were
    recorded, without counts (their factors are then used only when the events hash says nothing changed)."""
    directory = Path(directory)
    try:
        if (directory / USERS_FILE).exists():
            rows = [json.loads(line) for line in (directory / USERS_FILE).read_text(encoding="utf-8").splitlines()]
            return [TrainedShopper(str(user), row, count, last_id) for row, (user, count, last_id) in enumerate(rows)]
        users = (directory / LEGACY_USERS_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError, TypeError) as exc:
        raise ArtifactError(f"cannot read the trained shoppers in {directory}: {exc}") from exc
    return [TrainedShopper(user, row) for row, user in enumerate(users)]


#: Names the artefact set in use when sets are published side by side (see :func:`publish_set`).
CURRENT_FILE = "CURRENT"
SETS_DIR = "sets"
#: Published sets kept besides the current one: a process still reading an older set finds it whole.
KEEP_SETS = 3


def current_directory(model_dir: Path) -> Path:
    """The directory of the set to serve: the one ``CURRENT`` names, else ``model_dir`` itself (a set
    written in place by ``python -m recsys train``)."""
    model_dir = Path(model_dir)
    try:
        name = (model_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return model_dir
    return model_dir / name if name else model_dir


def artifact_stamp(model_dir: Path) -> Optional[Tuple[str, float]]:
    """Which finished set serves now (its directory and when its ``metadata.json`` was written), or None.

    Two ``stat``/read calls: cheap enough to ask on every request.
    """
    directory = current_directory(model_dir)
    stamp = metadata_stamp(directory)
    return None if stamp is None else (str(directory), stamp)


def new_set_directory(model_dir: Path) -> Path:
    """A fresh, empty directory for a set being trained, beside the published ones."""
    name = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    directory = Path(model_dir) / SETS_DIR / name
    directory.mkdir(parents=True)
    return directory


def publish_set(model_dir: Path, directory: Path) -> None:
    """Make ``directory`` (a finished set under ``model_dir``) the one every process serves.

    One atomic rename of the pointer file: a reader sees the old set or the new one, never a mix.
    Older sets beyond :data:`KEEP_SETS` are removed.
    """
    model_dir = Path(model_dir)
    relative = Path(directory).resolve().relative_to(model_dir.resolve())
    tmp = model_dir / f".{CURRENT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(str(relative), encoding="utf-8")
    tmp.replace(model_dir / CURRENT_FILE)
    sets = sorted((p for p in (model_dir / SETS_DIR).iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in sets[:-(KEEP_SETS + 1)]:
        if old.resolve() != Path(directory).resolve():
            shutil.rmtree(old, ignore_errors=True)


def unpublish_sets(model_dir: Path) -> None:
    """Serve the set written in place in ``model_dir`` again (after an in-place training)."""
    (Path(model_dir) / CURRENT_FILE).unlink(missing_ok=True)
