"""``POST /v1/events``: one event or a batch, each answered stored, duplicate or rejected (naming the field)."""
from __future__ import annotations

import json
from typing import Any, List, Tuple

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from recsys import EventInput, EventOutcome, Recommender
from shop_api.auth import require_event_writer
from shop_api.errors import ApiError, _field_of
from shop_api.schemas import MAX_BATCH, EventBatch, EventIn, EventResult, EventsResponse
from shop_api.service import recommender

router = APIRouter(prefix="/v1", tags=["events"])

#: The body is one event or ``{"events": [...]}``; read by hand so that one bad event in a batch is
#: answered on its own instead of failing the batch.
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [{"$ref": "#/components/schemas/EventIn"}, {"$ref": "#/components/schemas/EventBatch"}]}}}}}
MAX_BODY_BYTES = 2_000_000


@router.post("/events", response_model=EventsResponse, dependencies=[Depends(require_event_writer)], openapi_extra=_BODY,
             responses={422: {"description": "A single event rejected, malformed JSON, or a batch over the limit"}},
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
        results[index] = EventResult(index=index, event_id=outcome.event_id, status=outcome.status,
                                     field=_prefixed(outcome.field, index, single), error=outcome.error)
    response = EventsResponse(stored=sum(r.status == "stored" for r in results),
                              duplicate=sum(r.status == "duplicate" for r in results),
                              rejected=sum(r.status == "rejected" for r in results), results=results)
    status = 422 if single and response.rejected else 200
    return JSONResponse(json.loads(response.json()), status_code=status)


def _parse(raw_events: list, single: bool) -> Tuple[List[EventInput], List[EventResult]]:
    parsed, results = [], []
    for index, raw in enumerate(raw_events):
        try:
            event = EventIn.parse_obj(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = _field_of(error["loc"]) or "event"
            parsed.append(None)
            results.append(EventResult(index=index, event_id=raw.get("event_id") if isinstance(raw, dict) and isinstance(raw.get("event_id"), str) else None,
                                       status="rejected", field=_prefixed(field, index, single), error=error["msg"]))
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

