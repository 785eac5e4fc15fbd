"""The REST channel's reply schemas in ``docs/schemas/``, loaded once, and a check that names the shape.

Shared by the unit test (action output wrapped as REST wraps it) and the end-to-end test (real responses),
so both hold the replies to the same documented contract.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Dict

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schemas"
SHAPES = ("text", "buttons", "products", "comparison")


@lru_cache(maxsize=1)
def _validators() -> Dict[str, jsonschema.Draft202012Validator]:
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMA_DIR.glob("*.json")}
    store = {s["$id"]: s for s in schemas.values()}
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    return {shape: jsonschema.Draft202012Validator(schemas[f"{shape}.json"],
                                                   resolver=jsonschema.RefResolver("", schemas[f"{shape}.json"], store=store))
            for shape in SHAPES}


def shape_of(reply: dict) -> str:
    """The documented shape a reply has; fails with every schema's complaint when it has none."""
    if "custom" in reply:
        shape = str((reply.get("custom") or {}).get("type"))
    elif "buttons" in reply:
        shape = "buttons"
    else:
        shape = "text"
    assert shape in SHAPES, f"undocumented reply shape: {reply}"
    errors = [e.message for e in _validators()[shape].iter_errors(reply)]
    assert not errors, f"{shape} reply breaks docs/schemas/{shape}.json: {errors}: {reply}"
    return shape
