"""data/nlu teaches exactly what the committed fingerprint says, one file per intent family.

`tests/nlu/examples_fingerprint.json` (written by `scripts/nlu_examples.py --write`) is the digest
of every example's text, full intent (`faq/shipping`) and entities with their values and
positions, and of the synonyms, regexes and lookup tables, as Rasa's reader loads them. Moving
examples between files or reordering them leaves it unchanged, which is what proved the
reorganisation by intent family lossless. Any change to the examples must be deliberate: when
this test fails after you changed examples on purpose, read the differences it prints, then run
`python scripts/nlu_examples.py --write` and commit the new fingerprint with the examples.

The files are organised by intent family (README, "NLU data"): each intent's examples live in one
file, and what scripts/generate_nlu_lookups.py writes lives apart, under data/nlu/generated/.
"""
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("nlu_examples", PROJECT_ROOT / "scripts" / "nlu_examples.py")
nlu_examples = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = nlu_examples  # dataclasses look their module up while the script loads
_spec.loader.exec_module(nlu_examples)


def write_nlu(folder: Path, name: str, blocks: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text('version: "3.1"\nnlu:\n' + blocks, encoding="utf-8")


GREET = "- intent: greet\n  examples: |\n    - hi\n    - 你好\n"
BUY = "- intent: add_to_cart\n  examples: |\n    - add the [Pixel 8](product) to my cart\n    - buy it\n"
FAQ = "- intent: faq/shipping\n  examples: |\n    - how long does shipping take\n"


def test_data_nlu_matches_the_committed_fingerprint():
    committed = nlu_examples.Fingerprint.from_json(nlu_examples.FINGERPRINT_FILE.read_text(encoding="utf-8"))
    current = nlu_examples.fingerprint(nlu_examples.load(nlu_examples.NLU_DIR))
    assert current == committed, "data/nlu changed:\n" + "\n".join(committed.differences(current))


def test_fingerprint_ignores_files_and_order_but_not_content(tmp_path):
    write_nlu(tmp_path / "one", "all.yml", GREET + BUY + FAQ)
    write_nlu(tmp_path / "two", "social.yml", "- intent: greet\n  examples: |\n    - 你好\n    - hi\n")
    write_nlu(tmp_path / "two" / "more", "rest.yml", FAQ + BUY)
    (tmp_path / "two" / "more" / "words.txt").write_text("充电宝 100000\n", encoding="utf-8")  # not NLU data: skipped
    one = nlu_examples.fingerprint(nlu_examples.load(tmp_path / "one"))
    assert one == nlu_examples.fingerprint(nlu_examples.load(tmp_path / "two"))
    assert one.intents == {"add_to_cart": 2, "faq/shipping": 1, "greet": 2}

    write_nlu(tmp_path / "moved", "all.yml", GREET + BUY.replace("the [Pixel 8](product)", "[the Pixel 8](product)") + FAQ)
    moved = nlu_examples.fingerprint(nlu_examples.load(tmp_path / "moved"))
    assert moved != one and moved.examples == one.examples
    assert one.differences(moved) == ["same counts, different content (a text, an entity or a synonym changed)"]

    write_nlu(tmp_path / "topic", "all.yml", GREET + BUY + FAQ.replace("faq/shipping", "faq/returns"))
    assert nlu_examples.fingerprint(nlu_examples.load(tmp_path / "topic")).intents["faq/returns"] == 1
    assert "intent faq/shipping: 1 != 0" in one.differences(nlu_examples.fingerprint(nlu_examples.load(tmp_path / "topic")))


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        nlu_examples.load(tmp_path / "absent")


@pytest.fixture(scope="module")
def each_file():
    return nlu_examples.load_each(nlu_examples.NLU_DIR)


def test_each_intent_lives_in_one_family_file(each_file):
    files = nlu_examples.files_by_intent(each_file)
    assert files, "no intent examples found in data/nlu"
    spread = {intent: sorted(names) for intent, names in files.items() if len(names) > 1}
    assert not spread, f"intents spread over several files: {spread}"


def test_generated_tables_live_apart_from_the_examples(each_file):
    generated = {name for name in each_file if name.startswith("generated/")}
    assert {"generated/lookups.yml", "generated/products.yml"} <= generated
    for name, data in each_file.items():
        if name in generated:
            assert not data.training_examples, f"{name} is generated: examples belong in a family file"
        else:
            assert not data.lookup_tables, f"{name} holds a lookup table: generate it under data/nlu/generated/"


def test_the_tokenizer_reads_the_generated_jieba_dictionary():
    pipeline = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    folders = [component["dictionary_path"] for component in pipeline if "dictionary_path" in component]
    assert folders == ["data/nlu/generated/jieba"]
    assert (PROJECT_ROOT / folders[0] / "aliases.txt").is_file()
