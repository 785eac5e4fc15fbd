"""The worker's one recommender (the same loader the action server uses) and the conversation store."""
from __future__ import annotations

from fastapi import Request

from actions.services import RecommenderUnavailable, get_recommender
from recsys import Recommender
from shop_api.errors import ApiError


def recommender(_: Request) -> Recommender:
    """This process's recommender, reloading newer artefacts; 503 (not a stack trace) if it cannot load."""
    try:
        return get_recommender()
    except RecommenderUnavailable as exc:
        raise ApiError(503, "unavailable", f"recommendations are unavailable: {exc}") from exc
