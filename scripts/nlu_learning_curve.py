"""How intent accuracy grows with training data: a fast learning curve for data/nlu.

`scripts/evaluate_nlu.py` cross-validates the whole pipeline (one DIET entity
training and one encoder fine-tuning per fold), which takes most of an hour; this script answers a
different question in a few minutes: is the held-out score limited by the model or by the data? It fits
the linear model of the pipeline's intent ensemble (`daogou_nlu.intent_model.IntentModel`: TF-IDF of
jieba words and character 1-4-grams plus multilingual-e5-small sentence vectors, softmax regression;
the fine-tuned encoder would take minutes per point) on growing shares of each training fold, and writes a
table and a plot:

    .venv/bin/python scripts/nlu_learning_curve.py

If the score still climbs with every doubling of the data, more (varied)
examples are what the NLU needs, not another classifier.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Sequence

import jieba
import matplotlib
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from daogou_nlu.intent_model import IntentModel  # noqa: E402
from daogou_nlu.sentence_encoder import encode_sentences  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARES = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class CurvePoint:
    share: float
    training_examples: int
    accuracy: float
    weighted_f1: float


def jieba_dictionaries(config: Path = PROJECT_ROOT / "config.yml") -> List[Path]:
    """The user dictionaries of the pipeline's tokenizer (its ``dictionary_path`` in config.yml)."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    folders = [PROJECT_ROOT / c["dictionary_path"] for c in pipeline if c.get("dictionary_path")]
    return sorted(path for folder in folders for path in folder.glob("*.txt"))


def intent_examples(nlu_path: Path) -> tuple[List[str], np.ndarray]:
    """Texts and intents of every example (retrieval intents count as their base intent, like DIET sees them)."""
    files = sorted(nlu_path.glob("*.yml"))
    data = load_data(str(files[0])).merge(*[load_data(str(f)) for f in files[1:]])
    texts = [m.get("text") for m in data.intent_examples]
    intents = np.array([m.get("intent") for m in data.intent_examples])
    return texts, intents


def _words(text: str) -> List[str]:
    return [w for w in jieba.lcut(text.lower()) if w.strip()]


def _fit_predict(train: Sequence[str], train_vectors: np.ndarray, train_labels: np.ndarray,
                 test: Sequence[str], test_vectors: np.ndarray) -> np.ndarray:
    """The pipeline's linear intent model (`IntentModel`) on this script's own count features."""
    chars = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4))
    words = CountVectorizer(analyzer=_words)
    model = IntentModel.fit(sp.hstack([chars.fit_transform(train), words.fit_transform(train)]),
                            train_vectors, train_labels)
    probabilities = model.predict_proba(sp.hstack([chars.transform(test), words.transform(test)]), test_vectors)
    return model.labels[probabilities.argmax(axis=1)]


def learning_curve(texts: List[str], intents: np.ndarray, folds: int, seed: int) -> List[CurvePoint]:
    vectors = encode_sentences(texts)
    rng = np.random.default_rng(seed)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, intents))
    points = []
    for share in SHARES:
        predicted = np.empty(len(texts), dtype=object)
        sizes = []
        for train, test in splits:
            train = rng.permutation(train)[: max(1, int(len(train) * share))]
            sizes.append(len(train))
            predicted[test] = _fit_predict([texts[i] for i in train], vectors[train], intents[train],
                                           [texts[i] for i in test], vectors[test])
        predicted = predicted.astype(str)
        points.append(CurvePoint(share, int(np.mean(sizes)), float((predicted == intents).mean()),
                                 float(f1_score(intents, predicted, average="weighted"))))
        print(f"{share:.0%} of each training fold ({points[-1].training_examples} examples): "
              f"accuracy {points[-1].accuracy:.3f}, weighted F1 {points[-1].weighted_f1:.3f}", flush=True)
    return points


def write_report(points: List[CurvePoint], doc: Path, plot: Path, folds: int, n_examples: int) -> None:
    lines = ["# NLU learning curve", "",
             f"Written by `scripts/nlu_learning_curve.py` on {datetime.now(timezone.utc):%Y-%m-%d}: the linear model of "
             f"the pipeline's intent ensemble (TF-IDF of jieba words and character 1-4-grams plus multilingual-e5-small sentence vectors, "
             f"softmax regression), {folds}-fold stratified cross-validation over the "
             f"{n_examples} intent examples of `data/nlu`, trained on a growing share of each training fold.", "",
             "| share of training fold | training examples | held-out accuracy | weighted F1 |", "|---|---|---|---|"]
    lines += [f"| {p.share:.0%} | {p.training_examples} | {p.accuracy:.3f} | {p.weighted_f1:.3f} |" for p in points]
    lines += ["", f"![learning curve]({plot.name})", ""]
    doc.write_text("\n".join(lines), encoding="utf-8")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([p.training_examples for p in points], [p.weighted_f1 for p in points], marker="o", label="weighted F1")
    ax.axhline(0.95, color="grey", linestyle="--", label="target 0.95")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training examples (log scale)")
    ax.set_ylabel("held-out intent F1")
    ax.set_ylim(0.4, 1.0)
    ax.legend(loc="lower right")
    ax.set_title("Intent F1 vs. training data (IntentModel)")
    fig.tight_layout()
    fig.savefig(plot, dpi=120)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu", type=Path, default=PROJECT_ROOT / "data" / "nlu")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "nlu_learning_curve.md")
    args = parser.parse_args(argv)
    jieba.setLogLevel(logging.WARNING)
    for dictionary in jieba_dictionaries():  # as the pipeline's tokenizer
        jieba.load_userdict(str(dictionary))
    texts, intents = intent_examples(args.nlu)
    points = learning_curve(texts, intents, args.folds, args.seed)
    write_report(points, args.doc, args.doc.with_suffix(".png"), args.folds, len(texts))
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
