"""Shopper tokens: what a browser may hold instead of ``DAOGOU_API_TOKEN``.

The shop's pages must send browsing events (views, cart changes) from the browser, but the API token
can write anything about anyone and must never reach one. A shopper token is bound to ONE shopper id
and expires (24 h): ``<payload>.<signature>``, the payload ``{"sub": shopper_id, "exp": unix_seconds}``
in URL-safe base64, signed with HMAC-SHA256 under a key derived from the API token. Nothing is stored
server-side, so every API worker checks it alike, and rotating ``DAOGOU_API_TOKEN`` voids every shopper
token at once. What a shopper token may do is decided in :mod:`shop_api.auth`, not here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Optional, Tuple

#: How long a token serves; the page asks for a fresh one before this.
TOKEN_TTL_SECONDS = 24 * 3600
#: An expired token (correctly signed) still proves its shopper for this long, to renew it for the same id.
RENEWAL_WINDOW_SECONDS = 30 * 24 * 3600
#: A pseudonymous id: letters, digits, ``_ . : -``; never an e-mail or a name with spaces.
SHOPPER_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
#: Longer than any token this module mints: refused before any decoding work.
MAX_TOKEN_CHARS = 512
_KEY_LABEL = b"daogou shopper token v1"


class ShopperTokenError(ValueError):
    """A token that is not one this deployment signed, or that has expired; the message says which."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class ShopperToken:
    """A checked token: whose it is and until when (unix seconds)."""

    shopper_id: str
    expires_at: int


def derive_key(api_token: str) -> bytes:
    """The signing key: never the API token itself, so a leaked key signs shopper tokens and nothing else."""
    return hmac.new(api_token.encode(), _KEY_LABEL, hashlib.sha256).digest()


def new_shopper_id() -> str:
    """A fresh pseudonymous id for a visitor the shop does not know (96 random bits)."""
    return "s-" + secrets.token_hex(12)


def is_shopper_id(value: object) -> bool:
    return isinstance(value, str) and SHOPPER_ID.match(value) is not None


def mint(key: bytes, shopper_id: str, now: Optional[float] = None, ttl: int = TOKEN_TTL_SECONDS) -> Tuple[str, ShopperToken]:
    """``(token, ShopperToken)`` for ``shopper_id``, valid for ``ttl`` seconds from ``now``."""
    if not is_shopper_id(shopper_id):
        raise ValueError(f"not a shopper id: {shopper_id!r}")
    expires_at = int(now if now is not None else time.time()) + ttl
    payload = _b64(json.dumps({"sub": shopper_id, "exp": expires_at}, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_sign(key, payload))}", ShopperToken(shopper_id, expires_at)


def verify(key: bytes, token: str, now: Optional[float] = None, grace: int = 0) -> ShopperToken:
    """The shopper a token names, if this key signed it and it expired no more than ``grace`` seconds ago.

    Raises :class:`ShopperTokenError` otherwise (``expired`` set when only the time is wrong).
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise ShopperTokenError("not a shopper token")
    payload, signature = token.split(".")
    try:
        given = _unb64(signature)
    except ValueError:
        raise ShopperTokenError("not a shopper token") from None
    if not hmac.compare_digest(given, _sign(key, payload)):
        raise ShopperTokenError("shopper token signature does not match")
    try:
        claims = json.loads(_unb64(payload))
        shopper_id, expires_at = claims["sub"], claims["exp"]
    except (ValueError, KeyError, TypeError):
        raise ShopperTokenError("not a shopper token") from None
    if not is_shopper_id(shopper_id) or not isinstance(expires_at, int):
        raise ShopperTokenError("not a shopper token")
    if expires_at + grace <= (now if now is not None else time.time()):
        raise ShopperTokenError("shopper token expired", expired=True)
    return ShopperToken(shopper_id, expires_at)


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
