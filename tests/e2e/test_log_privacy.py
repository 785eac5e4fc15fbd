"""No shopper id and no message text in any server's log at the default log level (issue 21, privacy).

A conversation with a unique marker as both sender id and message text goes through the stack as ``make run``
starts it (REST chat, ``/model/parse``, the shop API's events and recommendations); the marker must then be in
the conversation store (so the test did reach the servers) and in none of the servers' logs.
"""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.chat import parse, say, stored_user_texts

pytestmark = pytest.mark.e2e


def test_neither_shopper_ids_nor_message_text_reach_the_logs(stack, server_group, workdir, catalog):
    marker = f"zq{uuid.uuid4().hex[:12]}"
    sender, text = f"shopper-{marker}", f"recommend me a phone under 3000 {marker}"
    say(stack.rasa_url, sender, text)
    say(stack.rasa_url, sender, f"推荐一款3000元以内的手机 {marker}")
    parse(stack.rasa_url, stack.rasa_token, f"hello {marker}")
    headers = {"Authorization": f"Bearer {stack.api_token}"}
    event = {"event_id": f"ev-{marker}", "user_id": sender, "type": "view", "product_id": catalog.ids[0]}
    assert requests.post(f"{stack.api_url}/v1/events", json=event, headers=headers, timeout=30).status_code == 200
    assert requests.get(f"{stack.api_url}/v1/recommendations", params={"user_id": sender}, timeout=30).status_code == 200
    assert any(marker in stored for stored in stored_user_texts(workdir, sender))  # it did go through

    for server in server_group.servers.values():
        log = server.log_tail(10_000_000)
        assert log.strip(), f"{server.spec.name} wrote no log at all: the test would prove nothing"
        assert marker not in log, (server.spec.name, [line for line in log.splitlines() if marker in line][:3])
