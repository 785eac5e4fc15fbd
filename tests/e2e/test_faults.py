"""The default profile survives its servers: a killed action server or a restarted Rasa server loses no conversation.

Each restart goes through :meth:`daogou_server.processes.ServerGroup.restart`, the launcher's own code, so the
servers come back exactly as ``make run`` starts them. Conversations live in the SQL tracker store, which is
why a new Rasa process knows what the last one recommended.
"""
from __future__ import annotations

import pytest

from tests.e2e.chat import products_in, say

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
