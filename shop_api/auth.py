"""Bearer-token check for writes, admin and per-shopper data; catalog and recommendation reads are open."""
from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shop_api.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer $DAOGOU_API_TOKEN`")


async def require_token(request: Request) -> None:
    credentials: HTTPAuthorizationCredentials = await _bearer(request)
    expected = request.app.state.config.token
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)")
