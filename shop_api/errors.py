"""One error shape for every refusal: ``{"error": {"code", "message", "field"}}``, never a stack trace."""
from __future__ import annotations

import logging
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from recsys import QueryError

logger = logging.getLogger(__name__)


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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = request.scope.get("route")  # the template, never a path with a shopper id in it
        logger.exception("unexpected error on %s %s", request.method, getattr(route, "path", "-"))
        return JSONResponse(error_body("internal", "internal error; the event log is unchanged unless a status said stored"),
                            status_code=500)
