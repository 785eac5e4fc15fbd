"""The shop API's answer when its database is unreachable: 503, the one error shape, ``Retry-After``; any other
database error stays a plain 500. The handlers are called as FastAPI calls them (no server needed; the
production outage test, ``tests/production/test_outages.py``, sees the same through nginx)."""
from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.requests import Request

from shop_api.errors import RETRY_AFTER_S, install


def answer(error: DBAPIError):
    app = FastAPI()
    install(app)
    request = Request({"type": "http", "method": "POST", "path": "/v1/events", "headers": [], "query_string": b""})
    return asyncio.run(app.exception_handlers[DBAPIError](request, error))


def test_an_unreachable_database_is_a_503_to_retry():
    response = answer(OperationalError("INSERT INTO events ...", {}, Exception("server closed the connection")))
    assert response.status_code == 503 and response.headers["Retry-After"] == str(RETRY_AFTER_S)
    body = json.loads(response.body)
    assert body["error"]["code"] == "unavailable" and "INSERT" not in response.body.decode()


def test_another_database_error_is_a_500_without_its_details():
    response = answer(IntegrityError("INSERT INTO events ...", {}, Exception("duplicate key value")))
    assert response.status_code == 500 and json.loads(response.body)["error"]["code"] == "internal"
    assert "duplicate" not in response.body.decode()
