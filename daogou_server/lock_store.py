"""A Redis lock store whose tickets are issued atomically, for two or more Rasa servers.

Why: open-source Rasa's `RedisLockStore` keeps one JSON blob per conversation
and issues a ticket by read-modify-write (get the blob, append a ticket, set
it back). Two servers handling two messages of one shopper at the same moment
can both read the same blob and both write it back, so both hold "ticket 0"
and run the conversation at once: one message's events are lost or doubled
(RasaHQ/rasa #9213; the fix went to Rasa Pro only).

How: every step here is a single atomic Redis command, so no server can undo
another's write.
- The ticket number comes from `INCR` on a per-conversation counter, in one Lua script with its
  queue entry and liveness key.
- The queue is a sorted set (score = ticket number); a holder's liveness is a
  separate key with the lock lifetime as its expiry (`SET ... PX`).
- A waiter is served when its ticket is the lowest in the queue; a ticket at
  the head whose liveness key has expired (its server died) is dropped, as
  Rasa drops expired tickets, so a killed server cannot block a shopper.
Order is first come, first served, across servers.
Configured in `endpoints.yml`: `lock_store: type: daogou_server.lock_store.AtomicRedisLockStore`
with Rasa's `RedisLockStore` keys (url/host, port, db, password, key_prefix).
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.02  # Rasa's default one-second poll would add up to a second per queued message
COUNTER_TTL_MS = 24 * 3600 * 1000  # an idle conversation's counter goes; tickets live seconds, not a day


# Number, liveness key and queue entry in one step: were the queue entry added after the number, a
# later ticket could find itself alone at the head and be served beside this one.
ISSUE_TICKET = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SET', KEYS[3] .. ticket, 1, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return ticket
"""


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` with atomic, first-come-first-served tickets shared by every Rasa server."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Rasa builds a custom lock store from `endpoints.yml` as `cls(endpoint_config=...)`."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _keys(self, conversation_id: Text) -> tuple:
        base = self.key_prefix + conversation_id
        return base + ":counter", base + ":queue", base + ":ticket:"

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Take the next ticket and queue it; a Redis failure becomes Rasa's `LockError`."""
        counter, queue, ticket_prefix = self._keys(conversation_id)
        try:
            ticket = int(self.red.eval(ISSUE_TICKET, 3, counter, queue, ticket_prefix,
                                       COUNTER_TTL_MS, max(1, int(lock_lifetime * 1000))))
        except Exception as error:  # redis.ConnectionError, TimeoutError: the lock store is unavailable
            raise LockError(f"Lock store unavailable while issuing a ticket: {type(error).__name__}") from error
        return ticket

    def _head_is(self, conversation_id: Text, ticket: int) -> bool:
        """Whether `ticket` is first in the queue, after dropping expired tickets ahead of it."""
        _, queue, ticket_prefix = self._keys(conversation_id)
        while True:
            head = self.red.zrange(queue, 0, 0)
            if not head:
                raise LockError(f"Ticket {ticket} of a conversation vanished from the queue.")
            head_ticket = int(head[0])
            if head_ticket == ticket:
                if not self.red.exists(ticket_prefix + str(ticket)):
                    raise LockError("Lock expired while waiting for it.")
                return True
            if self.red.exists(ticket_prefix + str(head_ticket)):
                return False
            self.red.zrem(queue, str(head_ticket))  # holder died or overran its lifetime: as Rasa does

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        _, queue, ticket_prefix = self._keys(conversation_id)
        pipe = self.red.pipeline(transaction=True)
        pipe.delete(ticket_prefix + str(ticket_number))
        pipe.zrem(queue, str(ticket_number))
        pipe.execute()

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Release the ticket; the queue and counter expire by themselves (deleting them would race)."""
        try:
            self.finish_serving(conversation_id, ticket_number)
        except Exception as error:  # Redis gone: the ticket's own expiry releases it
            logger.warning("Could not release a conversation lock (%s); it expires by itself.", type(error).__name__)

    def is_someone_waiting(self, conversation_id: Text) -> bool:
        _, queue, _ = self._keys(conversation_id)
        return int(self.red.zcard(queue)) > 0

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock for the body; wait (polling) behind earlier tickets."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        poll = min(wait_time_in_seconds, POLL_INTERVAL_S)
        try:
            while True:
                try:
                    acquired = self._head_is(conversation_id, ticket)
                except LockError:
                    raise
                except Exception as error:
                    raise LockError(f"Lock store unavailable while waiting: {type(error).__name__}") from error
                if acquired:
                    break
                await asyncio.sleep(poll)
            yield TicketLock(conversation_id)
        finally:
            self.cleanup(conversation_id, ticket)
