"""schemathesis against the shop API's own OpenAPI schema: whatever a client sends, no 5xx, and every answer
is what the schema promises (status code, content type, body).

A live shop API (started as ``make run`` starts it, alone: the chat is not needed) with the token, so the
generated requests reach the handlers instead of stopping at 401. Bounded examples per operation keep it
under two minutes. Left out: ``POST /v1/admin/retrain``, which starts a training run per example.
"""
from __future__ import annotations

import secrets
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from daogou_server.processes import ServerGroup, free_port
from daogou_server.stack import StackConfig, servers
from tests.e2e.conftest import RASA_MODEL, STARTUP_SECONDS

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory) -> Iterator[StackConfig]:
    config = StackConfig(rasa_model=RASA_MODEL, var_dir=tmp_path_factory.mktemp("fuzz"), rasa_token="unused",
                         api_token=secrets.token_urlsafe(16), rasa_port=free_port(), action_port=free_port(),
                         api_port=free_port())
    shop_api = [spec for spec in servers(config) if spec.name == "shop-api"]
    with ServerGroup(shop_api, config.var_dir / "logs", STARTUP_SECONDS):
        yield config


@pytest.fixture(scope="module")
def api_schema(fuzzed_api):
    return schemathesis.openapi.from_url(f"{fuzzed_api.api_url}/openapi.json", timeout=30)


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/v1/admin/retrain")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_the_shop_api_answers_every_generated_request_as_its_schema_says(case, fuzzed_api):
    case.call_and_validate(base_url=fuzzed_api.api_url, headers={"Authorization": f"Bearer {fuzzed_api.api_token}"},
                           checks=CHECKS, timeout=30)
