"""The shop API's settings, read from the environment once at start."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

DEFAULT_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ApiConfig:
    #: Bearer token for writes, admin and per-shopper data (``DAOGOU_API_TOKEN``); never a default.
    token: str
    #: Shop origins allowed by CORS (``DAOGOU_SHOP_ORIGIN``, comma-separated).
    origins: Tuple[str, ...]
    #: Rasa's conversation store, so forgetting a shopper erases their conversation too.
    tracker_db_url: str
    #: Where the retrain log goes (``DAOGOU_VAR_DIR``, as for the recommender's database).
    var_dir: Path

    @classmethod
    def from_env(cls) -> "ApiConfig":
        token = os.environ.get("DAOGOU_API_TOKEN", "").strip()
        if not token:
            raise SystemExit("DAOGOU_API_TOKEN is not set: the shop API refuses to start without a token "
                             "for its write endpoints (`make run` generates one for local use)")
        origins = tuple(o.strip() for o in os.environ.get("DAOGOU_SHOP_ORIGIN", "").split(",") if o.strip())
        var_dir = Path(os.environ.get("DAOGOU_VAR_DIR") or PROJECT_ROOT / "var")
        return cls(token=token, origins=origins or DEFAULT_ORIGINS, var_dir=var_dir,
                   tracker_db_url=os.environ.get("DAOGOU_TRACKER_DB_URL") or f"sqlite:///{var_dir / 'conversations.db'}")
