"""The real-message training examples (scripts/real_nlu_examples.py) never hold the dev set.

What training read is checked on the very file ``make models`` wrote (``var/nlu/real_messages.yml``); the
steps that keep the dev set out are checked on the corpora with made-up vectors; the hand labels are checked
against their texts and the intent contract. Needs the shared corpora, like tests/nlu/test_devset.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from scripts.nlu_devset import DevsetError, load_devset, normalise, read_source, text_hash
from scripts.real_nlu_examples import (LABELLED, NEAR_DUPLICATE, OUTPUT, RULES, Example, candidates, dev_exclusions,
                                       hand_labelled, labelling_pool, main, near_duplicates, to_yaml)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev():
    return dev_exclusions()


def test_the_file_training_read_holds_no_dev_text():
    assert OUTPUT.is_file(), "make models writes var/nlu/real_messages.yml before training"
    trained = [m.get("text") for m in load_data(str(OUTPUT)).training_examples]
    assert len(trained) > 3000  # the corpora were there and the rules drew from them
    dev_texts = {normalise(row.text) for row in load_devset()}
    assert [t for t in trained if normalise(t) in dev_texts] == []


def test_no_rule_offers_a_dev_row_its_dialogue_or_its_text(dev):
    dev_rows, dev_dialogues, dev_texts = dev
    dev_normalised = {normalise(t) for t in dev_texts}
    for rule in RULES:
        offered = candidates(rule, read_source(rule.source), dev_rows, dev_dialogues, dev_normalised)
        assert offered, rule.name
        assert not {(r.source, r.line) for r in offered} & dev_rows
        assert not {(r.source, r.fields.get("dialogue")) for r in offered} & dev_dialogues
        assert not {normalise(r.text) for r in offered} & dev_normalised
        assert all(rule.selects(r) for r in offered)


def test_the_labelling_pools_hold_no_dev_row_or_dialogue(dev):
    dev_rows, dev_dialogues, _ = dev
    for name in ("recquest/later", "ecd/customer"):
        pool = labelling_pool(name)
        assert pool and not {(r.source, r.line) for r in pool} & dev_rows
        assert not {(r.source, r.fields.get("dialogue")) for r in pool} & dev_dialogues


def test_near_duplicates_of_dev_rows_are_found_by_their_vectors():
    unit = np.eye(4)
    close = unit[0] * np.sqrt(NEAR_DUPLICATE + 0.01) + unit[1] * np.sqrt(1 - NEAR_DUPLICATE - 0.01)
    far = unit[0] * np.sqrt(0.8) + unit[2] * np.sqrt(0.2)
    vectors = {"dev": unit[0], "close": close, "far": far, "other": unit[3]}
    assert near_duplicates(["close", "far", "other"], ["dev"], lambda texts: vectors) == {"close"}


def test_hand_labels_are_of_the_contract_and_match_their_texts():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    responses = set(domain["responses"])
    labelled = hand_labelled(LABELLED)
    assert len(labelled) > 1000
    for _, intent, _ in labelled:
        base, _, topic = intent.partition("/")
        assert base in intents and (not topic or f"utter_{intent}" in responses), intent


def test_a_label_whose_text_changed_is_refused(tmp_path):
    line = json.loads((LABELLED / "recquest_later.jsonl").read_text(encoding="utf-8").splitlines()[0])
    (tmp_path / "labels.jsonl").write_text(json.dumps({**line, "sha": "000000000000"}) + "\n", encoding="utf-8")
    with pytest.raises(DevsetError, match="changed"):
        hand_labelled(tmp_path)


def test_a_label_on_a_dev_row_is_refused(tmp_path, dev):
    source, line = sorted(dev[0])[0]
    text = read_source(source)[line - 1].text
    record = {"source": source, "line": line, "sha": text_hash(text), "intent": "out_of_scope"}
    (tmp_path / "labels.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(DevsetError, match="dev-set row"):
        hand_labelled(tmp_path)


def test_the_yaml_is_what_rasa_reads_back(tmp_path):
    examples = [Example("r", "out_of_scope", "set an alarm  for 7: am # not a comment"),
                Example("r", "faq/shipping", "几天能到？"), Example("r", "give_feedback", "屏幕大 玩游戏比较爽")]
    path = tmp_path / "real.yml"
    path.write_text(to_yaml(examples), encoding="utf-8")
    read = {(m.get("text"), m.get("intent_response_key") or m.get("intent"))
            for m in load_data(str(path)).training_examples}
    assert read == {("set an alarm for 7: am # not a comment", "out_of_scope"), ("几天能到？", "faq/shipping"),
                    ("屏幕大 玩游戏比较爽", "give_feedback")}


def test_without_the_corpora_training_gets_an_empty_but_valid_file(tmp_path, capsys):
    out = tmp_path / "real.yml"
    assert main(["--out", str(out), "--datasets", str(tmp_path / "nowhere")]) == 0
    assert load_data(str(out)).training_examples == []
    assert "none" in capsys.readouterr().err
