"""Rasa's check of an action server's answer, with the schema compiled once instead of on every call.

Rasa 3.6's ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)`` for every
answer of the action server. With the jsonschema the lock file pins (4.17), ``validate`` first checks the
schema itself against the Draft 2020-12 meta-schema and builds a new validator, every time: about 40 ms of
the Rasa server's CPU per call on this machine, twice in a recommendation turn (the form's validation
and the action), which was half of what the Rasa server spent on a turn (py-spy, docs/production.md,
"What a turn costs"). The schema (``RemoteAction.action_response_format_spec``) never changes, so it is
checked once here and its validator reused; every answer is still validated against it, by the same
validator class ``jsonschema.validate`` picks, and a bad answer raises the same ``ValidationError``
(``best_match`` of the errors, as ``validate`` raises) with Rasa's hint appended.

Rasa has no hook for this, so :func:`install` replaces the method on the class. The Rasa server imports
this module through Daogou's plug-ins (the REST and socket.io channels, the tracker store), each of
which calls :func:`install` when imported, so every profile and ``rasa shell`` get it.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Text

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    """The validator ``jsonschema.validate`` would build for Rasa's answer schema, built (and checked) once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` on the cached validator: True, or Rasa's ``ValidationError``."""
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


def install() -> None:
    """Make every ``RemoteAction`` validate with the cached validator (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


__all__ = ["ValidationError", "install", "validate_action_result"]
