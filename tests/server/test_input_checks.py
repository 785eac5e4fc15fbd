"""What the chat channels refuse before Rasa sees it (daogou_server.input_checks); the hostile corpus in
tests/production/ sends the same through nginx to running servers."""
from __future__ import annotations

import pytest

from daogou_server.input_checks import (MAX_MESSAGE_CHARS, MAX_SENDER_CHARS, cut, page_metadata, rest_body_problem,
                                        sender_problem)


@pytest.mark.parametrize("sender", ["shopper-42", "购物者", "s" * MAX_SENDER_CHARS, "a b", "emoji-😀"])
def test_an_ordinary_sender_id_is_accepted(sender):
    assert sender_problem(sender) is None


@pytest.mark.parametrize("sender", [None, "", "   ", 42, ["x"], "s" * (MAX_SENDER_CHARS + 1), "a\x00b", "a\nb", "\ud800"])
def test_a_sender_id_no_conversation_can_be_stored_under_is_refused(sender):
    assert sender_problem(sender).startswith("sender:")


@pytest.mark.parametrize("body, field", [
    ([], "body"), ("hi", "body"), (None, "body"), ({"message": "hi"}, "sender"), ({"sender": "x"}, "message"),
    ({"sender": "x", "message": 42}, "message"), ({"sender": "x", "message": {"text": "hi"}}, "message"),
    ({"sender": "x" * 10240, "message": "hi"}, "sender"),
])
def test_a_malformed_rest_body_is_refused_naming_what_is_wrong(body, field):
    assert field in rest_body_problem(body)


def test_a_well_formed_rest_body_passes_even_with_an_empty_message():
    assert rest_body_problem({"sender": "x", "message": ""}) is None
    assert rest_body_problem({"sender": "x", "message": "hi", "metadata": "<script>"}) is None


def test_long_messages_are_cut_and_metadata_is_an_object_or_nothing():
    assert len(cut("a" * 100_000)) == MAX_MESSAGE_CHARS and cut("hi") == "hi"
    assert page_metadata('{"locale": "zh"}') == {"locale": "zh"}
    assert page_metadata("<script>") == {} and page_metadata([1]) == {} and page_metadata(None) == {}
