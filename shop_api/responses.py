"""Answers written straight to JSON, past FastAPI's response-model pass.

The routes keep their ``response_model`` (it documents the shape in ``/openapi.json``), but a route that
returns a :class:`~starlette.responses.Response` is sent as it is: FastAPI's validation and
``jsonable_encoder`` walk of the answer cost more CPU than the recommendation itself (a profile of
``GET /v1/recommendations`` under load: a quarter of the worker's time). The shapes are held to the
schema by the tests and the schemathesis run instead.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class CompactJSONResponse(Response):
    """UTF-8 JSON without spaces (Chinese names stay readable, and shorter than ``\\u`` escapes)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
