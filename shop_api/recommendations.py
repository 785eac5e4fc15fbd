"""``GET /v1/recommendations``: the chat's hybrid, constraints and reasons, for a shop's own pages."""
from __future__ import annotations

import uuid
from typing import Optional

from fastapi import APIRouter, Depends, Header, Query

from actions.render import product_card, reason_text
from recsys import QueryError, RecommendationQuery, Recommender, shopper_key
from shop_api.errors import ApiError
from shop_api.responses import CompactJSONResponse
from shop_api.schemas import RecommendationsResponse
from shop_api.service import ranking_recommender

router = APIRouter(prefix="/v1", tags=["recommendations"])
LANGUAGES = ("en", "zh")
MAX_K = 50


def language_of(lang: Optional[str], accept_language: Optional[str]) -> str:
    """``lang=`` first, else the first of en/zh in ``Accept-Language``, else English."""
    if lang is not None:
        if lang not in LANGUAGES:
            raise ApiError(422, "invalid", f"lang must be one of {', '.join(LANGUAGES)}", "lang")
        return lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


@router.get("/recommendations", response_model=RecommendationsResponse, summary="Products for a shopper, with reasons")
async def recommendations(
    user_id: Optional[str] = Query(None, max_length=128), session_id: Optional[str] = Query(None, max_length=128),
    category: Optional[str] = Query(None, max_length=32), brand: Optional[str] = Query(None, max_length=64),
    min_price: Optional[float] = Query(None, ge=0), max_price: Optional[float] = Query(None, ge=0),
    k: int = Query(5, ge=1, le=MAX_K), exclude: Optional[str] = Query(None, max_length=4096, description="comma-separated product ids"),
    lang: Optional[str] = Query(None), accept_language: Optional[str] = Header(None),
    rec: Recommender = Depends(ranking_recommender),
):
    language = language_of(lang, accept_language)
    excluded = tuple(dict.fromkeys(p.strip() for p in (exclude or "").split(",") if p.strip()))
    unknown = [p for p in excluded if p not in rec.catalog]
    if unknown:
        raise ApiError(422, "invalid", f"unknown product id {unknown[0]!r}", "exclude")
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ApiError(422, "invalid", "min_price is above max_price", "min_price")
    shopper = shopper_key(user_id, session_id)
    query = RecommendationQuery(user_id=shopper, category=category, brand=brand, min_price=min_price,
                                max_price=max_price, k=k, exclude_items=excluded)
    try:
        results = rec.recommend(query)
    except QueryError as exc:
        field = next((name for name in ("category", "brand") if name in str(exc)), None)
        raise ApiError(422, "invalid", str(exc), field) from exc
    cards = [product_card(r.product, reason_text(language, r.reason, rec.catalog), r.reason.code, language) for r in results]
    return CompactJSONResponse({"recommendation_id": uuid.uuid4().hex, "user_id": shopper, "language": language,
                                "products": cards})
