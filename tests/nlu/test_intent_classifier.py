"""The linear heads (intents and FAQ topics), trained on real features as Rasa's graph would."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.core.processor import MessageProcessor
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, RESPONSE_SELECTOR, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.faq_selector import LinearResponseSelector
from daogou_nlu.intent_classifier import MODEL_FILE, LinearIntentClassifier
from daogou_nlu.intent_model import IntentModel
from daogou_nlu.sentence_encoder import SentenceEncoderFeaturizer, encode_sentences
from daogou_nlu.tokenizer import MixedTokenizer

EXAMPLES = {
    "greet": ["hi", "hello there", "你好", "早上好", "hey", "在吗"],
    "privacy_forget_me": ["delete my data", "forget everything about me", "删除我的数据", "把我的记录清掉",
                          "erase my history", "别再保存我的信息"],
    "request_recommendation": ["recommend a phone", "推荐一款耳机", "i need a laptop under 5000",
                               "想买个平板", "suggest some earbuds", "三千以内的手机"],
}
FAQ = {
    "faq/shipping": ["how long does shipping take", "when will my order arrive", "几天能到", "包邮吗", "运费多少"],
    "faq/returns": ["can i return it", "what is your return policy", "能退货吗", "七天无理由退换吗", "i want a refund"],
}


def _textbook_design(model: IntentModel, counts: sp.spmatrix, vectors: np.ndarray) -> sp.csr_matrix:
    """The design as first written, with diagonal matrices: what `IntentModel._design` must equal bit for bit."""
    from daogou_nlu.intent_model import unit_rows

    tf = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    tf.eliminate_zeros()
    tf.data = np.log(tf.data) + 1.0
    tfidf = tf @ sp.diags(model.idf)
    norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1))).ravel()
    tfidf = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ tfidf
    dense = (unit_rows(vectors) - model.centre) * model.sentence_weight
    return sp.hstack([tfidf, sp.csr_matrix(dense)]).tocsr()


def test_the_design_is_the_textbook_tfidf_and_vector_block_bit_for_bit():
    rng = np.random.default_rng(0)
    features = 5000
    model = IntentModel(np.array(["a", "b"]), rng.random(features) + 1, rng.random(8), rng.random((2, features + 8)),
                        rng.random(2))
    counts = sp.random(6, features, density=0.01, random_state=1, format="lil") * 4
    counts[2, :] = 0  # a message with no known word
    counts = sp.csr_matrix(np.ceil(counts.toarray()))
    vectors = rng.random((6, 8))
    vectors[4] = 0
    got, want = model._design(counts, vectors), _textbook_design(model, counts, vectors)
    assert got.shape == want.shape and got.has_sorted_indices
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)  # exactly, not approximately


def _toy_model(scale: float = 1.0) -> tuple:
    texts = [t for ts in EXAMPLES.values() for t in ts]
    labels = [intent for intent, ts in EXAMPLES.items() for _ in ts]
    counts = sp.csr_matrix(np.eye(len(texts)))  # one private "word" per example: only the vectors generalise
    return IntentModel.fit(counts, encode_sentences(texts) * scale, labels), texts, labels


def test_probabilities_are_a_distribution_and_unseen_wording_is_understood():
    model, _, _ = _toy_model()
    unseen = ["please wipe what you stored about me", "清除我的个人数据"]
    probabilities = model.predict_proba(sp.csr_matrix((2, model.idf.size)), encode_sentences(unseen))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert list(model.labels[probabilities.argmax(axis=1)]) == ["privacy_forget_me", "privacy_forget_me"]


def test_predictions_do_not_depend_on_how_the_featurizer_scaled_the_vectors():
    unit, texts, _ = _toy_model(scale=1.0)
    scaled, _, _ = _toy_model(scale=np.sqrt(384))
    probe = encode_sentences(["recommend a tablet", "bye", "我要删除数据"])
    empty = sp.csr_matrix((3, unit.idf.size))
    np.testing.assert_allclose(unit.predict_proba(empty, probe), scaled.predict_proba(empty, probe * 20), atol=1e-6)


def test_saved_arrays_give_the_same_model_and_a_ranking_of_zero_length_is_all_of_it():
    model, _, _ = _toy_model()
    again = IntentModel.from_arrays(model.to_arrays())
    probe = encode_sentences(["推荐个手机"])
    empty = sp.csr_matrix((1, model.idf.size))
    np.testing.assert_allclose(model.predict_proba(empty, probe), again.predict_proba(empty, probe))
    probabilities = model.predict_proba(empty, probe)[0]
    assert model.ranking(probabilities, 2)[0]["name"] == "request_recommendation"
    assert len(model.ranking(probabilities, 0)) == len(EXAMPLES)


@pytest.fixture
def pipeline(tmp_path):
    """Tokenizer, word counts and sentence vectors, each created as Rasa's graph would, and a maker for heads."""
    storage = LocalModelStorage(tmp_path)

    def make(component, name, **config):
        context = ExecutionContext(GraphSchema({}), node_name=name)
        return component.create({**component.get_default_config(), **config}, storage, Resource(name), context)

    featurizers = [make(MixedTokenizer, "tokenizer"), make(CountVectorsFeaturizer, "counts"),
                   make(SentenceEncoderFeaturizer, "vectors")]
    return storage, featurizers, make


