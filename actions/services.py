"""The action server's one recommender, loaded once and shared by every action.

When ``make train`` (or any batch job) writes new artefacts while the server
runs, the next request swaps them in; a bad set is refused and the models in
memory keep serving (:meth:`recsys.Recommender.reload_if_changed`).
"""
from __future__ import annotations

import logging
import threading
from typing import Optional

from recsys import Recommender, Settings

logger = logging.getLogger(__name__)


class RecommenderUnavailable(RuntimeError):
    """The recommender could not load (no database, unreadable catalog, no models and no way to train).

    A class of its own so the actions' guard can tell the shopper "recommendations are unavailable"
    rather than "something went wrong" (:func:`actions.base.answering_failures`).
    """


_lock = threading.Lock()
_recommender: Optional[Recommender] = None


def get_recommender() -> Recommender:
    """Load (training first if needed) on first use; later calls reuse it, reloading newer artefacts.

    Raises :class:`RecommenderUnavailable` when it cannot load; the next call tries again.
    """
    global _recommender
    with _lock:
        if _recommender is None:
            try:
                _recommender = Recommender.from_settings(Settings.from_env(), train_if_missing=True)
            except Exception as exc:
                raise RecommenderUnavailable(f"the recommender could not load: {exc}") from exc
            logger.info("recommender ready: %d products", len(_recommender.catalog))
        else:
            _recommender.reload_if_changed()
        return _recommender


def loaded_recommender() -> Optional[Recommender]:
    """The recommender if it is loaded, else None; no lock, no file checks.

    For an asynchronous server's event loop: loading (seconds) is left to :func:`get_recommender` in
    a worker thread, and a newer artefact set is swapped in by the recommender's own queries
    (``Recommender.recommend`` and the others check the published set at their start).
    """
    return _recommender


def set_recommender(recommender: Optional[Recommender]) -> None:
    """Install a recommender built elsewhere (tests build theirs on temporary data)."""
    global _recommender
    with _lock:
        _recommender = recommender
