"""Cross-validate the pipeline's light heads in minutes, with ablations of their feature blocks.

`rasa test nlu --cross-validation` trains the whole Rasa model per fold; the heads of this design
(`daogou_nlu.intent_classifier.LinearIntentClassifier`, `daogou_nlu.faq_selector.LinearResponseSelector`)
are linear models over features the pipeline's own featurizers make, so this script runs those very
components (tokenizer, regex, word and character counts, trained on each fold's training part) and fits
the heads on named subsets of their features:

    .venv/bin/python scripts/nlu_heads_cv.py --folds 5                 # the whole table
    .venv/bin/python scripts/nlu_heads_cv.py --variants full --folds 3 # one row
    .venv/bin/python scripts/nlu_heads_cv.py --test path/to/set.yml    # train on all data, score a separate set

It prints one Markdown row per variant: intent accuracy in English and Chinese, weighted F1, out-of-scope
recall and how often an in-scope message is rejected (predicted out_of_scope, or below the
FallbackClassifier threshold of config.yml), the FAQ topic accuracy, and the fit time.
Sentence vectors come from the pipeline's own on-disk cache (daogou_nlu.vector_cache).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from daogou_nlu.intent_model import DEFAULT_SENTENCE_WEIGHT, DEFAULT_SOLVER, SOLVERS, IntentModel  # noqa: E402
from daogou_nlu.language import detect_language  # noqa: E402
from daogou_nlu.sentence_encoder import ENCODER_VARIANT, encode_sentences  # noqa: E402
from daogou_nlu.vector_cache import training_vectors  # noqa: E402
from daogou_nlu.tokenizer import MixedTokenizer  # noqa: E402

OUT_OF_SCOPE = "out_of_scope"
#: Feature blocks by the name of the featurizer that makes them ("vector" is the sentence encoder).
VARIANTS: Dict[str, Tuple[str, ...]] = {
    "full": ("words", "chars", "vector"),
    "with regex/lookups": ("words", "chars", "regex", "vector"),
    "no sentence vector": ("words", "chars"),
    "sentence vector only": ("vector",),
    "no character n-grams": ("words", "vector"),
    "no word counts": ("chars", "vector"),
}


@dataclass
class Scores:
    accuracy_en: float
    accuracy_zh: float
    weighted_f1: float
    oos_recall: float
    in_scope_rejected: float
    faq_topic_accuracy: float
    fit_seconds: float

    def row(self, name: str) -> str:
        return (f"| {name} | {self.accuracy_en:.3f} | {self.accuracy_zh:.3f} | {self.weighted_f1:.3f} | "
                f"{self.oos_recall:.3f} | {self.in_scope_rejected:.3f} | {self.faq_topic_accuracy:.3f} | "
                f"{self.fit_seconds:.1f} |")


HEADER = ("| variant | intent acc. en | intent acc. zh | weighted F1 | OOS recall | in-scope rejected | "
          "FAQ topic acc. | fit CPU s |\n|---|---|---|---|---|---|---|---|")


def fallback_threshold() -> float:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    return next(float(c.get("threshold", 0.3)) for c in config["pipeline"] if c["name"] == "FallbackClassifier")


def load_examples(paths: Sequence[Path]) -> List[Message]:
    files = [f for p in paths for f in (sorted(p.glob("*.yml")) if p.is_dir() else [p])]
    data = load_data(str(files[0])).merge(*[load_data(str(f)) for f in files[1:]])
    return [m for m in data.intent_examples if m.get(TEXT)]


def sentence_vectors(texts: Sequence[str]) -> Dict[str, np.ndarray]:
    """Sentence vectors by text, from the cache the pipeline's featurizer fills (`daogou_nlu.vector_cache`)."""
    return training_vectors(texts, encode_sentences, ENCODER_VARIANT)


def copies(messages: Sequence[Message]) -> List[Message]:
    return [Message(data={k: v for k, v in m.data.items()}) for m in messages]


def featurize(train: List[Message], test: List[Message], tmp: Path) -> None:
    """Trains the pipeline's sparse featurizers on `train` (as `rasa train` would) and featurizes both."""
    storage = LocalModelStorage(tmp)
    context = ExecutionContext(GraphSchema({}), node_name="cv")
    lookups = load_data(str(PROJECT_ROOT / "data" / "nlu" / "generated" / "lookups.yml"))
    components = [
        MixedTokenizer.create({**MixedTokenizer.get_default_config(), "dictionary_path": str(PROJECT_ROOT / "data/nlu/generated/jieba")},
                              storage, Resource("tokenizer"), context),
        RegexFeaturizer.create({**RegexFeaturizer.get_default_config(), "case_sensitive": False,
                                "use_lookup_tables": True, "use_word_boundaries": False},
                               storage, Resource("regex"), ExecutionContext(GraphSchema({}), node_name="regex")),
        CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage, Resource("words"),
                                      ExecutionContext(GraphSchema({}), node_name="words")),
        CountVectorsFeaturizer.create({**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb",
                                       "min_ngram": 1, "max_ngram": 4}, storage, Resource("chars"),
                                      ExecutionContext(GraphSchema({}), node_name="chars")),
    ]
    train_data = TrainingData(train, lookup_tables=lookups.lookup_tables)
    for component in components:
        if isinstance(component, MixedTokenizer):
            component.process_training_data(train_data)
            component.process(test)
            continue
        component.train(train_data)
        component.process_training_data(train_data)
        component.process(test)


