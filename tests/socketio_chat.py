"""A socket.io chat client for the tests, as the widget talks to Rasa: session request, then messages."""
from __future__ import annotations

import asyncio
from typing import Callable, List, Optional, Union

import socketio


async def converse(url: str, session_id: str, messages: List[str], metadata: Optional[dict] = None,
                   first_reply_s: Union[float, Callable[[str], float]] = 60, quiet_s: float = 2,
                   reply_required: bool = True) -> List[List[dict]]:
    """Connect, ask for the session, send each message and collect what comes back until it goes quiet.

    ``first_reply_s``: how long to wait for a message's first reply (or a function of the message);
    without ``reply_required`` a message may get none (a hostile one that the channel refuses)."""
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    client.on("session_confirm", lambda data: confirmed.set())
    await client.connect(url, transports=["polling"], socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 30)
        answers = []
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id, "metadata": metadata or {}})
            wait_s = first_reply_s(message) if callable(first_reply_s) else first_reply_s
            replies: List[dict] = []
            try:
                replies.append(await asyncio.wait_for(received.get(), wait_s))
                while True:
                    replies.append(await asyncio.wait_for(received.get(), quiet_s))
            except asyncio.TimeoutError:
                if reply_required and not replies:
                    raise
            answers.append(replies)
        return answers
    finally:
        await hang_up(client)


async def hang_up(client: socketio.AsyncClient) -> None:
    """Disconnect without waiting out the long-poll in flight (up to the server's 25 s ping interval)."""
    try:
        await asyncio.wait_for(client.disconnect(), 3)
    except asyncio.TimeoutError:
        pass
