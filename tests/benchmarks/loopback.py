"""A stand-in aiohttp server on a free loopback port, for the load benchmark's traffic tests."""
from __future__ import annotations

from typing import Awaitable, Callable, TypeVar

from aiohttp import web

from benchmarks.load_servers import LOOPBACK, free_port

T = TypeVar("T")


async def served(app: web.Application, session: Callable[[str], Awaitable[T]]) -> T:
    """``session(base_url)``'s result, with ``app`` serving on loopback while it runs; stopped after."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, LOOPBACK, port).start()
    try:
        return await session(f"http://{LOOPBACK}:{port}")
    finally:
        await runner.cleanup()
