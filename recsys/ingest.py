"""Events as shops and the chat send them: checked one by one, stored once, merged at log-in.

Every way an event enters (the shop API's ``POST /v1/events``, the chat's "add it to my
cart", a product opened) goes through :func:`check_event` and
:meth:`recsys.Recommender.record_events`, so the rules are the same everywhere:

- an ``event_id`` is the client's idempotency key: an event sent twice is stored once;
- a shopper not logged in is known by ``session_id`` alone (stored under :func:`shopper_key`);
  the first event that carries both ids moves the session's events to the user;
- a rejected event stores nothing and says which field is wrong; the rest of its batch is stored.
"""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Mapping, Optional

from recsys.events import EVENT_TYPES  # re-exported: the types a client may send

#: Shoppers known only by a browser session are stored under this prefix and their session id.
SESSION_PREFIX = "session:"
#: A client clock may run ahead; an event further in the future than this is refused.
MAX_FUTURE = timedelta(days=1)
MAX_ID_LENGTH = 128
MAX_PROPERTIES_BYTES = 4096


@dataclass(frozen=True)
class EventInput:
    """One event as a client sends it (the fields of the shop API's event object)."""

    type: str
    product_id: str
    user_id: Optional[str] = None
    session_id: Optional[str] = None
    event_id: Optional[str] = None
    timestamp: Optional[datetime] = None
    value: Optional[float] = None
    recommendation_id: Optional[str] = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventOutcome:
    """What became of one event: ``stored``, ``duplicate`` (its id was stored before) or ``rejected``."""

    status: str
    event_id: Optional[str] = None
    field: Optional[str] = None
    error: Optional[str] = None


class EventRejected(ValueError):
    """An event that cannot be stored; ``field`` names what is wrong with it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def shopper_key(user_id: Optional[str], session_id: Optional[str]) -> Optional[str]:
    """Whom an event or a request is about: the user when known, else the browser session."""
    if user_id:
        return user_id
    return f"{SESSION_PREFIX}{session_id}" if session_id else None


def new_event_id() -> str:
    """An id for an event whose sender gave none (the chat's own events)."""
    return uuid.uuid4().hex


def check_event(event: EventInput, is_product: Callable[[str], bool], now: Optional[datetime] = None) -> Dict[str, object]:
    """The database row for a valid event; :class:`EventRejected` naming the field otherwise."""
    now = now or datetime.now(timezone.utc)
    for name in ("user_id", "session_id", "event_id", "recommendation_id"):
        value = getattr(event, name)
        if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH):
            raise EventRejected(name, f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    key = shopper_key(event.user_id, event.session_id)
    if key is None:
        raise EventRejected("user_id", "an event needs a user_id or a session_id")
    if event.type not in EVENT_TYPES:
        raise EventRejected("type", f"unknown event type {event.type!r}; expected one of {', '.join(EVENT_TYPES)}")
    if not isinstance(event.product_id, str) or not is_product(event.product_id):
        raise EventRejected("product_id", f"unknown product id {event.product_id!r}")
    value = event.value
    if event.type == "rating":
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value) or not 1 <= value <= 5:
            raise EventRejected("value", "a rating needs a value from 1 to 5")
    elif value is not None:
        raise EventRejected("value", f"only a rating carries a value, not a {event.type}")
    timestamp = event.timestamp or now
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    if timestamp > now + MAX_FUTURE:
        raise EventRejected("timestamp", f"{timestamp.isoformat()} is more than a day in the future")
    properties = dict(event.properties or {})
    encoded = json.dumps(properties, ensure_ascii=False, sort_keys=True) if properties else None
    if encoded is not None and len(encoded.encode()) > MAX_PROPERTIES_BYTES:
        raise EventRejected("properties", f"more than {MAX_PROPERTIES_BYTES} bytes")
    return {
        "timestamp": timestamp, "user_id": key, "session_id": event.session_id or key, "event_type": event.type,
        "item_id": event.product_id, "value": None if value is None else float(value),
        "event_id": event.event_id, "recommendation_id": event.recommendation_id, "properties": encoded,
    }
