"""Three of Rasa 3.6's per-turn costs, fixed in place: same results, a fraction of the CPU.

Measured with py-spy on the Rasa server over recommendation turns (docs/production.md, "What a turn costs"):

1. **The action server's answers.** ``RemoteAction._validate_action_result`` calls
   ``jsonschema.validate(result, schema)`` on every answer. With the jsonschema the lock file pins (4.17),
   ``validate`` first checks the schema itself against the Draft 2020-12 meta-schema and builds a new
   validator, every time: about 40 ms of CPU per call here, twice in a recommendation turn (the form's
   validation and the action): half of what the Rasa server spent on a turn. The schema
   (``RemoteAction.action_response_format_spec``) never changes, so it is checked once and its validator
   reused; every answer is still validated against it by the validator class ``jsonschema.validate``
   picks, and a bad answer raises the same ``ValidationError`` (``best_match`` of the errors, as
   ``validate`` raises) with Rasa's hint appended. Each event is first checked against its own type's
   alternative of the schema's ``oneOf`` rather than all 23 (``_by_event_type`` says why that accepts
   exactly the same answers); whatever that does not accept goes through the full validator.
2. **Reading a stored conversation.** Every event read from the tracker store (and every event an action
   returns) is turned into its class by ``Event.resolve_by_type``, which walks all of ``Event``'s
   subclasses (``all_subclasses``, recursive, ``inspect.isabstract`` on each) per event: 12 % of the
   server's CPU in 20-message conversations. The class found for a type name is remembered; a name not
   found yet (an unknown one, or one whose class is imported later) takes Rasa's own walk, so the answer
   and the errors are Rasa's.

3. **Calling the action server.** Each call posts the whole conversation as JSON, which aiohttp writes with
   ``json.dumps``: 10 % of the server's CPU at 50 shoppers x 20 messages. The sessions Rasa opens for its
   endpoints (``EndpointConfig.session``) write it with ujson, a dependency of Rasa's own: the same JSON
   values in less than half the time (ujson also escapes "/" with a backslash, which every JSON reader reads back).

Rasa has no hook for any of them, so :func:`install` replaces the three methods on their classes. The Rasa server
imports this module through Daogou's plug-ins (the REST and socket.io channels, the tracker store), each of
which calls :func:`install` when imported, so every profile and ``rasa shell`` get it.
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Dict, Optional, Text, Tuple, Type

import aiohttp
import ujson
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

#: Rasa's own ``EndpointConfig.session``: the session it configures, before ours sets its JSON writer.
_RASA_SESSION = EndpointConfig.session
#: Rasa's own ``Event.resolve_by_type``, kept for the names not resolved yet.
_RASA_RESOLVE = Event.resolve_by_type
_resolved: Dict[Text, Type[Event]] = {}


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    """The validator ``jsonschema.validate`` would build for Rasa's answer schema, built (and checked) once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _by_event_type() -> Tuple[Any, Dict[Any, Any]]:
    """A quick check that accepts exactly what :func:`_validator` accepts, or says "not sure".

    Each event of an answer must match exactly one of ~23 ``oneOf`` alternatives, one per event type
    (``"event": {"const": type}``; ``event`` is required), so the full validator tries every alternative on
    every event. Here: the answer without its events' ``oneOf``, then each event against its own type's
    alternative only. The others cannot match an event that has its ``event`` set to another type, so an
    answer that passes this passed the full check; anything else goes to the full validator, which gives
    Rasa's error."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    items = schema["properties"]["events"]["items"]
    alternatives = items.pop("oneOf")
    cls = validator_for(schema)
    per_type = {}
    for alternative in alternatives:
        event_type = alternative["properties"]["event"]["const"]
        per_type[event_type] = cls({**items, "allOf": [alternative]})
    return cls(schema), per_type


def _surely_valid(result: Any) -> bool:
    outline, per_type = _by_event_type()
    if not outline.is_valid(result):
        return False
    for event in result.get("events") or ():
        validator = per_type.get(event.get("event")) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` on the cached validators: True, or Rasa's ``ValidationError``."""
    if isinstance(result, dict) and _surely_valid(result):
        return True
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """``Event.resolve_by_type``, remembering the class found for each name (Rasa's walk, done once a name)."""
    cls = _resolved.get(type_name)
    if cls is None:
        cls = next((c for c in all_subclasses(Event) if c.type_name == type_name), None)
        if cls is None:  # Rasa's answer for a name no class has: None for "topic", the default, or ValueError
            return _RASA_RESOLVE(type_name, default)
        _resolved[type_name] = cls
    return cls


def endpoint_session(self: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's session for an endpoint (headers, auth, timeout as configured), writing request bodies with ujson."""
    session = _RASA_SESSION(self)
    session._json_serialize = ujson.dumps  # what ClientSession(json_serialize=...) sets
    return session


def install() -> None:
    """Put the three fixes in place on Rasa's classes (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
    EndpointConfig.session = endpoint_session  # type: ignore[method-assign]


__all__ = ["ValidationError", "endpoint_session", "install", "resolve_by_type", "validate_action_result"]
