"""The action server's one recommender, loaded once and shared by every action.

When ``make train`` (or any batch job) writes new artefacts while the server
runs, the next request swaps them in; a bad set is refused and the models in
memory keep serving (:meth:`recsys.Recommender.reload_models`).
"""
from __future__ import annotations

import logging
import threading
from typing import Optional

from recsys import Recommender, Settings
from recsys.artifacts import METADATA_FILE

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_recommender: Optional[Recommender] = None
_loaded_stamp: Optional[float] = None


def _metadata_stamp(recommender: Recommender) -> Optional[float]:
    """When the artefacts were last written: metadata.json is written last, so it marks a finished set."""
    try:
        return (recommender.settings.model_dir / METADATA_FILE).stat().st_mtime
    except OSError:
        return None


def get_recommender() -> Recommender:
    """Load (training first if needed) on first use; later calls reuse it, reloading newer artefacts."""
    global _recommender, _loaded_stamp
    with _lock:
        if _recommender is None:
            _recommender = Recommender.from_settings(Settings.from_env(), train_if_missing=True)
            _loaded_stamp = _metadata_stamp(_recommender)
            logger.info("recommender ready: %d products", len(_recommender.catalog))
        else:
            stamp = _metadata_stamp(_recommender)
            if stamp is not None and stamp != _loaded_stamp:
                _recommender.reload_models()
                _loaded_stamp = stamp  # a refused set is not retried until it changes again
        return _recommender


def set_recommender(recommender: Optional[Recommender]) -> None:
    """Install a recommender built elsewhere (tests build theirs on temporary data)."""
    global _recommender, _loaded_stamp
    with _lock:
        _recommender = recommender
        _loaded_stamp = _metadata_stamp(recommender) if recommender is not None else None
