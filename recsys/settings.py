"""Where the recommender finds its data and artefacts.

Everything comes from environment variables with defaults that run on one
machine, so the same code serves a laptop, CI and several servers that share a
database and a model directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> Optional[float]:
    """``"6h"``, ``"30m"``, ``"90s"``, ``"1d"`` -> seconds; empty, ``0`` or ``off`` -> None; else ValueError."""
    text = text.strip().lower()
    if text in ("", "0", "off", "none"):
        return None
    unit = _UNITS.get(text[-1])
    try:
        value = float(text[:-1]) * unit if unit else float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"DAOGOU_RETRAIN_EVERY must be a duration like 6h, 30m or 90s, got {text!r}")
    return value


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
    #: Seconds between scheduled background retrains (``DAOGOU_RETRAIN_EVERY``: ``6h``, ``30m``); None: off.
    retrain_every: Optional[float] = None

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
            retrain_every=parse_duration(os.environ.get("DAOGOU_RETRAIN_EVERY", "")),
            **({"models": tuple(m.strip() for m in os.environ["DAOGOU_MODELS"].split(",") if m.strip())}
               if os.environ.get("DAOGOU_MODELS") else {}),
        )

    def to_env(self) -> Dict[str, str]:
        """The ``DAOGOU_*`` variables that make :meth:`from_env` give these settings back in a child process."""
        env = {
            "DAOGOU_CATALOG": str(self.catalog_path), "DAOGOU_ALIASES": str(self.aliases_path),
            "DAOGOU_EVENTS": str(self.events_path), "DAOGOU_MODEL_DIR": str(self.model_dir),
            "DAOGOU_DATABASE_URL": self.database_url, "DAOGOU_SEED": str(self.seed),
            "DAOGOU_VALIDATION_SHOPPERS": str(self.validation_shoppers), "DAOGOU_FEATURES": str(self.features_path),
            "DAOGOU_MODELS": ",".join(self.models),
            "DAOGOU_RETRAIN_EVERY": f"{self.retrain_every:g}s" if self.retrain_every else "off",
        }
        return env
