"""A polite "one moment" when the action server or a data store fails, instead of Rasa 3.6's silence.

When the action endpoint cannot be reached or answers an error, Rasa 3.6's ``MessageProcessor._run_action``
logs "Encountered an exception while running action ...", drops the action's events and sends the shopper
nothing. Rasa offers no hook there, so we watch for exactly that record: :func:`politely` wraps a channel's
``on_new_message``; while one message is handled, a logging handler on ``rasa.core.processor`` marks the
message's own context (a ``ContextVar``: the processor runs in the channel's task, and concurrent shoppers each
have their own) and, if it was marked, the shopper gets :data:`ONE_MOMENT` in their language. The next
message goes to the action server as usual, so service resumes by itself once it is back.

The same answer covers the production profile's data stores (issue 21, PostgreSQL or Redis briefly
unavailable). Redis gone: the lock store raises ``LockError`` before anything is read; it reaches
:func:`politely`, not Rasa's REST handler (which would log the message text and answer an empty list).
PostgreSQL gone: Rasa's ``FailSafeTrackerStore`` swallows the tracker store's error and carries on with a
new, empty conversation (answering as if the shopper had never spoken, and keeping it in memory), so our
tracker store marks the message instead (:func:`note_store_failure`) and stores nothing; the message's
replies are then held back (REST: dropped from the answer; socket.io: not emitted, :func:`conversation_lost`)
and the shopper gets :data:`ONE_MOMENT`. Either way nothing of that message is stored, and the next one,
once the store is back, continues the stored conversation.
"""
from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
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

#: What :func:`note_store_failure` records, beside the loggers of failed actions.
TRACKER_STORE, LOCK_STORE = "tracker store", "lock store"

logger = logging.getLogger(__name__)
_failures: ContextVar[Optional[List[str]]] = ContextVar("daogou_action_failures", default=None)


def note_store_failure(store: str) -> bool:
    """Mark the message being handled as failed because ``store`` is unavailable; False when no message is
    being handled (Rasa's HTTP API): the caller then raises."""
    failures = _failures.get()
    if failures is None:
        return False
    if store not in failures:
        failures.append(store)
    return True


def conversation_lost() -> bool:
    """Whether the message being handled lost its conversation (the tracker store failed): its replies
    answer a conversation that is not the shopper's, and are not sent."""
    return TRACKER_STORE in (_failures.get() or ())


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
        except LockError as error:  # Redis unavailable (daogou_server.lock_store): nothing was read or stored
            failures.append(LOCK_STORE)
            logger.warning("A message was not handled: %s", error)
        finally:
            _failures.reset(token)
        if TRACKER_STORE in failures:
            logger.warning("A message was not handled: the tracker store is unavailable; nothing of it was stored.")
            if isinstance(message.output_channel, CollectingOutputChannel):
                message.output_channel.messages.clear()
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
