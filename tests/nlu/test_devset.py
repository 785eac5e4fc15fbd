"""The NLU dev set's integrity: it loads, it is big enough in both languages, its labels are the
assistant's contract, it is exactly the committed seeded draw, and none of it is trained on.

Needs the shared corpora (``../shared/datasets/nlu-real`` or ``$DAOGOU_DATASETS``), as the
recommender's dataset tests do; no model, no training.
"""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from scripts.nlu_devset import (
    DEVSET, DevsetError, Entry, datasets_root, load_devset, normalise, read_entries, text_hash, write_entries)
from scripts.select_devset import check, select

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rows():
    return load_devset()


def test_size_and_languages(rows):
    by_language = Counter(row.lang for row in rows)
    assert len(rows) >= 400
    assert by_language["en"] >= 200 and by_language["zh"] >= 200, by_language


def test_labels_are_the_assistants_contract(rows):
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    aliases = yaml.safe_load((PROJECT_ROOT / "data" / "catalog" / "aliases.yml").read_text(encoding="utf-8"))
    assert {row.intent for row in rows} <= set(domain["intents"])
    assert {row.category for row in rows} - {None} <= set(aliases["categories"])
    assert {row.brand for row in rows} - {None} <= set(aliases["brands"])


def test_every_intent_family_the_sources_offer_is_there(rows):
    intents = Counter(row.intent for row in rows)
    for intent in ("request_recommendation", "ask_product_info", "compare_products", "give_feedback", "faq",
                   "out_of_scope", "greet", "goodbye", "thank", "add_to_cart"):
        assert intents[intent] > 0, intent
    assert intents["out_of_scope"] < len(rows) / 2  # in-scope messages are the majority


def test_the_committed_set_is_the_seeded_selection():
    # Also proves the draw is reproducible: it was made once, by the same code, when the set was labelled.
    assert check(select()) == []


def test_every_candidate_is_labelled_or_excluded_with_a_reason():
    entries = read_entries()
    assert all((e.intent is None) != (e.excluded is None) for e in entries)
    assert all(e.excluded.strip() for e in entries if e.excluded is not None)
    assert len({(e.source, e.line) for e in entries}) == len(entries)


def test_no_dev_text_is_in_the_training_data(rows):
    from rasa.shared.nlu.training_data.loading import load_data

    trained = set()
    for path in sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml")):
        trained |= {normalise(m.get("text")) for m in load_data(str(path)).training_examples if m.get("text")}
    assert len(trained) > 1000  # the reader found the training data
    leaked = [f"{row.id}: {row.text}" for row in rows if normalise(row.text) in trained]
    assert leaked == []


def test_normalise_ignores_case_width_spacing_and_punctuation():
    assert normalise("Thank you!") == normalise("thank  you") == normalise("ＴＨＡＮＫ ＹＯＵ。")
    assert normalise("华为手机？") == "华为手机"
    assert normalise("iphone 15") != normalise("iphone 16")


def _copy_sources(tmp_path: Path) -> Path:
    target = tmp_path / "nlu-real"
    shutil.copytree(datasets_root() / "nlu-real", target)
    return tmp_path


def test_a_changed_source_row_is_refused(tmp_path):
    entry = next(e for e in read_entries() if e.intent is not None)
    root = _copy_sources(tmp_path)
    path = root / "nlu-real" / entry.source
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[entry.line - 1])
    record["text"] += " (edited)"
    lines[entry.line - 1] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DevsetError, match="text changed"):
        load_devset(root=root)


def test_a_row_past_the_end_of_its_source_is_refused(tmp_path):
    entries = read_entries()
    entry = next(e for e in entries if e.intent is not None)
    moved = Entry(entry.source, 10**7, entry.sha, entry.stratum, intent=entry.intent)
    devset = tmp_path / "devset.jsonl"
    write_entries([moved], devset)
    with pytest.raises(DevsetError, match="lines"):
        load_devset(devset)


def test_a_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(DevsetError, match="DAOGOU_DATASETS"):
        load_devset(root=tmp_path)


def test_a_row_with_both_a_label_and_an_exclusion_is_refused(tmp_path):
    devset = tmp_path / "devset.jsonl"
    devset.write_text(json.dumps({"source": "slurp_en.jsonl", "line": 1, "sha": "0", "stratum": "s",
                                  "intent": "greet", "excluded": "why"}) + "\n", encoding="utf-8")
    with pytest.raises(DevsetError, match="either"):
        read_entries(devset)


def test_text_hash_is_of_the_cleaned_text():
    assert text_hash("\ufeff hello ") == text_hash("hello") != text_hash("hello!")


def test_the_devset_file_is_what_write_entries_writes(tmp_path):
    # The committed file is canonical (sorted, compact), so a relabelling shows as a small diff.
    copy = tmp_path / "devset.jsonl"
    write_entries(read_entries(), copy)
    assert copy.read_text(encoding="utf-8") == DEVSET.read_text(encoding="utf-8")
