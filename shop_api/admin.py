"""Operations: health (open, for load balancers and `make run`) and retraining (token)."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from recsys import Recommender, RetrainStatus as Status
from shop_api.auth import require_token
from shop_api.schemas import Health, RetrainStatus
from shop_api.service import recommender

router = APIRouter(prefix="/v1", tags=["operations"])


def _status(status: Status) -> RetrainStatus:
    return RetrainStatus(state=status.state, started_at=status.started_at, finished_at=status.finished_at,
                         n_events=status.n_events, error=status.error)


@router.get("/health", response_model=Health, summary="Which models serve, trained when, database reachable")
async def health(rec: Recommender = Depends(recommender)) -> Health:
    info = await run_in_threadpool(rec.health)
    fields = {k: v for k, v in asdict(info).items() if k in Health.__fields__}
    return Health(**{**fields, "status": "ok" if info.ok else "degraded", "database": info.database_reachable,
                     "retrain": _status(info.retrain)})


@router.post("/admin/retrain", response_model=RetrainStatus, status_code=202, dependencies=[Depends(require_token)],
             summary="Retrain every model in the background; the old models serve until the new set is published")
def retrain(rec: Recommender = Depends(recommender)) -> RetrainStatus:
    return _status(rec.start_retrain())
