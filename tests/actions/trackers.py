"""Real Rasa SDK trackers and a runner for action tests."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker(text: str, intent: str = "request_recommendation", entities: Optional[List[Dict[str, Any]]] = None,
            sender: str = "shopper-test", slots: Optional[Dict[str, Any]] = None,
            input_channel: Optional[str] = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.98}, "entities": entities or []}
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest, "input_channel": input_channel}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action: Action, t: Tracker) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """The messages the action sent and the slots it set."""
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, domain={})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["custom"] for m in messages if m.get("custom")]
