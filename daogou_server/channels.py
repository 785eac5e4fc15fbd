"""Rasa's socket.io channel, able to carry Daogou's product and comparison payloads.

Rasa 3.6's ``SocketIOOutput.send_custom_json`` calls ``sio.emit(event, **payload)``: a payload such as
``{"type": "products", ...}`` becomes keyword arguments python-socketio 5 does not take, and the message
is lost with a ``TypeError`` (RasaHQ/rasa #8445, still open). Here a custom payload travels as one
message, ``{"custom": {...}}``: the same shape the REST channel answers with, so a client reads both
alike. Text, buttons and images are sent as Rasa sends them.

The incoming handlers are Rasa's, re-registered: the message handler answers through this output channel
(Rasa's builds its own inside the blueprint) and drops metadata that is not valid JSON instead of raising
in the server; the session handler awaits ``enter_room``, a coroutine since python-socketio 5.10 (Rasa
calls it without ``await``, so with the python-socketio the lock file pins no answer ever reached a
persistent session's room).
"""
from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from daogou_server.action_failure import conversation_lost, politely
from daogou_server.input_checks import cut, page_metadata, sender_problem

logger = logging.getLogger(__name__)


class DaogouSocketIOOutput(SocketIOOutput):
    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if conversation_lost():  # replies to a conversation the tracker store could not give: held back
            return
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class DaogouSocketIOInput(SocketIOInput):
    """``credentials.yml``: ``daogou_server.channels.DaogouSocketIOInput`` with Rasa's socket.io options."""

    def get_output_channel(self) -> Optional[SocketIOOutput]:
        return DaogouSocketIOOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = politely(on_new_message)  # "one moment" when an action fails, as on REST
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if sender_problem(session_id):  # none, or one no conversation can be stored under: a new one
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                sender_id = data.get("session_id")
                problem = sender_problem(sender_id)
                if problem:
                    logger.warning("a socket.io message was ignored (%s)", problem.split(":")[0])
                    return
            else:
                sender_id = sid
            text = data.get("message", "")
            text = cut(text) if isinstance(text, str) else ""
            await on_new_message(UserMessage(text, DaogouSocketIOOutput(sio, self.bot_message_evt), sender_id,
                                             input_channel=self.name(), metadata=page_metadata(data.get(self.metadata_key))))

        return blueprint
