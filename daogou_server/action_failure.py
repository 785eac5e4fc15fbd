"""A polite "one moment" when the action server fails, instead of Rasa 3.6's silence.

When the action endpoint cannot be reached or answers an error, Rasa 3.6's ``MessageProcessor._run_action``
logs "Encountered an exception while running action ...", drops the action's events and sends the shopper
nothing. Rasa offers no hook there, so we watch for exactly that record: :func:`politely` wraps a channel's
``on_new_message``; while one message is handled, a logging handler on ``rasa.core.processor`` marks the
message's own context (a ``ContextVar``: the processor runs in the channel's task, and concurrent shoppers each
have their own) and, if it was marked, the shopper gets :data:`ONE_MOMENT` in their language. The next
message goes to the action server as usual, so service resumes by itself once it is back.
"""
from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import response
from sanic.request import Request

from daogou_nlu.language_detection import detect_language
from daogou_server import rasa_speedups
from daogou_server.input_checks import cut, page_metadata, rest_body_problem

#: The record Rasa 3.6's processor writes when a custom action failed (rasa/core/processor.py, _run_action).
FAILURE_RECORD = "Encountered an exception while running action"
ONE_MOMENT = {
    "en": "Sorry, I need a moment to look that up. Please try again in a few seconds.",
    "zh": "抱歉，我需要一点时间查询，请稍后几秒再试一次。",
}

_failures: ContextVar[Optional[List[str]]] = ContextVar("daogou_action_failures", default=None)


class _FailureWatch(logging.Handler):
    """Notes a failed action in the context of the message being handled (nothing when none is watched)."""

    def emit(self, record: logging.LogRecord) -> None:
        failures = _failures.get()
        if failures is not None and str(record.msg).startswith(FAILURE_RECORD):
            failures.append(record.name)


_WATCH = _FailureWatch(level=logging.ERROR)
rasa_speedups.install()  # Rasa 3.6's per-turn hot spots, fixed in place (see the module)
logging.getLogger("rasa.core.processor").addHandler(_WATCH)


def politely(on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Callable[[UserMessage], Awaitable[None]]:
    """``on_new_message`` that tells the shopper to wait a moment when one of the message's actions failed."""

    async def handle(message: UserMessage) -> None:
        failures: List[str] = []
        token = _failures.set(failures)
        try:
            await on_new_message(message)
        finally:
            _failures.reset(token)
        if failures and message.output_channel is not None:
            language = detect_language(message.text or "")
            await message.output_channel.send_text_message(message.sender_id, ONE_MOMENT.get(language, ONE_MOMENT["en"]))

    return handle


class PoliteRestInput(RestInput):
    """Rasa's REST channel (same name, so the same ``/webhooks/rest/webhook``) with :func:`politely`, refusing
    malformed requests with a 400 (:mod:`daogou_server.input_checks`) before Rasa reads them."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]):
        blueprint = super().blueprint(politely(on_new_message))

        @blueprint.middleware("request")
        async def refuse_malformed(request: Request):
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            try:
                problem = rest_body_problem(request.json)
            except Exception:  # noqa: BLE001 - not JSON, or not UTF-8: Sanic raises its own 400 types
                problem = "the body must be JSON in UTF-8"
            return response.json({"error": problem}, status=400) if problem else None

        return blueprint

    def _extract_message(self, req: Request) -> Optional[Text]:
        return cut(req.json["message"])

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return page_metadata(request.json.get("metadata"))
