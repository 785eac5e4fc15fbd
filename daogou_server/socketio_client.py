"""A socket.io chat client, as the widget talks to Rasa: session request, then messages.

One client for every caller: the end-to-end and production tests (:func:`converse`) and the load
benchmark's socket.io shoppers (:class:`SocketIOChat`, one connection per shopper, one call per message).
"""
from __future__ import annotations

import asyncio
from typing import Callable, List, Optional, Union

import socketio


class SocketIOChat:
    """One shopper's socket.io connection: ``async with SocketIOChat(url, session_id) as chat: await chat.say(...)``.

    :meth:`say` waits for Rasa's handler to finish (the client asks for an acknowledgement, which
    python-socketio sends when the server's ``user_uttered`` handler returns, after every reply of the
    turn was emitted), so a turn's end is known without waiting for the line to go quiet.
    """

    def __init__(self, url: str, session_id: str, session_timeout_s: float = 30):
        self.url, self.session_id, self.session_timeout_s = url, session_id, session_timeout_s
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue = asyncio.Queue()
        self._confirmed = asyncio.Event()
        self.client.on("bot_uttered", lambda data: self.received.put_nowait(data))
        self.client.on("session_confirm", lambda data: self._confirmed.set())

    async def connect(self) -> "SocketIOChat":
        # python-socketio waits 1 s for the namespace by default: a busy Rasa server answers later than that
        await self.client.connect(self.url, transports=["polling"], socketio_path="/socket.io",
                                  wait_timeout=self.session_timeout_s)
        try:
            await self.client.emit("session_request", {"session_id": self.session_id})
            await asyncio.wait_for(self._confirmed.wait(), self.session_timeout_s)
        except BaseException:
            await hang_up(self.client)
            raise
        return self

    async def send(self, message: str, metadata: Optional[dict] = None) -> None:
        """Send one message without waiting for anything (replies arrive on :attr:`received`)."""
        await self.client.emit("user_uttered", self._payload(message, metadata))

    async def say(self, message: str, timeout_s: float, metadata: Optional[dict] = None) -> List[dict]:
        """Send one message and return every reply of its turn (``asyncio.TimeoutError`` after ``timeout_s``)."""
        self.drain()  # a late reply of an earlier turn that timed out is not this turn's
        try:
            await self.client.call("user_uttered", self._payload(message, metadata), timeout=timeout_s)
        except socketio.exceptions.TimeoutError:
            raise asyncio.TimeoutError(f"no end of turn within {timeout_s} s") from None
        return self.drain()

    def drain(self) -> List[dict]:
        replies = []
        while not self.received.empty():
            replies.append(self.received.get_nowait())
        return replies

    def _payload(self, message: str, metadata: Optional[dict]) -> dict:
        return {"message": message, "session_id": self.session_id, "metadata": metadata or {}}

    async def close(self) -> None:
        await hang_up(self.client)

    async def __aenter__(self) -> "SocketIOChat":
        return await self.connect()

    async def __aexit__(self, *exc_info) -> None:
        await self.close()


async def converse(url: str, session_id: str, messages: List[str], metadata: Optional[dict] = None,
                   first_reply_s: Union[float, Callable[[str], float]] = 60, quiet_s: float = 2,
                   reply_required: bool = True) -> List[List[dict]]:
    """Connect, ask for the session, send each message and collect what comes back until it goes quiet.

    ``first_reply_s``: how long to wait for a message's first reply (or a function of the message);
    without ``reply_required`` a message may get none (a hostile one that the channel refuses)."""
    async with SocketIOChat(url, session_id) as chat:
        answers = []
        for message in messages:
            await chat.send(message, metadata)
            wait_s = first_reply_s(message) if callable(first_reply_s) else first_reply_s
            replies: List[dict] = []
            try:
                replies.append(await asyncio.wait_for(chat.received.get(), wait_s))
                while True:
                    replies.append(await asyncio.wait_for(chat.received.get(), quiet_s))
            except asyncio.TimeoutError:
                if reply_required and not replies:
                    raise
            answers.append(replies)
        return answers


async def hang_up(client: socketio.AsyncClient) -> None:
    """Disconnect without waiting out the long-poll in flight (up to the server's 25 s ping interval)."""
    try:
        await asyncio.wait_for(client.disconnect(), 3)
    except asyncio.TimeoutError:
        pass
