"""What the chat channels accept from a client, checked before Rasa sees it.

Why: Rasa's REST channel trusts its request. A body that is a JSON list, or a message that is a number,
ends in an exception and a 500; a request without a sender joins the shared conversation "default" (every
such client would read the others' history); and a sender id longer than Rasa's ``events.sender_id``
column (255) or holding a NUL byte makes PostgreSQL refuse the save, after the shopper was answered.
Here each is refused with a 400 that says which field is wrong, and nothing is stored. Very long
messages are cut, as the socket.io channel cuts them, so one request cannot hold the NLU for long.
"""
from __future__ import annotations

import json
import unicodedata
from typing import Any, Dict, Optional, Text

#: Rasa's tracker store keeps sender ids in a VARCHAR(255) column.
MAX_SENDER_CHARS = 255
#: A message longer than this is cut (a shopper types far less).
MAX_MESSAGE_CHARS = 5000


def sender_problem(sender: Any) -> Optional[str]:
    """Why ``sender`` cannot name a conversation, or None when it can."""
    if not isinstance(sender, str) or not sender.strip():
        return "sender: a non-empty string is required"
    if len(sender) > MAX_SENDER_CHARS:
        return f"sender: at most {MAX_SENDER_CHARS} characters"
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in sender):
        return "sender: control characters are not allowed"
    return None


def rest_body_problem(body: Any) -> Optional[str]:
    """Why a REST channel request body is refused, or None when Rasa may handle it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    problem = sender_problem(body.get("sender"))
    if problem:
        return problem
    if not isinstance(body.get("message"), str):
        return "message: a string is required"
    return None


def cut(text: Text) -> Text:
    return text[:MAX_MESSAGE_CHARS]


def page_metadata(raw: Any) -> Dict[Text, Any]:
    """The page context a client sends (current product, cart, locale): an object, or nothing."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}
