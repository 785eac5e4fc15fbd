"""Where the recommender finds its data and artefacts.

Everything comes from environment variables with defaults that run on one
machine, so the same code serves a laptop, CI and several servers that share a
database and a model directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Locations and knobs of one recommender deployment."""

    catalog_path: Path
    aliases_path: Path
    #: The event log that seeds an empty database: the demo log, or a shop's real export.
    events_path: Path
    model_dir: Path
    database_url: str
    seed: int = 0
    #: Features shoppers ask about and the specs that answer them.
    features_path: Path = PROJECT_ROOT / "data" / "catalog" / "features.yml"
    #: Models the hybrid blends (names in recsys.models.MODEL_CLASSES).
    models: Tuple[str, ...] = ("popularity", "als", "item_knn", "content", "gru")
    #: Shoppers whose last product is hidden to learn the blend weights (more: steadier, slower).
    validation_shoppers: int = 2000

    @classmethod
    def from_env(cls) -> "Settings":
        """Read ``DAOGOU_*`` variables; defaults point into the project checkout."""
        data_dir = _path_from_env("DAOGOU_DATA_DIR", PROJECT_ROOT / "data")
        var_dir = _path_from_env("DAOGOU_VAR_DIR", PROJECT_ROOT / "var")
        return cls(
            catalog_path=_path_from_env("DAOGOU_CATALOG", data_dir / "catalog" / "products.jsonl"),
            aliases_path=_path_from_env("DAOGOU_ALIASES", data_dir / "catalog" / "aliases.yml"),
            events_path=_path_from_env("DAOGOU_EVENTS", data_dir / "events" / "demo_events.csv.gz"),
            model_dir=_path_from_env("DAOGOU_MODEL_DIR", PROJECT_ROOT / "models" / "recsys"),
            database_url=os.environ.get("DAOGOU_DATABASE_URL", f"sqlite:///{var_dir / 'daogou.db'}"),
            seed=int(os.environ.get("DAOGOU_SEED", "0")),
            validation_shoppers=int(os.environ.get("DAOGOU_VALIDATION_SHOPPERS", "2000")),
            features_path=_path_from_env("DAOGOU_FEATURES", data_dir / "catalog" / "features.yml"),
            **({"models": tuple(m.strip() for m in os.environ["DAOGOU_MODELS"].split(",") if m.strip())}
               if os.environ.get("DAOGOU_MODELS") else {}),
        )
