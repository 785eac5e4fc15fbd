"""Who may do what: the one place that reads a bearer token and decides.

Writes, admin and per-shopper data need ``DAOGOU_API_TOKEN`` (:func:`require_token`); catalog and
recommendation reads are open. ``POST /v1/events`` also takes a shopper token
(:mod:`shop_api.shopper_tokens`), which a browser may hold: with one, every event of the request must be
that shopper's (``user_id``, and ``session_id`` if given) and of a browsing type, else the whole request
is refused with 403 naming the field and nothing is stored. ``POST /v1/shopper-session`` hands a shopper
token out (:func:`session_shopper` says for which shopper).
"""
from __future__ import annotations

import hmac
import json
from typing import Any, List, Optional

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shop_api.errors import ApiError
from shop_api.shopper_tokens import (RENEWAL_WINDOW_SECONDS, ShopperToken, ShopperTokenError, derive_key, is_shopper_id,
                                     new_shopper_id, verify)

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer $DAOGOU_API_TOKEN` (or a shopper token "
                                                   "for a shopper's own browsing events)")

#: What a browser may report with a shopper token. Not ``purchase`` (an order is known to the shop's backend,
#: which sends it with the API token: a page could claim purchases it never paid for, and a purchase hides the
#: product and pushes accessories) nor ``rating`` (a review belongs to a verified order).
BROWSING_TYPES = ("view", "cart", "remove_from_cart", "dislike")


def _unauthorized(message: str = "a valid bearer token is required (Authorization: Bearer <token>)") -> ApiError:
    return ApiError(401, "unauthorized", message)


def _is_api_token(request: Request, credentials: Optional[HTTPAuthorizationCredentials]) -> bool:
    expected = request.app.state.config.token
    return credentials is not None and hmac.compare_digest(credentials.credentials.encode(), expected.encode())


def _shopper_token(request: Request, token: str, grace: int = 0) -> ShopperToken:
    try:
        return verify(derive_key(request.app.state.config.token), token, grace=grace)
    except ShopperTokenError as exc:
        raise _unauthorized(f"{exc}: ask POST /v1/shopper-session for a new one") from None


async def require_token(request: Request) -> None:
    if not _is_api_token(request, await _bearer(request)):
        raise _unauthorized()


async def require_event_writer(request: Request) -> None:
    """``POST /v1/events``: the API token writes anything; a shopper token only its shopper's browsing."""
    credentials = await _bearer(request)
    if _is_api_token(request, credentials):
        return
    if credentials is None:
        raise _unauthorized()
    shopper = _shopper_token(request, credentials.credentials)
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return  # the handler answers 422 and stores nothing
    batch = isinstance(payload, dict) and "events" in payload
    events: Any = payload["events"] if batch else [payload]
    if isinstance(events, list):
        _check_browsing(shopper, events, batch)


def _check_browsing(shopper: ShopperToken, events: List[Any], batch: bool) -> None:
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            continue  # not an event at all: the handler rejects it
        prefix = f"events[{index}]." if batch else ""
        if event.get("type") not in BROWSING_TYPES:
            raise ApiError(403, "forbidden", f"a shopper token sends only {', '.join(BROWSING_TYPES)} events; "
                                             "purchases and ratings come from the shop's backend", prefix + "type")
        if event.get("user_id") != shopper.shopper_id:
            raise ApiError(403, "forbidden", "a shopper token sends only its own shopper's events (user_id)", prefix + "user_id")
        if event.get("session_id") not in (None, shopper.shopper_id):
            raise ApiError(403, "forbidden", "a shopper token sends only its own shopper's events (session_id)",
                           prefix + "session_id")


async def session_shopper(request: Request, requested: Optional[str]) -> str:
    """The shopper a new shopper token is for.

    A chosen id needs the API token (a shop's backend minting for its logged-in shopper). Otherwise a
    shopper token, even expired within the renewal window, renews itself for the same shopper; with no
    token at all a new pseudonymous shopper is made (the demo shop's anonymous visitor).
    """
    credentials = await _bearer(request)
    full = _is_api_token(request, credentials)
    if requested is not None:
        if not full:
            raise _unauthorized("choosing the shopper_id needs the API token (the shop's backend); "
                                "a browser sends no shopper_id, or its own shopper token to renew it")
        if not is_shopper_id(requested):
            raise ApiError(422, "invalid", "shopper_id: 1-128 letters, digits or _ . : -", "shopper_id")
        return requested
    if credentials is None or full:
        return new_shopper_id()
    return _shopper_token(request, credentials.credentials, grace=RENEWAL_WINDOW_SECONDS).shopper_id
