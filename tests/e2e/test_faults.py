"""The default profile survives its servers: a killed action server or a restarted Rasa server loses no conversation.

Each restart goes through :meth:`daogou_server.processes.ServerGroup.restart`, the launcher's own code, so the
servers come back exactly as ``make run`` starts them. Conversations live in the SQL tracker store, which is
why a new Rasa process knows what the last one recommended.
"""
from __future__ import annotations

import os
import signal

import pytest

from daogou_server.action_failure import ONE_MOMENT
from tests.e2e.chat import products_in, say, texts_of

pytestmark = pytest.mark.e2e


def test_a_restarted_rasa_server_continues_the_conversation(rasa_url, server_group):
    sender = "e2e-fault-rasa-restart"
    shown = [p["id"] for p in products_in(say(rasa_url, sender, "recommend me a phone under 3000"))]
    server_group.restart("rasa")
    recalled = [p["id"] for p in products_in(say(rasa_url, sender, "what did you recommend?"))]
    assert recalled == shown


def test_after_the_action_server_is_killed_and_restarted_the_next_message_works(rasa_url, server_group):
    sender = "e2e-fault-actions-killed"
    shown = [p["id"] for p in products_in(say(rasa_url, sender, "推荐一款3000元以内的手机"))]
    server_group.restart("actions", kill=True)
    recalled = [p["id"] for p in products_in(say(rasa_url, sender, "你推荐了什么"))]
    assert recalled == shown
    assert products_in(say(rasa_url, sender, "推荐一款8000元以内的笔记本"))  # new work for the restarted actions


def test_while_the_action_server_is_down_the_shopper_is_asked_to_wait_in_their_language(rasa_url, server_group):
    actions = server_group.servers["actions"]
    os.killpg(actions.process.pid, signal.SIGKILL)
    actions.process.wait()
    try:
        assert ONE_MOMENT["en"] in texts_of(say(rasa_url, "e2e-fault-down-en", "recommend me a phone under 3000"))
        assert ONE_MOMENT["zh"] in texts_of(say(rasa_url, "e2e-fault-down-zh", "推荐一款3000元以内的手机"))
    finally:
        server_group.restart("actions")
    replies = say(rasa_url, "e2e-fault-down-en", "recommend me a phone under 3000")
    assert products_in(replies) and ONE_MOMENT["en"] not in texts_of(replies)
