"""The action server's answers are checked by Rasa's schema on a validator built once, as strictly as before."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import daogou_server.tracker_store  # noqa: F401 - a Rasa plug-in: importing it installs the check
from daogou_server.rasa_speedups import resolve_by_type, validate_action_result

SPEC = RemoteAction.action_response_format_spec()
GOOD = {
    "events": [{"event": "slot", "name": "category", "value": "phone", "timestamp": None},
               {"event": "active_loop", "name": None}],
    "responses": [{"text": "Here are 5 phones", "custom": {"type": "products", "items": [{"id": "p1"}]}}],
}
BAD = [
    {"events": [{"event": "slot", "value": "phone"}]},  # a slot event without its name
    {"events": [{"name": "category"}]},  # no event type
    {"events": "slot"},  # not a list
    {"responses": [{"text": 3}], "events": [{"event": "user", "text": 5}]},
    {"events": [{"event": "no_such_event"}]},  # a type the schema does not know
    {"events": [{"event": 3}]},
    {"events": [{"event": ["slot"], "name": "category", "value": "phone"}]},  # an unhashable type
    {"events": [GOOD["events"][0], "slot"]},  # one event that is not an object
    {"events": [{"event": "user", "parse_data": {"intent": {"name": 1}}}]},  # deep inside a user event
    {"events": [{"event": "entities", "entities": [{"entity": "brand"}]}]},  # an entity without its value
    {"events": [{"event": "action", "name": "action_listen", "timestamp": "now"}]},  # the common properties
    {"events": [{"event": "slot", "name": "category", "value": "phone", "metadata": []}]},
    [],  # not an object
]
MORE_GOOD = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1.0},
                                                                "entities": [{"entity": "brand", "value": "apple"}]}},
                {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0},
                {"event": "followup", "name": "action_forget_me"}, {"event": "reset_slots"},
                {"event": "bot", "text": "ok", "data": {}}, {"event": "restart"}]},
]


def test_the_plugins_install_both_fixes_on_rasas_classes():
    assert RemoteAction._validate_action_result is validate_action_result
    from rasa.shared.core.events import Event

    assert Event.resolve_by_type is resolve_by_type


@pytest.mark.parametrize("answer", [GOOD, *MORE_GOOD])
def test_a_well_formed_answer_passes(answer):
    jsonschema.validate(answer, SPEC)
    assert validate_action_result(RemoteAction("action_recommend_products", None), answer) is True


@pytest.mark.parametrize("answer", BAD)
def test_a_malformed_answer_raises_what_jsonschema_validate_raised(answer):
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(answer, SPEC)
    with pytest.raises(jsonschema.ValidationError) as raised:
        RemoteAction("action_recommend_products", None)._validate_action_result(answer)
    assert raised.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response" in raised.value.message
    assert list(raised.value.path) == list(expected.value.path)


def test_events_resolve_to_rasas_classes_and_unknown_names_answer_as_rasa_does():
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered, deserialise_events

    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("slot") is SlotSet  # remembered
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    events = deserialise_events([{"event": "slot", "name": "category", "value": "phone"},
                                 {"event": "action", "name": "action_listen"}])
    assert events == [SlotSet("category", "phone"), ActionExecuted("action_listen")]


def test_endpoint_sessions_post_the_same_json_values_with_ujson():
    """Rasa's calls to the action server: the body ujson writes reads back as the very values posted."""
    import asyncio
    import json

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    received = []
    tracker = {"sender_id": "s/1", "events": [{"event": "user", "text": "推荐 a phone </script> under 3000",
                                               "timestamp": 1733350000.123456, "parse_data": {"x": [1.5e-7, None, True]}}]}

    async def exchange():

        async def webhook(request):
            received.append(await request.read())
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Test": "1"})
            assert await endpoint.request(json=tracker, method="post") == {"events": [], "responses": []}
            session = endpoint.session()
            assert session._json_serialize.__module__ == "ujson" and session.headers["X-Test"] == "1"
            await session.close()
        finally:
            await runner.cleanup()

    asyncio.run(exchange())
    assert json.loads(received[0]) == tracker
