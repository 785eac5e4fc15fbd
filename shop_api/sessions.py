"""``POST /v1/shopper-session``: a shopper token for the page, so it can send its shopper's browsing events.

The demo shop's page calls it on load (``static/shop.js``); a real shop mints the token in its own
backend with the API token and the logged-in shopper's id, and hands it to its page (docs/shop-api.md).
Who gets a token for which shopper is decided in :func:`shop_api.auth.session_shopper`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from fastapi import APIRouter, Request

from shop_api.auth import session_shopper
from shop_api.schemas import ShopperSession, ShopperSessionIn
from shop_api.shopper_tokens import derive_key, mint

router = APIRouter(prefix="/v1", tags=["shoppers"])


@router.post("/shopper-session", response_model=ShopperSession,
             responses={401: {"description": "A forged or long-expired shopper token, or a chosen shopper_id "
                                             "without the API token"}},
             summary="A shopper token (24 h) for one shopper's browsing events")
async def shopper_session(request: Request, body: Optional[ShopperSessionIn] = None) -> ShopperSession:
    shopper_id = await session_shopper(request, body.shopper_id if body is not None else None)
    token, claims = mint(derive_key(request.app.state.config.token), shopper_id)
    return ShopperSession(shopper_id=shopper_id, token=token,
                          expires_at=datetime.fromtimestamp(claims.expires_at, timezone.utc).isoformat())
