"""The FastAPI application: routes, CORS for the shop's origin, one error shape, a log without shopper ids."""
from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Optional

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actions.services import RecommenderUnavailable, get_recommender

from shop_api import admin, errors, events, products, recommendations, sessions, users
from shop_api.config import ApiConfig
from shop_api.schemas import EventBatch, EventIn

logger = logging.getLogger("shop_api")
STATIC_DIR = Path(__file__).parent / "static"


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Load the recommender before the first request, so a health check that answers means ready."""
    try:
        await run_in_threadpool(get_recommender)
    except RecommenderUnavailable as exc:  # requests answer 503 and the next one tries again
        logger.error("recommender not loaded at start: %s", exc)
    yield


def create_app(config: Optional[ApiConfig] = None) -> FastAPI:
    config = config or ApiConfig.from_env()
    app = FastAPI(lifespan=_lifespan, title="Daogou shop API", version="1.0",
                  description="Events, products and recommendations for a shop site; the same recommender as the chat. "
                              "Writes, admin and per-shopper data need `Authorization: Bearer $DAOGOU_API_TOKEN`.")
    app.state.config = config
    app.state.var_dir = config.var_dir
    errors.install(app)
    for module in (events, sessions, recommendations, products, users, admin):
        app.include_router(module.router)
    app.add_middleware(CORSMiddleware, allow_origins=list(config.origins), allow_methods=["GET", "POST", "PUT", "DELETE"],
                       allow_headers=["Authorization", "Content-Type", "Accept-Language"], max_age=600)
    app.add_middleware(AccessLog)
    app.openapi = lambda: _openapi(app)
    if STATIC_DIR.is_dir():  # the demo shop and chat widget, after the API routes
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="shop")
    return app


class AccessLog:
    """Method, route template, status and time: never the query string or a path with a shopper id in it.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs every
    request through an extra task and memory stream, a measurable share of a small request's CPU.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            logger.info("%s %s %d %.1fms", scope["method"], getattr(route, "path", "-"), status[0],
                        (time.perf_counter() - started) * 1000)


def _openapi(app: FastAPI) -> dict:
    """The generated schema plus the event shapes ``POST /v1/events`` reads by hand."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (EventIn, EventBatch):
            definition = model.schema(ref_template="#/components/schemas/{model}")
            components.update(definition.pop("definitions", {}))
            components[model.__name__] = definition
        schema["components"].setdefault("securitySchemes", {})
        errors.document(schema)
        app.openapi_schema = schema
    return app.openapi_schema
