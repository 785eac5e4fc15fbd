"""The pipeline's intent classifier: two models that err differently, averaged.

- `IntentModel` (`daogou_nlu.intent_model`): softmax regression over the
  sentence-level features earlier components made — word and character n-gram
  counts, regex and lookup matches, and the frozen multilingual sentence vector.
- `FineTunedIntentEncoder` (`daogou_nlu.finetuned_intents`): multilingual-e5-small
  with its top layers fine-tuned on the intents, reading the text itself.

They err differently: averaging their probabilities scored 0.946 held-out
weighted F1 where the linear model alone scored 0.917 (`rasa test nlu`
cross-validation, docs/nlu_evaluation.md). DIET keeps doing entities
(`intent_classification: false`); the ResponseSelector still picks the FAQ
topic; `FallbackClassifier` reads the confidence this component sets.
"""
from __future__ import annotations

from dataclasses import asdict
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

from daogou_nlu.finetuned_intents import FineTunedIntentEncoder, FineTuning
from daogou_nlu.intent_model import DEFAULT_C, DEFAULT_SENTENCE_WEIGHT, IntentModel

LINEAR_FILE = "intent_model.npz"
ENCODER_FILE = "finetuned_intent_encoder.npz"


def sentence_features(message: Message) -> Tuple[Optional[sp.csr_matrix], Optional[np.ndarray]]:
    """The message's sparse and dense sentence features (each a single row), or None where absent."""
    _, sparse = message.get_sparse_features(TEXT)
    _, dense = message.get_dense_features(TEXT)
    return (sp.csr_matrix(sparse.features) if sparse is not None else None,
            np.asarray(dense.features).reshape(1, -1) if dense is not None else None)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EnsembleIntentClassifier(GraphComponent, IntentClassifier):
    """The linear model and the fine-tuned encoder, their probabilities averaged (`encoder_share` of the latter)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": DEFAULT_C, "sentence_weight": DEFAULT_SENTENCE_WEIGHT, "ranking_length": LABEL_RANKING_LENGTH,
                "fine_tune": True, "encoder_share": 0.5, **asdict(FineTuning())}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 linear: Optional[IntentModel] = None, encoder: Optional[FineTunedIntentEncoder] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        if not 0.0 <= float(self._config["encoder_share"]) <= 1.0:
            raise ValueError(f"encoder_share must lie in [0, 1], not {self._config['encoder_share']!r}")
        self._model_storage = model_storage
        self._resource = resource
        if linear is not None and encoder is not None and list(linear.labels) != list(encoder.labels):
            raise ValueError("the linear model and the fine-tuned encoder were trained on different intents")
        self._linear = linear
        self._encoder = encoder

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "EnsembleIntentClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "EnsembleIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / LINEAR_FILE, allow_pickle=False) as arrays:
                    linear = IntentModel.from_arrays(dict(arrays))
                encoder = None
                if (directory / ENCODER_FILE).exists():
                    with np.load(directory / ENCODER_FILE, allow_pickle=False) as arrays:
                        encoder = FineTunedIntentEncoder.from_arrays(dict(arrays))
                return cls(config, model_storage, resource, linear, encoder)
        except (ValueError, FileNotFoundError):  # an untrained component: no intents, like Rasa's own
            return cls(config, model_storage, resource)

    def _tuning(self) -> FineTuning:
        defaults = asdict(FineTuning())
        return FineTuning(**{k: type(v)(self._config[k]) for k, v in defaults.items()})

    def train(self, training_data: TrainingData) -> Resource:
        featured = [(m, *sentence_features(m)) for m in training_data.intent_examples]
        featured = [(m, c, v) for m, c, v in featured if c is not None and v is not None]
        labels = [m.get(INTENT) for m, _, _ in featured]
        if len(set(labels)) < 2:
            raise ValueError("EnsembleIntentClassifier needs examples of at least two intents "
                             "with sparse and dense sentence features")
        counts = sp.vstack([c for _, c, _ in featured]).tocsr()
        vectors = np.vstack([v for _, _, v in featured])
        self._linear = IntentModel.fit(counts, vectors, labels, c=float(self._config["C"]),
                                       sentence_weight=float(self._config["sentence_weight"]))
        self._encoder = None
        if self._config["fine_tune"]:
            self._encoder = FineTunedIntentEncoder.fit([m.get(TEXT) for m, _, _ in featured], labels, self._tuning())
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / LINEAR_FILE, **self._linear.to_arrays())
            if self._encoder is not None:
                np.savez(directory / ENCODER_FILE, **self._encoder.to_arrays())
        return self._resource

    def _probabilities(self, message: Message, counts: sp.csr_matrix, vector: np.ndarray) -> np.ndarray:
        probabilities = self._linear.predict_proba(counts, vector)[0]
        if self._encoder is not None:
            share = float(self._config["encoder_share"])
            probabilities = (1 - share) * probabilities + share * self._encoder.predict_proba([message.get(TEXT)])[0]
        return probabilities

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            counts, vector = sentence_features(message)
            if self._linear is None or counts is None or vector is None or not message.get(TEXT):
                intent, ranking = {"name": None, "confidence": 0.0}, []
            else:
                ranking = self._linear.ranking(self._probabilities(message, counts, vector),
                                               int(self._config["ranking_length"]))
                intent = ranking[0]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
