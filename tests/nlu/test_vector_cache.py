"""The on-disk sentence-vector cache: only unknown texts are encoded, and a broken file costs only time."""
from __future__ import annotations

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.sentence_encoder import ENCODER_VARIANT, SentenceEncoderFeaturizer, encode_sentences
from daogou_nlu.vector_cache import cached_vectors, default_path


class CountingEncoder:
    def __init__(self) -> None:
        self.seen: list = []

    def __call__(self, texts: list) -> np.ndarray:
        self.seen += texts
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_only_texts_not_yet_cached_are_encoded(tmp_path):
    path, encode = tmp_path / "vectors.npz", CountingEncoder()
    first = cached_vectors(["hi", "你好", "hi"], encode, path, progress=False)
    again = cached_vectors(["hi", "recommend a phone"], encode, path, progress=False)
    assert sorted(encode.seen) == sorted(["hi", "你好", "recommend a phone"])
    np.testing.assert_array_equal(first["hi"], again["hi"])
    assert set(again) == {"hi", "recommend a phone"}


def test_an_unreadable_cache_is_ignored_and_rewritten(tmp_path):
    path, encode = tmp_path / "vectors.npz", CountingEncoder()
    path.write_bytes(b"not a numpy file")
    assert cached_vectors(["hi"], encode, path, progress=False)["hi"].tolist() == [2.0, 1.0]
    assert cached_vectors(["hi"], CountingEncoder(), path, progress=False)["hi"].tolist() == [2.0, 1.0]


def test_training_featurizes_through_the_cache_and_parsing_gives_the_same_vectors(tmp_path, monkeypatch):
    monkeypatch.setenv("DAOGOU_VAR_DIR", str(tmp_path))
    featurizer = SentenceEncoderFeaturizer.create(SentenceEncoderFeaturizer.get_default_config(), None, None,
                                                  ExecutionContext(GraphSchema({}), node_name="vectors"))
    training = TrainingData([Message(data={TEXT: "想买个平板"}), Message(data={TEXT: "hello"})])
    featurizer.process_training_data(training)
    assert default_path(ENCODER_VARIANT) == tmp_path / "cache" / f"sentence_vectors_{ENCODER_VARIANT}.npz"
    assert default_path(ENCODER_VARIANT).exists()
    parsed = Message(data={TEXT: "想买个平板"})
    featurizer.process([parsed])
    trained = training.training_examples[0].get_dense_features(TEXT)[1].features
    np.testing.assert_allclose(trained, parsed.get_dense_features(TEXT)[1].features, atol=1e-5)
    np.testing.assert_allclose(encode_sentences(["hello"])[0] * np.sqrt(384),
                               training.training_examples[1].get_dense_features(TEXT)[1].features.ravel(), atol=1e-4)
