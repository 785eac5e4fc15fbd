"""One error shape for every refusal: ``{"error": {"code", "message", "field"}}``, never a stack trace."""
from __future__ import annotations

import logging
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from recsys import QueryError

logger = logging.getLogger(__name__)
#: What a client is told to wait before retrying while the database is unreachable.
RETRY_AFTER_S = 5


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_body(code: str, message: str, field: Optional[str] = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field}}


def _field_of(location) -> Optional[str]:
    """``("body", "events", 3, "type")`` -> ``events[3].type``; the request part itself is left out."""
    parts = [p for p in location if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def document(schema: dict) -> None:
    """Say in the OpenAPI schema what every operation may refuse with: any 4xx in the one error shape
    (``ErrorOut``), FastAPI's 422 included (this module answers it in that shape). A 4xx an operation
    documents with a body of its own (``POST /v1/events`` answers a rejected event with its results)
    may be either."""
    from shop_api.schemas import ErrorOut

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    definition = ErrorOut.schema(ref_template="#/components/schemas/{model}")
    components.update(definition.pop("definitions", {}))
    components["ErrorOut"] = definition
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    fastapi_422 = {"$ref": "#/components/schemas/HTTPValidationError"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code in [code for code in responses if code.startswith("4")]:
                own = responses[code].get("content", {}).get("application/json", {}).get("schema")
                body = error_ref if own in (None, fastapi_422, error_ref) else {"anyOf": [own, error_ref]}
                responses[code] = {"description": responses[code].get("description", "Refused"),
                                   "content": {"application/json": {"schema": body}}}
            responses.setdefault("4XX", {"description": "Refused: the error names the field when one is wrong",
                                         "content": {"application/json": {"schema": error_ref}}})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=headers)

    @app.exception_handler(QueryError)
    async def query_error(_: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse(error_body("invalid", str(exc)), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_of(first.get("loc", ()))
        message = "malformed JSON" if first.get("type") == "value_error.jsondecode" else first.get("msg", "invalid")
        return JSONResponse(error_body("invalid", f"{field}: {message}" if field else message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body("http_error", str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        """The database unreachable (stopped, restarting, a dropped connection): 503 with ``Retry-After``,
        so a client retries the same request (an event is stored once by its id, however often it is sent).
        Any other database error is a bug: the 500 below."""
        if not (exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))):
            return await unexpected(request, exc)
        route = request.scope.get("route")
        logger.warning("database unavailable on %s %s: %s", request.method, getattr(route, "path", "-"),
                       type(exc.orig).__name__)
        return JSONResponse(error_body("unavailable", "the database is unavailable; retry in a few seconds (the event "
                                       "log is unchanged unless a status said stored)"),
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = request.scope.get("route")  # the template, never a path with a shopper id in it
        logger.exception("unexpected error on %s %s", request.method, getattr(route, "path", "-"))
        return JSONResponse(error_body("internal", "internal error; the event log is unchanged unless a status said stored"),
                            status_code=500)
