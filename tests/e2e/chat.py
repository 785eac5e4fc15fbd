"""What an end-to-end test says to the assistant over the REST channel, and how it reads the replies."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import List

import requests


def say(rasa_url: str, sender: str, message: str) -> List[dict]:
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def parse(rasa_url: str, token: str, text: str) -> dict:
    """Rasa's ``/model/parse``: part of its HTTP API, so it needs the token."""
    response = requests.post(f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def stored_user_texts(workdir: Path, sender: str) -> List[str]:
    """What the conversation store holds of what the shopper typed."""
    with sqlite3.connect(workdir / "conversations.db") as connection:
        rows = connection.execute("select data from events where sender_id = ? and type_name = 'user' order by id",
                                  (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def products_in(replies: List[dict]) -> List[dict]:
    payloads = [r["custom"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "products"]
    assert len(payloads) == 1, replies
    return payloads[0]["products"]


def texts_of(replies: List[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def custom_of(replies: List[dict], kind: str) -> dict:
    found = [r["custom"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == kind]
    assert len(found) == 1, json.dumps(replies, ensure_ascii=False)
    return found[0]
