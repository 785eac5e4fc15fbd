"""What shoppers type and who they are never reach the logs: every server of the stack, at its default level."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.chat import say

pytestmark = pytest.mark.e2e


def test_no_message_text_and_no_shopper_id_in_any_log(stack, rasa_url, shop_api_url, api_token):
    sender = f"private-shopper-{uuid.uuid4().hex}"
    marker = f"zebracorn{uuid.uuid4().hex[:8]}"
    say(rasa_url, sender, f"recommend me a phone under 3000 {marker}")
    say(rasa_url, sender, f"推荐一款手机 {marker}")
    say(rasa_url, sender, "add the first one to my cart")
    auth = {"Authorization": f"Bearer {api_token}"}
    requests.post(f"{shop_api_url}/v1/events", json={"user_id": sender, "type": "view", "product_id": "nope"},
                  headers=auth, timeout=30)
    requests.get(f"{shop_api_url}/v1/recommendations", params={"user_id": sender}, timeout=30)
    requests.get(f"{shop_api_url}/v1/users/{sender}/data", headers=auth, timeout=30)
    logs = {path.name: path.read_text(errors="replace") for path in (stack.var_dir / "logs").glob("*.log")}
    assert {"rasa.log", "actions.log", "shop-api.log"} <= set(logs)
    assert "GET /v1/recommendations 200" in logs["shop-api.log"]  # the access log is there, without ids
    for name, text in logs.items():
        assert marker not in text, f"message text in {name}"
        assert sender not in text, f"shopper id in {name}"
        assert api_token not in text and stack.rasa_token not in text, f"a token in {name}"