def _training_data(featurizers, examples) -> TrainingData:
    messages = []
    for label, texts in examples.items():
        intent = label.split("/")[0]
        for text in texts:
            data = {TEXT: text, INTENT: intent}
            if "/" in label:
                data[INTENT_RESPONSE_KEY] = label
            messages.append(Message(data=data))
    data = TrainingData(messages)
    for component in featurizers:
        if hasattr(component, "train"):
            component.train(data)
        component.process_training_data(data)
    return data


def _parse(featurizers, heads, *texts):
    messages = [Message(data={TEXT: text}) for text in texts]
    for component in [*featurizers, *heads]:
        component.process(messages)
    return messages


def test_intent_head_trains_saves_loads_and_classifies(pipeline):
    storage, featurizers, make = pipeline
    resource = make(LinearIntentClassifier, "intents").train(_training_data(featurizers, EXAMPLES))
    with storage.read_from(resource) as directory:
        assert (directory / MODEL_FILE).exists()
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, resource,
                                         ExecutionContext(GraphSchema({}), node_name="intents"))
    first, second = _parse(featurizers, [loaded], "能推荐一个 laptop 吗", "hello!")
    assert [first.get(INTENT)["name"], second.get(INTENT)["name"]] == ["request_recommendation", "greet"]
    ranking = first.get("intent_ranking")
    assert len(ranking) == 3 and ranking[0]["confidence"] >= ranking[1]["confidence"] >= ranking[2]["confidence"]


def test_a_message_without_text_gets_no_intent_and_an_untrained_head_none_either(pipeline, tmp_path):
    storage, featurizers, make = pipeline
    head = make(LinearIntentClassifier, "intents")
    head.train(_training_data(featurizers, EXAMPLES))
    empty = Message(data={TEXT: ""})
    head.process([empty])
    assert empty.get(INTENT) == {"name": None, "confidence": 0.0} and empty.get("intent_ranking") == []
    never_trained = LinearIntentClassifier.load({}, storage, Resource("nothing"),
                                                ExecutionContext(GraphSchema({}), node_name="nothing"))
    (message,) = _parse(featurizers, [never_trained], "hi")
    assert message.get(INTENT)["name"] is None


def test_training_on_one_intent_is_refused(pipeline):
    _, featurizers, make = pipeline
    with pytest.raises(ValueError, match="two labels"):
        make(LinearIntentClassifier, "intents").train(_training_data(featurizers, {"greet": EXAMPLES["greet"]}))


def test_faq_topic_is_where_rasa_reads_it(pipeline):
    """The parse data has ResponseSelector's shape: utter_faq reads `utter_action`, the processor the full intent."""
    storage, featurizers, make = pipeline
    data = _training_data(featurizers, {**EXAMPLES, **FAQ})
    data.responses = {"utter_faq/shipping": [{"text": "2-3 days"}], "utter_faq/returns": [{"text": "7 days"}]}
    resource = make(LinearResponseSelector, "faq").train(data)
    selector = LinearResponseSelector.load(LinearResponseSelector.get_default_config(), storage, resource,
                                           ExecutionContext(GraphSchema({}), node_name="faq"))
    shipping, returns = _parse(featurizers, [selector], "多久发货呀", "how do i send it back for a refund")
    selected = shipping.get(RESPONSE_SELECTOR)
    assert selected["all_retrieval_intents"] == ["faq"]
    response = selected["faq"]["response"]
    assert response["intent_response_key"] == "faq/shipping" and response["utter_action"] == "utter_faq/shipping"
    assert response["responses"] == [{"text": "2-3 days"}]
    assert [r["intent_response_key"] for r in selected["faq"]["ranking"]] == ["faq/shipping", "faq/returns"]
    assert returns.get(RESPONSE_SELECTOR)["faq"]["response"]["utter_action"] == "utter_faq/returns"

    parse_data = {"intent": {"name": "faq", "confidence": 0.9}, RESPONSE_SELECTOR: selected}
    MessageProcessor._update_full_retrieval_intent(None, parse_data)
    assert parse_data["intent"]["full_retrieval_intent_name"] == "faq/shipping"


def test_a_response_selector_without_a_retrieval_intent_is_refused(pipeline):
    storage, _, _ = pipeline
    with pytest.raises(ValueError, match="retrieval_intent"):
        LinearResponseSelector({"retrieval_intent": ""}, storage, Resource("faq"))


def test_remembered_sentence_vectors_are_the_encoders_own_and_the_memory_is_bounded():
    from daogou_nlu.sentence_encoder import RecentVectors
    from daogou_nlu.vector_cache import stored

    recent = RecentVectors(size=2)
    texts = ["something cheaper", "有没有更便宜的", "compare the first two"]
    fresh = stored(encode_sentences(texts))  # at the training memo's precision
    first = recent(texts[0])
    assert np.array_equal(first, fresh[0]) and recent(texts[0]) is first  # remembered, not encoded again
    assert not first.flags.writeable
    for text, vector in zip(texts[1:], fresh[1:]):
        assert np.array_equal(recent(text), vector)
    assert len(recent) == 2 and recent(texts[0]) is not first  # the oldest was dropped, then encoded again
    assert all(texts[0] not in repr(key) for key in recent._vectors)  # digests, not the shopper's words
