"""``POST /v1/events``: one event or a batch, each answered stored, duplicate or rejected (naming the field)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from recsys import EventInput, EventOutcome, Recommender
from shop_api.auth import require_event_writer
from shop_api.errors import ApiError, _field_of
from shop_api.responses import CompactJSONResponse
from shop_api.schemas import MAX_BATCH, EventIn, EventsResponse
from shop_api.service import recommender

router = APIRouter(prefix="/v1", tags=["events"])

#: The body is one event or ``{"events": [...]}``; read by hand so that one bad event in a batch is
#: answered on its own instead of failing the batch.
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [{"$ref": "#/components/schemas/EventIn"}, {"$ref": "#/components/schemas/EventBatch"}]}}}}}
MAX_BODY_BYTES = 2_000_000


@router.post("/events", response_model=EventsResponse, dependencies=[Depends(require_event_writer)], openapi_extra=_BODY,
             # A single rejected event is answered 422 with its results; errors.document adds the error shape
             # beside it for the other refusals (malformed JSON, a batch over the limit).
             responses={422: {"description": "A single event rejected, malformed JSON, or a batch over the limit",
                              "model": EventsResponse}},
             summary="Store events (idempotent by event_id)")
async def post_events(request: Request, rec: Recommender = Depends(recommender)) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"request body over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "invalid", "malformed JSON", "body")
    single = not (isinstance(payload, dict) and "events" in payload)
    raw_events = [payload] if single else payload["events"]
    if not isinstance(raw_events, list) or not raw_events:
        raise ApiError(422, "invalid", "events must be a non-empty list", "events")
    if len(raw_events) > MAX_BATCH:
        raise ApiError(422, "invalid", f"a batch holds at most {MAX_BATCH} events, got {len(raw_events)}", "events")
    parsed, results = _parse(raw_events, single)
    valid = [(i, e) for i, e in enumerate(parsed) if e is not None]
    # The database write runs in a worker thread: it must not block the event loop.
    outcomes: List[EventOutcome] = await run_in_threadpool(rec.record_events, [e for _, e in valid]) if valid else []
    for (index, _), outcome in zip(valid, outcomes):
        results[index] = _result(index, outcome.event_id, outcome.status, _prefixed(outcome.field, index, single),
                                 outcome.error)
    counts = {status: sum(r["status"] == status for r in results) for status in ("stored", "duplicate", "rejected")}
    status = 422 if single and counts["rejected"] else 200
    return CompactJSONResponse({**counts, "results": results}, status_code=status)


def _result(index: int, event_id: Optional[str], status: str, field: Optional[str] = None,
            error: Optional[str] = None) -> Dict[str, Any]:
    """One entry of the answer, shaped as :class:`~shop_api.schemas.EventResult`."""
    return {"index": index, "event_id": event_id, "status": status, "field": field, "error": error}


def _parse(raw_events: list, single: bool) -> Tuple[List[Optional[EventInput]], List[Optional[Dict[str, Any]]]]:
    parsed, results = [], []
    for index, raw in enumerate(raw_events):
        try:
            event = EventIn.parse_obj(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = _field_of(error["loc"]) or "event"
            parsed.append(None)
            event_id = raw.get("event_id") if isinstance(raw, dict) and isinstance(raw.get("event_id"), str) else None
            results.append(_result(index, event_id, "rejected", _prefixed(field, index, single), error["msg"]))
            continue
        parsed.append(EventInput(type=event.type, product_id=event.product_id, user_id=event.user_id,
                                 session_id=event.session_id, event_id=event.event_id, timestamp=event.timestamp,
                                 value=event.value, recommendation_id=event.recommendation_id, properties=event.properties))
        results.append(None)
    return parsed, results


def _prefixed(field, index: int, single: bool):
    if field is None or single:
        return field
    return f"events[{index}].{field}"

