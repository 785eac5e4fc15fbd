"""What a serving process is running on, for ``GET /v1/health`` and operators."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Optional

from sqlalchemy import text

from recsys.artifacts import ids_hash
from recsys.retraining import RetrainStatus, read_status

if TYPE_CHECKING:
    from recsys.facade import Recommender

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """The models loaded, what they were trained on, the catalog served, the database, the last retrain."""

    #: Model name -> its weight in the blend.
    models: Dict[str, float]
    model_directory: str
    trained_at: str
    trained_on_events: int
    trained_on_shoppers: int
    trained_on_products: int
    loaded_at: str
    #: Hash of the served catalog's product ids, in order (changes when a product is added).
    catalog_hash: str
    products: int
    deleted_products: int
    #: The newest catalog change applied (0: none since the catalog file).
    catalog_change: int
    database_reachable: bool
    retrain: RetrainStatus = field(default_factory=RetrainStatus)
    database_error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.database_reachable


def health_of(recommender: "Recommender") -> Health:
    """The process's health now; a database that does not answer is reported, not raised."""
    reachable, error, retrain = True, None, RetrainStatus()
    recommender.reload_if_changed()  # report the set that serves from now on, as a query would take it
    try:
        with recommender.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        view = recommender.live_catalog.sync()
        retrain = read_status(recommender.store)
    except Exception as exc:  # reported in the answer; the process keeps serving what it holds
        logger.warning("health: database unreachable: %s", type(exc).__name__)
        reachable, error = False, type(exc).__name__
        view = recommender.live_catalog.view
    serving = recommender._serving
    meta = serving.metadata
    return Health(
        models={name: float(serving.ranker.weights.get(name, 0.0)) for name in serving.models},
        model_directory=str(serving.directory), trained_at=meta.created_at, trained_on_events=meta.n_events,
        trained_on_shoppers=meta.n_users, trained_on_products=meta.n_items, loaded_at=serving.loaded_at,
        catalog_hash=ids_hash(view.catalog.ids), products=len(view.catalog), deleted_products=len(view.deleted),
        catalog_change=view.seq, database_reachable=reachable, retrain=retrain, database_error=error,
    )
