"""The pipeline's intent classifier: models that err differently, averaged.

- `IntentModel` (`daogou_nlu.intent_model`): softmax regression over the
  sentence-level features earlier components made — word and character n-gram
  counts, regex and lookup matches, and the frozen multilingual sentence vector —
  and over the frozen encoder's lower layers, mean-pooled (`pooled_layers`,
  `daogou_nlu.e5.layer_vectors` says why).
- `FineTunedIntentEncoder` (`daogou_nlu.finetuned_intents`): multilingual-e5-small
  with its top layers fine-tuned on the intents, reading the text itself.
- The ranking an earlier classifier in the pipeline left on the message: DIET,
  which tags entities anyway and, with `intent_classification: true`, reads the
  pipeline's tokens one by one with their word, character and lookup features,
  which the linear model sees only summed and the encoder not at all. It costs
  little more training, since DIET trains for the entities in any case.

They err differently: the linear model and the encoder averaged scored 0.946
held-out weighted F1 where the linear model alone scored 0.917 (`rasa test nlu`
cross-validation, docs/nlu_evaluation.md); DIET alone is weaker still (0.877 in
a 3-fold run) yet a quarter share of it lifts the average further. The
ResponseSelector still picks the FAQ topic; `FallbackClassifier` reads the
confidence this component sets.
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

from daogou_nlu.e5.layer_vectors import LowerLayerVectors
from daogou_nlu.finetuned_intents import FineTunedIntentEncoder, FineTuning
from daogou_nlu.intent_model import DEFAULT_C, DEFAULT_SENTENCE_WEIGHT, IntentModel, unit_rows

LINEAR_FILE = "intent_model.npz"
ENCODER_FILE = "finetuned_intent_encoder.npz"
DEFAULT_SHARES = {"linear": 0.5, "encoder": 0.5, "earlier": 0.0}
DEFAULT_POOLED_LAYERS = [4, 8]


def sentence_features(message: Message) -> Tuple[Optional[sp.csr_matrix], Optional[np.ndarray]]:
    """The message's sparse and dense sentence features (each a single row), or None where absent."""
    _, sparse = message.get_sparse_features(TEXT)
    _, dense = message.get_dense_features(TEXT)
    return (sp.csr_matrix(sparse.features) if sparse is not None else None,
            np.asarray(dense.features).reshape(1, -1) if dense is not None else None)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EnsembleIntentClassifier(GraphComponent, IntentClassifier):
    """The linear model, the fine-tuned encoder and an earlier classifier's ranking, averaged by `shares`.

    `shares` weighs the three (they need not sum to one); a part that is absent — no fine-tuning, or
    no ranking from an earlier classifier on this message — leaves the others to share its weight.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": DEFAULT_C, "sentence_weight": DEFAULT_SENTENCE_WEIGHT, "ranking_length": LABEL_RANKING_LENGTH,
                "pooled_layers": list(DEFAULT_POOLED_LAYERS), "fine_tune": True, "shares": dict(DEFAULT_SHARES),
                **asdict(FineTuning())}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 linear: Optional[IntentModel] = None, encoder: Optional[FineTunedIntentEncoder] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._shares = self._checked_shares(self._config.get("shares") or {})
        self._model_storage = model_storage
        self._resource = resource
        if linear is not None and encoder is not None and list(linear.labels) != list(encoder.labels):
            raise ValueError("the linear model and the fine-tuned encoder were trained on different intents")
        self._linear = linear
        self._encoder = encoder
        self._layer_vectors: Optional[LowerLayerVectors] = None

    @staticmethod
    def _checked_shares(shares: Dict[Text, Any]) -> Dict[Text, float]:
        unknown = set(shares) - set(DEFAULT_SHARES)
        if unknown:
            raise ValueError(f"shares has unknown parts {sorted(unknown)}; the parts are {sorted(DEFAULT_SHARES)}")
        merged = {part: float(value) for part, value in {**DEFAULT_SHARES, **shares}.items()}
        if any(not np.isfinite(v) or v < 0 for v in merged.values()) or merged["linear"] + merged["encoder"] <= 0:
            raise ValueError(f"shares must be non-negative, with linear or encoder above zero, not {shares!r}")
        return merged

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
        except (ValueError, FileNotFoundError):  # an untrained component: no intents, like Rasa's own
            return cls(config, model_storage, resource)
        component = cls(config, model_storage, resource, linear, encoder)
        component._warm_up()
        return component

    def _warm_up(self) -> None:
        """Build and trace the TensorFlow parts now, at load: otherwise a shopper's first message waits ~2 s for it."""
        layers = self._lower_layer_vectors()
        if layers is not None:
            layers(["warm up"])
        if self._encoder is not None:
            self._encoder.predict_proba(["warm up"])

    def _tuning(self) -> FineTuning:
        defaults = asdict(FineTuning())
        return FineTuning(**{k: type(v)(self._config[k]) for k, v in defaults.items()})

    def _lower_layer_vectors(self) -> Optional[LowerLayerVectors]:
        """The pooled lower layers the linear model reads, built on first use; None when `pooled_layers` is empty."""
        if self._layer_vectors is None and self._config["pooled_layers"]:
            self._layer_vectors = LowerLayerVectors(self._config["pooled_layers"])
        return self._layer_vectors

    def _linear_vectors(self, texts: List[Text], vectors: np.ndarray) -> np.ndarray:
        """The dense input of the linear model: the sentence vector, then the pooled lower layers, each unit length."""
        layers = self._lower_layer_vectors()
        return vectors if layers is None else np.hstack([unit_rows(vectors), layers(texts)])

    def train(self, training_data: TrainingData) -> Resource:
        featured = [(m, *sentence_features(m)) for m in training_data.intent_examples]
        featured = [(m, c, v) for m, c, v in featured if c is not None and v is not None]
        labels = [m.get(INTENT) for m, _, _ in featured]
        if len(set(labels)) < 2:
            raise ValueError("EnsembleIntentClassifier needs examples of at least two intents "
                             "with sparse and dense sentence features")
        counts = sp.vstack([c for _, c, _ in featured]).tocsr()
        texts = [m.get(TEXT) for m, _, _ in featured]
        vectors = self._linear_vectors(texts, np.vstack([v for _, _, v in featured]))
        self._linear = IntentModel.fit(counts, vectors, labels, c=float(self._config["C"]),
                                       sentence_weight=float(self._config["sentence_weight"]))
        self._encoder = None
        if self._config["fine_tune"]:
            self._encoder = FineTunedIntentEncoder.fit(texts, labels, self._tuning())
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / LINEAR_FILE, **self._linear.to_arrays())
            if self._encoder is not None:
                np.savez(directory / ENCODER_FILE, **self._encoder.to_arrays())
        return self._resource

    def _earlier_probabilities(self, message: Message) -> Optional[np.ndarray]:
        """The intent ranking an earlier classifier (DIET) left on the message, in this model's label order.

        Renormalised over the intents this model knows, so that a truncated ranking still counts as a
        distribution and the average still sums to one.
        """
        ranking = message.get(INTENT_RANKING_KEY) or []
        columns = {label: i for i, label in enumerate(self._linear.labels)}
        probabilities = np.zeros(len(columns))
        for entry in ranking:
            if entry.get("name") in columns:
                probabilities[columns[entry["name"]]] = float(entry.get("confidence") or 0.0)
        total = probabilities.sum()
        return probabilities / total if total > 0 else None

    def _probabilities(self, message: Message, counts: sp.csr_matrix, vector: np.ndarray) -> np.ndarray:
        vector = self._linear_vectors([message.get(TEXT)], vector)
        parts = [(self._shares["linear"], self._linear.predict_proba(counts, vector)[0])]
        if self._encoder is not None and self._shares["encoder"] > 0:
            parts.append((self._shares["encoder"], self._encoder.predict_proba([message.get(TEXT)])[0]))
        earlier = self._earlier_probabilities(message) if self._shares["earlier"] > 0 else None
        if earlier is not None:
            parts.append((self._shares["earlier"], earlier))
        total = sum(share for share, _ in parts)
        return sum(share * p for share, p in parts) / total if total > 0 else parts[0][1]

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
