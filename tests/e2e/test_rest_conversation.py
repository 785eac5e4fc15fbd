"""End to end: the real Rasa server and action server, talked to over the REST channel.

Starts both servers on free ports with the trained models in ``models/`` (``make test``
trains them first), then posts what a shopper would type.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

import pytest
import requests

from recsys import Catalog

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RASA_MODEL = PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz"
STARTUP_SECONDS = 240

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not up after {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def rasa_url(tmp_path_factory) -> Iterator[str]:
    assert RASA_MODEL.exists(), "no trained Rasa model: run `make models` (make test does)"
    workdir = tmp_path_factory.mktemp("servers")
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    commands = {
        "actions": [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
        "rasa": [str(BIN / "rasa"), "run", "--enable-api", "--port", str(rasa_port), "--model", str(RASA_MODEL),
                 "--credentials", "credentials.yml", "--endpoints", str(endpoints)],
    }
    processes = {}
    try:
        for name, command in commands.items():
            log = workdir / f"{name}.log"
            processes[name] = (subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True), log)
        wait_until_up(f"http://127.0.0.1:{action_port}/health", *processes["actions"])
        wait_until_up(f"http://127.0.0.1:{rasa_port}/status", *processes["rasa"])
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for process, _ in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(PROJECT_ROOT / "data/catalog/products.jsonl", PROJECT_ROOT / "data/catalog/aliases.yml")


def say(rasa_url: str, sender: str, message: str) -> List[dict]:
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def products_in(replies: List[dict]) -> List[dict]:
    payloads = [r["custom"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "products"]
    assert len(payloads) == 1, replies
    return payloads[0]["products"]


@pytest.mark.parametrize(
    "message, language_marker",
    [("recommend me a phone under 3000", "Here are"), ("推荐一款3000元以内的手机", "为你推荐")],
)
def test_phone_under_3000(rasa_url, catalog, message, language_marker):
    replies = say(rasa_url, f"e2e-{language_marker}", message)
    products = products_in(replies)
    assert len(products) >= 3
    for product in products:
        assert product["category"] == "phone"
        assert product["price"] <= 3000
        assert product["id"] in catalog
        assert catalog.get(product["id"]).price == product["price"]
        assert product["currency"] == "CNY" and product["reason"]
    text = "\n".join(r.get("text", "") for r in replies)
    assert language_marker in text
    assert all(p["name"] in text for p in products)


def test_parse_reports_intent_and_entities(rasa_url):
    parsed = requests.post(f"{rasa_url}/model/parse", json={"text": "推荐一款3000元以内的手机"}, timeout=30).json()
    assert parsed["intent"]["name"] == "request_recommendation"
    entities = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert ("category", "phone") in entities and ("language", "zh") in entities


@pytest.mark.parametrize(
    "message, expected",
    [
        ("hi", "Daogou"),
        ("你好", "导购"),
        ("any tablets under 2000?", "tablets"),
        ("推荐一款100元以内的笔记本", "最便宜的是"),
    ],
)
def test_other_turns_answer_in_the_shoppers_language(rasa_url, message, expected):
    replies = say(rasa_url, "e2e-other", message)
    assert expected in "\n".join(r.get("text", "") for r in replies), json.dumps(replies, ensure_ascii=False)


@pytest.mark.parametrize("message", ["", " ", "x" * 5000, "🙂" * 50, '{"json": true}'])
def test_odd_messages_get_an_answer_not_an_error(rasa_url, message):
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": "e2e-odd", "message": message}, timeout=60)
    assert response.status_code == 200


CATEGORY_REQUESTS = {
    "phone": ("recommend me a phone", "推荐一款手机"),
    "laptop": ("any good laptops?", "推荐个笔记本"),
    "tablet": ("I need a tablet", "想买个平板"),
    "headphones": ("recommend some earbuds", "推荐一款蓝牙耳机"),
    "smartwatch": ("looking for a smartwatch", "推荐个智能手表"),
    "camera": ("suggest a camera", "想买个相机"),
    "monitor": ("recommend a monitor", "推荐一款显示器"),
    "tv": ("I want a new tv", "推荐一款电视"),
    "speaker": ("recommend a bluetooth speaker", "推荐个音箱"),
    "accessory": ("I need a charger", "推荐一个充电宝"),
}


@pytest.mark.parametrize("category, language", [(c, lang) for c in CATEGORY_REQUESTS for lang in (0, 1)])
def test_every_category_in_both_languages(rasa_url, catalog, category, language):
    message = CATEGORY_REQUESTS[category][language]
    products = products_in(say(rasa_url, f"e2e-cat-{category}-{language}", message))
    assert products and all(p["category"] == category and p["id"] in catalog for p in products), message
