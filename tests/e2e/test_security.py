"""Rasa's HTTP API behind the token, as `make run` starts it; the chat's REST door stays open for shoppers."""
from __future__ import annotations

import json
import subprocess

import pytest
import requests

from tests.e2e.chat import say, texts_of

pytestmark = pytest.mark.e2e


def tracker_events(rasa_url: str, token: str, sender: str) -> list:
    response = requests.get(f"{rasa_url}/conversations/{sender}/tracker", params={"token": token}, timeout=30)
    assert response.status_code == 200
    return response.json()["events"]


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_the_http_api_refuses_callers_without_the_token(rasa_url, rasa_token, token):
    sender = "security-victim"
    say(rasa_url, sender, "recommend me a phone under 3000")
    stored = len(tracker_events(rasa_url, rasa_token, sender))
    params = {"token": token} if token else {}
    attempts = [
        requests.get(f"{rasa_url}/conversations/{sender}/tracker", params=params, timeout=30),
        requests.post(f"{rasa_url}/conversations/{sender}/tracker/events", params=params,
                      json={"event": "slot", "name": "max_price", "value": 1}, timeout=30),
        requests.put(f"{rasa_url}/model", params=params, json={"model_file": "/tmp/evil.tar.gz"}, timeout=30),
        requests.post(f"{rasa_url}/model/parse", params=params, json={"text": "hi"}, timeout=30),
        requests.get(f"{rasa_url}/status", params=params, timeout=30),
    ]
    for response in attempts:
        assert response.status_code in (401, 403), (response.request.method, response.url, response.status_code)
    assert len(tracker_events(rasa_url, rasa_token, sender)) == stored  # nothing appended
    assert "Here are" in texts_of(say(rasa_url, sender, "recommend me a phone under 3000"))  # the model is unchanged


def test_with_the_token_the_api_answers(rasa_url, rasa_token):
    response = requests.post(f"{rasa_url}/model/parse", params={"token": rasa_token}, json={"text": "hi"}, timeout=30)
    assert response.status_code == 200 and response.json()["intent"]["name"]


def test_cors_answers_only_the_shop_origin(rasa_url, shop_api_url):
    def preflight(url: str, origin: str) -> requests.Response:
        return requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=30)

    for url in (f"{rasa_url}/webhooks/rest/webhook", f"{shop_api_url}/v1/events"):
        assert preflight(url, shop_api_url).headers.get("Access-Control-Allow-Origin") == shop_api_url, url
        assert preflight(url, "https://evil.example").headers.get("Access-Control-Allow-Origin") in (None, ""), url


def test_every_server_listens_on_loopback_only(stack):
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    for port in (stack.rasa_port, stack.action_port, stack.api_port):
        addresses = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")]
        assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), (port, addresses)