def design(messages: Sequence[Message], blocks: Sequence[str], vectors: Dict[str, np.ndarray]) -> Tuple[sp.csr_matrix, np.ndarray]:
    names = [b for b in blocks if b != "vector"]
    rows = []
    for m in messages:
        _, sentence = m.get_sparse_features(TEXT, featurizers=names)
        rows.append(sp.csr_matrix(sentence.features) if names and sentence is not None else sp.csr_matrix((1, 1)))
    dense = (np.vstack([vectors[m.get(TEXT)] for m in messages]) if "vector" in blocks
             else np.zeros((len(messages), 1)))
    return sp.vstack(rows).tocsr(), dense


def score(train: List[Message], test: List[Message], blocks: Sequence[str], vectors: Dict[str, np.ndarray],
          threshold: float, c: float, weight: float, solver: str) -> Tuple[List[str], List[float], List[Optional[str]], float]:
    """Predicted intents, their confidences and FAQ topics (None outside faq) for `test`, and the fit time."""
    started = time.process_time()
    counts, dense = design(train, blocks, vectors)
    model = IntentModel.fit(counts, dense, [m.get(INTENT) for m in train], c=c, sentence_weight=weight, solver=solver)
    faq_train = [i for i, m in enumerate(train) if m.get(INTENT_RESPONSE_KEY) and "/" in m.get(INTENT_RESPONSE_KEY)]
    faq = IntentModel.fit(counts[faq_train], dense[faq_train], [train[i].get(INTENT_RESPONSE_KEY) for i in faq_train],
                          c=c, sentence_weight=weight, solver=solver)
    fit_seconds = time.process_time() - started
    test_counts, test_dense = design(test, blocks, vectors)
    probabilities = model.predict_proba(test_counts, test_dense)
    topics = faq.labels[faq.predict_proba(test_counts, test_dense).argmax(axis=1)]
    return (list(model.labels[probabilities.argmax(axis=1)]), list(probabilities.max(axis=1)), list(topics), fit_seconds)


def summarise(messages: Sequence[Message], predicted: Sequence[str], confidence: Sequence[float],
              topics: Sequence[str], threshold: float, fit_seconds: float) -> Scores:
    gold = np.array([m.get(INTENT) for m in messages])
    predicted = np.array(predicted)
    languages = np.array([detect_language(m.get(TEXT)) for m in messages])
    rejected = (predicted == OUT_OF_SCOPE) | (np.array(confidence) < threshold)
    oos = gold == OUT_OF_SCOPE
    faq = np.array([bool(m.get(INTENT_RESPONSE_KEY) and "/" in m.get(INTENT_RESPONSE_KEY)) for m in messages])
    topic_right = np.array([t == m.get(INTENT_RESPONSE_KEY) for t, m in zip(topics, messages)])

    def mean(values: np.ndarray) -> float:
        return float(values.mean()) if values.size else float("nan")

    return Scores(mean((gold == predicted)[languages == "en"]), mean((gold == predicted)[languages == "zh"]),
                  float(f1_score(gold, predicted, average="weighted")), mean(rejected[oos]), mean(rejected[~oos]),
                  mean(topic_right[faq]), fit_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", default=[PROJECT_ROOT / "data" / "nlu", PROJECT_ROOT / "var" / "nlu" / "real_messages.yml"],
                        help="what training reads: the written examples and the real-message ones (make models)")
    parser.add_argument("--test", type=Path, help="score this separate set after training on all of --data")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--C", type=float, default=None, help="default: the solver's own")
    parser.add_argument("--solver", choices=SOLVERS, default=DEFAULT_SOLVER)
    parser.add_argument("--sentence-weight", type=float, default=DEFAULT_SENTENCE_WEIGHT)
    args = parser.parse_args()

    import tempfile

    threshold = fallback_threshold()
    examples = load_examples(args.data)
    test_examples = load_examples([args.test]) if args.test else []
    vectors = sentence_vectors([m.get(TEXT) for m in examples + test_examples])
    labels = np.array([m.get(INTENT) for m in examples])
    if args.test:
        splits = [(np.arange(len(examples)), None)]
    else:
        splits = list(StratifiedKFold(args.folds, shuffle=True, random_state=1).split(np.zeros(len(labels)), labels))
    prepared = []
    for train_index, test_index in splits:
        train = copies([examples[i] for i in train_index])
        test = copies(test_examples if test_index is None else [examples[i] for i in test_index])
        with tempfile.TemporaryDirectory() as tmp:
            featurize(train, test, Path(tmp))
        prepared.append((train, test))
    print(f"{len(examples)} training examples, {'a separate set of ' + str(len(test_examples)) if args.test else str(args.folds) + ' folds'}; "
          f"rejected = out_of_scope or confidence < {threshold}")
    print(HEADER)
    for variant in args.variants:
        gold: List[Message] = []
        predicted: List[str] = []
        confidence: List[float] = []
        topics: List[str] = []
        seconds = 0.0
        for train, test in prepared:
            p, c, t, s = score(train, test, VARIANTS[variant], vectors, threshold, args.C, args.sentence_weight, args.solver)
            gold += test
            predicted += p
            confidence += c
            topics += t
            seconds += s
        print(summarise(gold, predicted, confidence, topics, threshold, seconds / len(prepared)).row(variant), flush=True)


if __name__ == "__main__":
    main()
