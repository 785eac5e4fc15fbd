"""The pipeline's intent classifier: `IntentModel` over the features earlier components made.

It reads each message's sentence-level features — the sparse ones (word and
character n-gram counts, regex and lookup matches) and the dense multilingual
sentence vector — so tokenisation and featurisation stay where the pipeline
puts them. DIET keeps doing entities (`intent_classification: false`); the
ResponseSelector still picks the FAQ topic; `FallbackClassifier` reads the
confidence this component sets.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.intent_model import DEFAULT_C, DEFAULT_SENTENCE_WEIGHT, IntentModel

MODEL_FILE = "intent_model.npz"


def sentence_features(message: Message) -> Tuple[Optional[sp.csr_matrix], Optional[np.ndarray]]:
    """The message's sparse and dense sentence features (each a single row), or None where absent."""
    _, sparse = message.get_sparse_features(TEXT)
    _, dense = message.get_dense_features(TEXT)
    return (sp.csr_matrix(sparse.features) if sparse is not None else None,
            np.asarray(dense.features).reshape(1, -1) if dense is not None else None)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Softmax regression on TF-IDF counts and sentence vectors (see `daogou_nlu.intent_model`)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": DEFAULT_C, "sentence_weight": DEFAULT_SENTENCE_WEIGHT, "ranking_length": LABEL_RANKING_LENGTH}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[IntentModel] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
                    return cls(config, model_storage, resource, IntentModel.from_arrays(dict(arrays)))
        except (ValueError, FileNotFoundError):  # an untrained component: no intents, like Rasa's own
            return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        featured = [(m.get(INTENT), *sentence_features(m)) for m in training_data.intent_examples]
        featured = [(label, c, v) for label, c, v in featured if c is not None and v is not None]
        labels = [label for label, _, _ in featured]
        if len(set(labels)) < 2:
            raise ValueError("LinearIntentClassifier needs examples of at least two intents "
                             "with sparse and dense sentence features")
        counts = sp.vstack([c for _, c, _ in featured]).tocsr()
        vectors = np.vstack([v for _, _, v in featured])
        self._model = IntentModel.fit(counts, vectors, labels, c=float(self._config["C"]),
                                      sentence_weight=float(self._config["sentence_weight"]))
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / MODEL_FILE, **self._model.to_arrays())
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            counts, vector = sentence_features(message)
            if self._model is None or counts is None or vector is None:
                intent, ranking = {"name": None, "confidence": 0.0}, []
            else:
                probabilities = self._model.predict_proba(counts, vector)[0]
                ranking = self._model.ranking(probabilities, int(self._config["ranking_length"]))
                intent = ranking[0]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
