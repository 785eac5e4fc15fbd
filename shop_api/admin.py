"""Operations: health (open, for load balancers and `make run`) and retraining (token)."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Request

from recsys import Recommender
from shop_api.auth import require_token
from shop_api.retraining import read_state, start_retrain
from shop_api.schemas import Health, RetrainStatus
from shop_api.service import recommender

router = APIRouter(prefix="/v1", tags=["operations"])


def _status(rec: Recommender) -> RetrainStatus:
    state = asdict(read_state(rec))
    state.pop("pid")
    return RetrainStatus(**state)


@router.get("/health", response_model=Health, summary="Which models serve, trained when, database reachable")
def health(rec: Recommender = Depends(recommender)) -> Health:
    info = rec.serving_info()
    try:
        retrain = _status(rec)
    except Exception:  # the database is down: say so, don't fail
        retrain = RetrainStatus(state="unknown", started_at=None, finished_at=None, error="database unreachable")
    return Health(status="ok" if info.database_ok else "degraded", database=info.database_ok,
                  models={k: dict(v) for k, v in info.models.items()}, trained_at=info.trained_at,
                  trained_on_events=info.trained_on_events, events_now=info.events_now,
                  catalog_hash=info.catalog_hash, products=info.products, retrain=retrain)


@router.post("/admin/retrain", response_model=RetrainStatus, status_code=202, dependencies=[Depends(require_token)],
             summary="Retrain every model in the background; the old models serve until the new ones are written")
def retrain(request: Request, rec: Recommender = Depends(recommender)) -> RetrainStatus:
    start_retrain(rec, request.app.state.var_dir / "retrain.log")
    return _status(rec)
