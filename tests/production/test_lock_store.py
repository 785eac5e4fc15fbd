"""Two Rasa servers sharing one Redis lock store: one shopper's messages never run at once, none is lost.

Each "server" is a thread with its own event loop and its own lock store
instance (its own Redis connection), as two Rasa processes have. The guarded
body does what Rasa does under the lock: read the conversation, think, write
it back. Without mutual exclusion two bodies read the same state and one
write is lost; the test counts that directly.
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import List

import pytest
import redis as redis_lib
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from daogou_server.lock_store import AtomicRedisLockStore

MESSAGES_PER_SERVER = 20


def make_store(redis_server, prefix: str) -> AtomicRedisLockStore:
    config = EndpointConfig(type="daogou_server.lock_store.AtomicRedisLockStore", url="127.0.0.1",
                            port=redis_server.port, db=0, key_prefix=prefix)
    store = LockStore.create(config)  # the same path Rasa takes from endpoints.yml
    assert isinstance(store, AtomicRedisLockStore)
    return store


def run_server(store: AtomicRedisLockStore, shared: redis_lib.Redis, sender: str, name: str,
               overlaps: List[str], log: List[str], start: threading.Barrier) -> None:
    async def handle(index: int) -> None:
        async with store.lock(sender):
            if shared.incr("inside") != 1:
                overlaps.append(f"{name}-{index}")
            state = int(shared.get("conversation") or 0)  # read the tracker ...
            await asyncio.sleep(0.003)  # ... run the policies and actions ...
            shared.set("conversation", state + 1)  # ... and save it
            log.append(f"{name}-{index}")
            shared.decr("inside")

    async def main() -> None:
        await asyncio.gather(*(handle(i) for i in range(MESSAGES_PER_SERVER)))

    start.wait()
    asyncio.run(main())


@pytest.mark.parametrize("round_", range(6))
def test_two_servers_one_shopper_nothing_lost_or_doubled(redis_server, round_: int) -> None:
    shared = redis_lib.Redis(host="127.0.0.1", port=redis_server.port, db=1)
    shared.flushdb()
    overlaps: List[str] = []
    log: List[str] = []
    start = threading.Barrier(2)
    sender = f"shopper-{round_}"
    threads = [threading.Thread(target=run_server, args=(make_store(redis_server, f"r{round_}"), shared, sender,
                                                          name, overlaps, log, start)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert overlaps == []
    assert int(shared.get("conversation")) == 2 * MESSAGES_PER_SERVER  # no update lost
    assert sorted(log) == sorted(f"{n}-{i}" for n in "ab" for i in range(MESSAGES_PER_SERVER))  # none doubled


def test_tickets_are_served_in_the_order_they_were_issued(redis_server) -> None:
    store = make_store(redis_server, "order")
    served: List[int] = []

    async def main() -> None:
        async def handle(index: int) -> None:
            async with store.lock("s"):
                served.append(index)
                await asyncio.sleep(0.002)

        tasks = []
        for index in range(8):
            tasks.append(asyncio.create_task(handle(index)))
            await asyncio.sleep(0)  # each task takes its ticket before the next is created
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert served == list(range(8))
    assert not store.is_someone_waiting("s")


def test_a_dead_holder_does_not_block_the_shopper(redis_server) -> None:
    store = make_store(redis_server, "dead")
    store.issue_ticket("s", lock_lifetime=0.3)  # a server took the lock and was killed: never released

    async def main() -> float:
        began = time.monotonic()
        async with store.lock("s", lock_lifetime=5):
            return time.monotonic() - began

    waited = asyncio.run(main())
    assert 0.2 < waited < 5  # waited for the dead ticket to expire, then was served


def test_redis_down_is_a_lock_error_and_recovers(redis_server) -> None:
    store = make_store(redis_server, "fault")
    redis_server.stop()
    try:
        with pytest.raises(LockError, match="unavailable"):
            asyncio.run(_hold(store))
    finally:
        redis_server.start()
    asyncio.run(_hold(store))  # the same store object works again: no restart of our process
    assert not store.is_someone_waiting("s")


async def _hold(store: AtomicRedisLockStore) -> None:
    async with store.lock("s"):
        pass


def test_a_store_idle_through_a_redis_restart_works_at_its_first_message(redis_server) -> None:
    """A Rasa server that received nothing during the outage holds a connection Redis has closed (redis-py 4.6
    finds it closed and reconnects; a ticket is never retried, which could take two)."""
    store = make_store(redis_server, "idle")
    asyncio.run(_hold(store))  # a pooled connection, opened before the restart
    redis_server.restart()
    asyncio.run(_hold(store))  # not a LockError
    assert not store.is_someone_waiting("s")
