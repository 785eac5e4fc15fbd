"""The ``LanguageDetector`` NLU component (``config.yml`` names it by this path).

The rule itself is :func:`daogou_nlu.language_detection.detect_language`, which
the actions share without importing Rasa.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.language_detection import detect_language

LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds a ``language`` entity (``en``/``zh``) to every message.

    The ``language`` slot fills from it, so responses in ``domain.yml`` can
    pick their variation by language before any custom action runs.
    """

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entity = {"entity": LANGUAGE_ENTITY, "value": detect_language(text), "start": 0, "end": len(text),
                      "extractor": self.__class__.__name__, "confidence_entity": 1.0}
            message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
