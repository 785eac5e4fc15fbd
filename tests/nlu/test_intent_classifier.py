"""The linear intent model and the ensemble component around it, trained on real features."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from daogou_nlu.intent_classifier import ENCODER_FILE, LINEAR_FILE, EnsembleIntentClassifier
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


def test_saved_arrays_give_the_same_model():
    model, _, _ = _toy_model()
    again = IntentModel.from_arrays(model.to_arrays())
    probe = encode_sentences(["推荐个手机"])
    empty = sp.csr_matrix((1, model.idf.size))
    np.testing.assert_allclose(model.predict_proba(empty, probe), again.predict_proba(empty, probe))
    assert model.ranking(model.predict_proba(empty, probe)[0], 2)[0]["name"] == "request_recommendation"


# One fine-tuned layer is enough for three intents and keeps the test quick.
SMALL_TUNING = {"trainable_layers": 1, "epochs": 12, "batch_size": 8}


@pytest.fixture
def pipeline(tmp_path):
    """Tokenizer, word counts, sentence vectors and the classifier, each created as Rasa's graph would."""
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="test")

    def make(component, name, **config):
        return component.create({**component.get_default_config(), **config}, storage, Resource(name), context)

    return storage, [make(MixedTokenizer, "tokenizer"), make(CountVectorsFeaturizer, "counts"),
                     make(SentenceEncoderFeaturizer, "vectors")], make(EnsembleIntentClassifier, "intents", **SMALL_TUNING)


def _featurize(components, data):
    for component in components:
        if hasattr(component, "train"):
            component.train(data)
        component.process_training_data(data)


def test_component_trains_saves_loads_and_classifies(pipeline):
    storage, featurizers, classifier = pipeline
    data = TrainingData([Message(data={TEXT: t, INTENT: intent}) for intent, ts in EXAMPLES.items() for t in ts])
    _featurize(featurizers, data)
    resource = classifier.train(data)

    with storage.read_from(resource) as directory:
        assert (directory / ENCODER_FILE).exists()
    loaded = EnsembleIntentClassifier.load({**EnsembleIntentClassifier.get_default_config(), **SMALL_TUNING}, storage,
                                           resource, ExecutionContext(GraphSchema({}), node_name="intents"))
    messages = [Message(data={TEXT: "能推荐一个 laptop 吗"}), Message(data={TEXT: "hello!"})]
    for component in featurizers:
        component.process(messages)
    loaded.process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == ["request_recommendation", "greet"]
    ranking = messages[0].get("intent_ranking")
    assert len(ranking) == 3 and ranking[0]["confidence"] >= ranking[1]["confidence"] >= ranking[2]["confidence"]


def test_a_message_without_features_gets_no_intent(pipeline):
    _, _, classifier = pipeline
    message = Message(data={TEXT: ""})
    classifier.process([message])
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}
    assert message.get("intent_ranking") == []


def test_training_on_one_intent_is_refused(pipeline):
    _, featurizers, classifier = pipeline
    data = TrainingData([Message(data={TEXT: t, INTENT: "greet"}) for t in EXAMPLES["greet"]])
    _featurize(featurizers, data)
    with pytest.raises(ValueError, match="two intents"):
        classifier.train(data)


@pytest.mark.parametrize("shares, problem", [
    ({"encoder": -0.5}, "non-negative"),
    ({"linear": 0, "encoder": 0}, "non-negative"),
    ({"linear": float("nan")}, "non-negative"),
    ({"diet": 0.25}, "unknown parts"),
])
def test_bad_shares_are_refused(pipeline, shares, problem):
    storage, _, _ = pipeline
    with pytest.raises(ValueError, match=problem):
        EnsembleIntentClassifier({"shares": shares}, storage, Resource("intents"))


def test_an_earlier_classifiers_ranking_is_weighed_in_and_its_absence_is_harmless(pipeline):
    storage, featurizers, _ = pipeline
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    config = {**EnsembleIntentClassifier.get_default_config(), "fine_tune": False,
              "shares": {"linear": 1.0, "earlier": 3.0}}
    classifier = EnsembleIntentClassifier.create(config, storage, Resource("intents"), context)
    data = TrainingData([Message(data={TEXT: t, INTENT: intent}) for intent, ts in EXAMPLES.items() for t in ts])
    _featurize(featurizers, data)
    classifier.train(data)

    alone, outvoted = Message(data={TEXT: "hello!"}), Message(data={TEXT: "hello!"})
    # What DIET leaves on a message: its whole ranking; names the ensemble never saw are ignored.
    outvoted.set("intent_ranking", [{"name": "privacy_forget_me", "confidence": 0.9},
                                    {"name": "greet", "confidence": 0.05}, {"name": "chitchat", "confidence": 0.05}])
    for component in featurizers:
        component.process([alone, outvoted])
    classifier.process([alone, outvoted])
    assert alone.get(INTENT)["name"] == "greet"
    assert outvoted.get(INTENT)["name"] == "privacy_forget_me"
    for message in (alone, outvoted):
        np.testing.assert_allclose(sum(r["confidence"] for r in message.get("intent_ranking")), 1.0, atol=1e-6)


@pytest.mark.parametrize("pooled_layers", [[], [4, 8]])
def test_without_fine_tuning_only_the_linear_model_is_trained_and_saved(pipeline, pooled_layers):
    storage, featurizers, _ = pipeline
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    config = {**EnsembleIntentClassifier.get_default_config(), "fine_tune": False, "pooled_layers": pooled_layers}
    classifier = EnsembleIntentClassifier.create(config, storage, Resource("intents"), context)
    data = TrainingData([Message(data={TEXT: t, INTENT: intent}) for intent, ts in EXAMPLES.items() for t in ts])
    _featurize(featurizers, data)
    resource = classifier.train(data)
    with storage.read_from(resource) as directory:
        assert not (directory / ENCODER_FILE).exists()
        with np.load(directory / LINEAR_FILE) as arrays:  # the sentence vector, then one vector per pooled layer
            assert arrays["centre"].shape == (384 * (1 + len(pooled_layers)),)
    message = Message(data={TEXT: "清除我的个人数据"})
    for component in [*featurizers, EnsembleIntentClassifier.load(config, storage, resource, context)]:
        component.process([message])
    assert message.get(INTENT)["name"] == "privacy_forget_me"
