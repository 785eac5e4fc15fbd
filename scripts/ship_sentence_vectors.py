"""Refresh the sentence vectors shipped with the project (``data/sentence_vectors/``).

A fresh checkout's first ``rasa train`` would otherwise encode every training example with e5 (~14 s on this
machine's two cores with the engine built for it, ~64 s with the wheel's engine where there is no C compiler); with the shipped memo it encodes only what changed since the last
refresh. Run after ``make models`` when the NLU data changed a lot (the tests fail below 90 % coverage):

    .venv/bin/python scripts/ship_sentence_vectors.py

It ships exactly the texts training reads: the written examples of ``data/nlu`` and the real-message
examples ``make models`` generated (``var/nlu/real_messages.yml``), each keyed by its BLAKE2 digest, never
the text itself (``daogou_nlu.vector_cache``). The dev set's texts are not shipped.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from daogou_nlu.sentence_encoder import ENCODER_VARIANT, encode_sentences  # noqa: E402
from daogou_nlu.vector_cache import ship  # noqa: E402
from scripts.real_nlu_examples import OUTPUT as REAL_EXAMPLES  # noqa: E402

NLU_FILES = (PROJECT_ROOT / "data" / "nlu", REAL_EXAMPLES)


def training_texts() -> List[str]:
    """Every example text ``rasa train`` reads (the files ``make models`` passes it), as Rasa reads them."""
    from rasa.shared.nlu.training_data.loading import load_data

    paths = [p for root in NLU_FILES for p in (sorted(root.rglob("*.yml")) if root.is_dir() else [root]) if p.is_file()]
    return sorted({m.get("text") for path in paths for m in load_data(str(path)).training_examples if m.get("text")})


def main() -> int:
    if not REAL_EXAMPLES.is_file():
        print(f"{REAL_EXAMPLES} is missing: run `make models` first", file=sys.stderr)
        return 2
    texts = training_texts()
    path = ship(texts, encode_sentences, ENCODER_VARIANT)
    print(f"{len(texts)} vectors -> {path.relative_to(PROJECT_ROOT)} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
