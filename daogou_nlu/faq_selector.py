"""The FAQ topic head: which `utter_faq/<topic>` answers a `faq` message.

It replaces Rasa's ResponseSelector (a TensorFlow model, ~3.5 minutes of
training) with the same softmax regression the intent head uses, fitted on the
retrieval intent's examples (`faq/shipping`, `faq/returns`, ...). Its output is
exactly what ResponseSelector puts in the parse data, so Rasa's
`ActionRetrieveResponse` (`utter_faq`) and the processor's
`full_retrieval_intent_name` read it unchanged:

    "response_selector": {
        "all_retrieval_intents": ["faq"],
        "faq": {"response": {"responses": [...], "confidence": 0.93,
                             "intent_response_key": "faq/shipping", "utter_action": "utter_faq/shipping"},
                "ranking": [{"confidence": 0.93, "intent_response_key": "faq/shipping"}, ...]}}
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    RESPONSE_SELECTOR,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.intent_classifier import (
    fit_on_messages,
    linear_head_config,
    load_model,
    probabilities_of,
    save_model,
)
from daogou_nlu.intent_model import IntentModel

RESPONSES_FILE = "responses.json"
ALL_RETRIEVAL_INTENTS = "all_retrieval_intents"


def utter_action(intent_response_key: Text) -> Text:
    """`faq/shipping` -> `utter_faq/shipping`, the response the domain holds for it."""
    return f"utter_{intent_response_key}"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearResponseSelector(GraphComponent):
    """Picks the sub-intent of one retrieval intent with the intent head's linear model."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**linear_head_config(), "retrieval_intent": "faq"}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[IntentModel] = None, responses: Optional[Dict[Text, List[Dict[Text, Any]]]] = None,
                 all_retrieval_intents: Optional[List[Text]] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        if not self._config.get("retrieval_intent"):
            raise ValueError("LinearResponseSelector needs a retrieval_intent (e.g. faq)")
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._responses = responses or {}
        self._all_retrieval_intents = all_retrieval_intents or []

    @property
    def retrieval_intent(self) -> Text:
        return str(self._config["retrieval_intent"])

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearResponseSelector":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearResponseSelector":
        model = load_model(model_storage, resource)
        responses, all_intents = {}, []
        if model is not None:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / RESPONSES_FILE).read_text(encoding="utf-8"))
            responses, all_intents = saved["responses"], saved[ALL_RETRIEVAL_INTENTS]
        return cls(config, model_storage, resource, model, responses, all_intents)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) == self.retrieval_intent]
        self._model = fit_on_messages(examples, lambda m: m.get(INTENT_RESPONSE_KEY), self._config,
                                      f"{self.retrieval_intent} topic head")
        self._all_retrieval_intents = sorted(training_data.retrieval_intents)
        # The domain's responses reach the NLU training data through Rasa's importer; kept for the parse output.
        self._responses = {key: list(training_data.responses.get(utter_action(key), []))
                           for key in self._model.labels}
        save_model(self._model, self._model_storage, self._resource)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / RESPONSES_FILE).write_text(json.dumps(
                {"responses": self._responses, ALL_RETRIEVAL_INTENTS: self._all_retrieval_intents},
                ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Every message gets the selector's answer, as with Rasa's ResponseSelector; the intent decides if it is used."""
        if self._model is None:
            return messages
        for message in messages:
            probabilities = probabilities_of(self._model, message)
            if probabilities is None:
                continue
            ranking = [{PREDICTED_CONFIDENCE_KEY: entry["confidence"], INTENT_RESPONSE_KEY: entry["name"]}
                       for entry in self._model.ranking(probabilities, int(self._config["ranking_length"]))]
            best = ranking[0]
            key = best[INTENT_RESPONSE_KEY]
            selected = {"response": {"responses": self._responses.get(key) or [{"text": key}],
                                     PREDICTED_CONFIDENCE_KEY: best[PREDICTED_CONFIDENCE_KEY],
                                     INTENT_RESPONSE_KEY: key, "utter_action": utter_action(key)},
                        "ranking": ranking}
            properties = dict(message.get(RESPONSE_SELECTOR) or {})
            properties[ALL_RETRIEVAL_INTENTS] = self._all_retrieval_intents
            properties[self.retrieval_intent] = selected
            message.set(RESPONSE_SELECTOR, properties, add_to_output=True)
        return messages
