"""The polite answer for a failed action: given once, in the shopper's language, only to the shopper it failed for."""
from __future__ import annotations

import asyncio
import logging

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError

from daogou_server.action_failure import (FAILURE_RECORD, ONE_MOMENT, TRACKER_STORE, conversation_lost,
                                          note_store_failure, politely)

PROCESSOR = logging.getLogger("rasa.core.processor")


async def _failing(message: UserMessage) -> None:
    await asyncio.sleep(0.01)  # let the other shopper's message run meanwhile
    PROCESSOR.error(f"{FAILURE_RECORD} 'action_recommend'. Bot will continue, but the actions events are lost.")


async def _answering(message: UserMessage) -> None:
    await asyncio.sleep(0.02)
    await message.output_channel.send_text_message(message.sender_id, "Here are three phones")


async def _say(handler, text: str) -> list:
    out = CollectingOutputChannel()
    await politely(handler)(UserMessage(text, out, "shopper"))
    return [m.get("text") for m in out.messages]


def test_a_failed_action_gets_one_polite_answer_in_the_shoppers_language():
    assert asyncio.run(_say(_failing, "recommend me a phone")) == [ONE_MOMENT["en"]]
    assert asyncio.run(_say(_failing, "推荐一款手机")) == [ONE_MOMENT["zh"]]


def test_concurrent_shoppers_are_told_only_about_their_own_failure():
    async def both():
        return await asyncio.gather(_say(_failing, "recommend me a phone"), _say(_answering, "recommend me a phone"))

    failed, answered = asyncio.run(both())
    assert failed == [ONE_MOMENT["en"]]
    assert answered == ["Here are three phones"]


def test_outside_a_message_a_failure_record_changes_nothing():
    PROCESSOR.error(f"{FAILURE_RECORD} 'action_x'")  # e.g. a trigger_intent call: no message being watched
    assert asyncio.run(_say(_answering, "hi")) == ["Here are three phones"]


def test_a_lock_store_outage_gets_the_polite_answer_not_an_error():
    async def locked_out(message: UserMessage) -> None:
        raise LockError("Lock store unavailable while issuing a ticket: ConnectionError")

    assert asyncio.run(_say(locked_out, "推荐一款手机")) == [ONE_MOMENT["zh"]]


def test_a_lost_conversation_holds_back_its_replies_and_gets_the_polite_answer():
    async def lost(message: UserMessage) -> None:
        assert not conversation_lost()
        assert note_store_failure(TRACKER_STORE)  # as the tracker store does when PostgreSQL is gone
        assert conversation_lost()
        await message.output_channel.send_text_message(message.sender_id, "You have not asked me anything yet")

    assert asyncio.run(_say(lost, "what did you recommend?")) == [ONE_MOMENT["en"]]
    assert not note_store_failure(TRACKER_STORE) and not conversation_lost()  # outside a message: the caller raises
