"""The on-disk sentence-vector cache: only unknown texts are encoded, and a broken file costs only time."""
from __future__ import annotations

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.sentence_encoder import ENCODER_VARIANT, RecentVectors, SentenceEncoderFeaturizer, encode_sentences
from daogou_nlu.vector_cache import (cached_vectors, default_path, read, ship, shipped_path, stored, text_key,
                                    training_vectors)


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
    np.testing.assert_allclose(stored(encode_sentences(["hello"]))[0] * np.sqrt(384),
                               training.training_examples[1].get_dense_features(TEXT)[1].features.ravel(), atol=1e-4)


def test_a_seed_file_spares_the_encoder_and_fills_the_machines_memo(tmp_path):
    seed, own = tmp_path / "shipped.npz", tmp_path / "own.npz"
    cached_vectors(["hi", "你好"], CountingEncoder(), seed, progress=False)
    encode = CountingEncoder()
    vectors = cached_vectors(["hi", "new text"], encode, own, progress=False, seeds=[seed])
    assert encode.seen == ["new text"]
    assert vectors["hi"].tolist() == [2.0, 1.0]
    assert set(read(own)) == {text_key("hi"), text_key("new text")}


def test_the_shipped_memo_holds_digests_and_half_precision_vectors_not_texts(tmp_path):
    path = ship(["recommend a phone", "想买个平板"], CountingEncoder(), "test", tmp_path / "shipped.npz")
    with np.load(path, allow_pickle=False) as arrays:
        assert set(arrays.files) == {"keys", "vectors"}
        assert arrays["keys"].shape == (2, 16) and arrays["vectors"].dtype == np.float16
    assert b"phone" not in path.read_bytes() and "平板".encode() not in path.read_bytes()


def test_the_shipped_memo_is_the_encoders_and_covers_what_training_reads():
    from scripts.ship_sentence_vectors import training_texts

    shipped = read(shipped_path(ENCODER_VARIANT))
    texts = training_texts()
    covered = [t for t in texts if text_key(t) in shipped]
    assert len(covered) >= 0.9 * len(texts), "run scripts/ship_sentence_vectors.py after make models"
    sample = covered[:: max(1, len(covered) // 20)]
    np.testing.assert_allclose(np.vstack([shipped[text_key(t)] for t in sample]), stored(encode_sentences(sample)),
                               atol=2e-3)


def test_parsing_sees_the_vectors_training_saw(tmp_path, monkeypatch):
    monkeypatch.setenv("DAOGOU_VAR_DIR", str(tmp_path))
    text = "is the battery good on the second one"
    trained = training_vectors([text], encode_sentences, ENCODER_VARIANT, progress=False)[text]
    np.testing.assert_array_equal(RecentVectors()(text), trained)
