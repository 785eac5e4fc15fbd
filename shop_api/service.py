"""The worker's one recommender (the same loader the action server uses) and the conversation store."""
from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from actions.services import RecommenderUnavailable, get_recommender, loaded_recommender
from recsys import Recommender
from shop_api.errors import ApiError


async def recommender(_: Request) -> Recommender:
    """This process's recommender, reloading newer artefacts; 503 (not a stack trace) if it cannot load.

    Asynchronous, so the common case (loaded, nothing newer published) costs no trip to a worker thread;
    loading or swapping runs in one, off the event loop.
    """
    ready = loaded_recommender()
    if ready is not None:
        return ready
    return await _load()


async def ranking_recommender(_: Request) -> Recommender:
    """The recommender for the routes that rank (recommendations, similar, accessories), which run on the
    event loop: one hop to a worker thread costs a small request more than its ranking. A newly published
    artefact set is swapped in here, in a worker thread, so that loading it (seconds) never stalls the loop."""
    ready = loaded_recommender()
    if ready is not None and not ready.models_changed():
        return ready
    return await _load()


async def _load() -> Recommender:
    try:
        return await run_in_threadpool(get_recommender)  # loads, or swaps in a newer set
    except RecommenderUnavailable as exc:
        raise ApiError(503, "unavailable", f"recommendations are unavailable: {exc}") from exc
