"""The ``language`` entity, by the component path ``config.yml`` names, and its rule shared with the actions."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from daogou_nlu.language_detection import detect_language

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def pipeline_component(name: str):
    """The class config.yml names, imported by that very path."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    path = next(step["name"] for step in config["pipeline"] if step["name"].endswith(f".{name}"))
    module, _, cls = path.rpartition(".")
    return getattr(importlib.import_module(module), cls)


@pytest.mark.parametrize("text, language", [("recommend me a phone", "en"), ("推荐一款手机", "zh"),
                                            ("想要一个 noise cancelling 耳机", "zh"), ("", "en")])
def test_the_pipeline_component_adds_the_language_entity(tmp_path, text, language):
    detector_class = pipeline_component("LanguageDetector")
    detector = detector_class.create({}, LocalModelStorage(tmp_path), Resource("language"),
                                     ExecutionContext(GraphSchema({}), node_name="language"))
    message = Message(data={TEXT: text, ENTITIES: [{"entity": "category", "value": "phone"}]})
    detector.process([message])
    entities = message.get(ENTITIES)
    assert entities[0]["entity"] == "category"  # what other extractors found is kept
    assert [(e["entity"], e["value"]) for e in entities[1:]] == [("language", language)]
    assert detect_language(text) == language  # the same rule the actions answer by


def test_the_language_rule_imports_neither_rasa_nor_tensorflow():
    """The action server imports it: Rasa's NLU engine and TensorFlow would add seconds to every start."""
    code = "import sys, daogou_nlu.language_detection; print(sorted({'rasa', 'tensorflow'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
