"""Which language to answer in."""
from __future__ import annotations

import re

SUPPORTED = ("en", "zh")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def detect_language(text: str, default: str = "en") -> str:
    """Chinese if the message has any Chinese characters, else English.

    Mixed messages ("想要一个 noise cancelling 耳机") come from Chinese speakers
    using English product words, so any Chinese character wins.
    """
    if not text:
        return default
    return "zh" if _CJK.search(text) else "en"


try:  # The Rasa component is only defined where Rasa is installed; detect_language works without it.
    from rasa.engine.graph import ExecutionContext, GraphComponent
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.shared.nlu.constants import ENTITIES, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
except ImportError:  # pragma: no cover
    pass
else:
    from typing import Any, Dict, List, Text

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
