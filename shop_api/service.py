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
    try:
        return await run_in_threadpool(get_recommender)
    except RecommenderUnavailable as exc:
        raise ApiError(503, "unavailable", f"recommendations are unavailable: {exc}") from exc
