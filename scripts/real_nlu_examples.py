"""Training examples from real people's messages: the dev-set corpora's other rows, labelled by source rules.

Hand-written examples teach the model how we write; the dev set (``docs/nlu_devset.md``) showed it then
misreads how people write: a Taobao review taken for a request, a voice-assistant command or a chat line
taken for a shopping question. The corpora in ``../shared/datasets/nlu-real`` hold thousands more rows
than the dev set draws, and for most sources the source itself says what the assistant should do with a
row (a review of a tablet is feedback; "wake me up at seven" is not ours to do). Their README allows
training on them except on the dev set's own rows; it asks that they are not copied into the repository.

So this script writes ``var/nlu/real_messages.yml`` (not committed; ``make models`` rebuilds it, and a
machine without the corpora trains without it) from :data:`RULES`, one written rule per slice of a
source, each with a seeded quota, and leaves out, so that the dev set measures messages never seen:

- every dev-set row, labelled or excluded, and every row of a dialogue one of them belongs to;
- every row whose normalised text (``scripts.nlu_devset.normalise``) is a dev row's;
- every row whose sentence vector is within cosine :data:`NEAR_DUPLICATE` of a dev row's (SLURP and
  SMP repeat their templates: "set an alarm for six" and "set an alarm for seven");
- chat and bot-talk rows that greet, thank, say goodbye or ask who the bot is: those have intents of their
  own, which the source does not mark (:data:`SOCIAL`).

``docs/nlu_devset.md`` ("Training on the corpora's other rows") gives the rules, the counts and what the
dev set can and cannot say since.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from scripts.nlu_devset import (DevsetError, Entry, SourceRow, joined, normalise, read_entries, read_source,  # noqa: E402
                                text_hash)

OUTPUT = PROJECT_ROOT / "var" / "nlu" / "real_messages.yml"
#: Rows labelled by hand, in the dev set's format (source, line, SHA of the text, intent): no text.
LABELLED = PROJECT_ROOT / "data" / "real_labels"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
#: Rows this close to a dev row (cosine of their e5 sentence vectors) are left out as near-duplicates.
NEAR_DUPLICATE = 0.95
SEED = "daogou-real-examples-1"

#: Greetings, thanks, goodbyes and questions about the bot: intents of their own, unmarked by the sources.
SOCIAL = re.compile(
    r"你好|您好|嗨|哈喽|早上好|晚上好|晚安|谢|再见|拜拜|你是谁|机器人|你叫什么|名字|"
    r"\b(hi|hello|hey|good (morning|evening|night)|thanks?|thank you|bye|goodbye|who are you|your name|"
    r"are you (a )?(bot|robot|human|real))\b", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """One slice of one source, the intent its rows get, and how many to draw."""

    name: str
    source: str
    intent: str
    quota: int
    selects: Callable[[SourceRow], bool]
    why: str


def _field(key: str, *values: object) -> Callable[[SourceRow], bool]:
    return lambda row: row.fields.get(key) in values


def _opening(*domains: str) -> Callable[[SourceRow], bool]:
    return lambda row: row.fields.get("domain") in domains and row.fields.get("turn") == 0


def _not_social(selects: Callable[[SourceRow], bool]) -> Callable[[SourceRow], bool]:
    return lambda row: selects(row) and not SOCIAL.search(row.text)


#: Square brackets would read as Rasa's entity markup ("[text](entity)"); the few rows with them are left out.
ENTITY_MARKUP = re.compile(r"[\[\]]")

SLURP_BOT_TALK = ("general_quirky", "quirky", "general_joke", "joke")
RISAWOZ_CLOSING = "通用"

RULES: Tuple[Rule, ...] = (
    Rule("recquest/open/in_scope", "recquest_en.jsonl", "request_recommendation", 1000,
         _opening("laptop", "digital_camera", "smartwatch"),
         "the first turn to a shopping assistant for a laptop, camera or smartwatch says what is wanted"),
    Rule("recquest/open/out_of_scope", "recquest_en.jsonl", "out_of_scope", 150,
         _opening("running_shoes", "bicycle"),
         "the first turn asking for running shoes or a bicycle: goods this shop does not sell"),
    Rule("subjqa/questions", "subjqa_electronics_en.jsonl", "ask_product_info", 600,
         lambda row: True, "a question about an electronics product's qualities"),
    Rule("slurp/tasks", "slurp_en.jsonl", "out_of_scope", 600,
         lambda row: row.fields.get("scenario") != "general",
         "a voice-assistant task (calendar, music, weather, lights ...): nothing a shop does"),
    Rule("slurp/bot_talk", "slurp_en.jsonl", "out_of_scope", 200,
         _not_social(_field("slurp_intent", *SLURP_BOT_TALK)),
         "small talk and jokes asked of a voice assistant, greetings and thanks left out"),
    Rule("smp2017/tasks", "smp2017_zh.jsonl", "out_of_scope", 600,
         lambda row: row.fields.get("domain") != "chat",
         "a request to a general assistant (weather, trains, recipes, apps ...): nothing a shop does"),
    Rule("smp2017/chat", "smp2017_zh.jsonl", "out_of_scope", 300,
         _not_social(_field("domain", "chat")),
         "chat with a general assistant, greetings, thanks and questions about the bot left out"),
    Rule("risawoz/open/other_domains", "risawoz_fewshot_zh.jsonl", "out_of_scope", 100,
         lambda row: row.fields.get("turn") == 0 and "电脑" not in row.fields.get("domains", ())
         and RISAWOZ_CLOSING not in row.fields.get("domains", ()),
         "the first turn of a task dialogue about hotels, trains, restaurants, films ..."),
    Rule("risawoz/closing/goodbye", "risawoz_fewshot_zh.jsonl", "goodbye", 100,
         lambda row: row.fields.get("domains") == [RISAWOZ_CLOSING] and bool(re.search("再见|拜拜", row.text)),
         "a closing turn that says goodbye (thanks with it: the answer to both is a farewell)"),
    Rule("risawoz/closing/thank", "risawoz_fewshot_zh.jsonl", "thank", 100,
         lambda row: row.fields.get("domains") == [RISAWOZ_CLOSING] and "谢" in row.text
         and not re.search("再见|拜拜", row.text),
         "a closing turn that thanks without saying goodbye"),
    Rule("online_shopping/reviews", "online_shopping_electronics_zh.jsonl", "give_feedback", 800,
         lambda row: len(row.text) <= 60,
         "a shopper's judgement of a tablet, computer or phone (60 characters at most: a chat turn's length)"),
)


@dataclass(frozen=True)
class Example:
    rule: str
    intent: str
    text: str


def _dialogue(row: SourceRow) -> Optional[Tuple[str, object]]:
    dialogue = row.fields.get("dialogue")
    return None if dialogue is None else (row.source, dialogue)


def dev_exclusions(root: Optional[Path] = None) -> Tuple[Set[Tuple[str, int]], Set[Tuple[str, object]], List[str]]:
    """(dev rows as (source, line), dialogues holding one, dev texts) for every dev candidate."""
    rows, dialogues, texts = set(), set(), []
    for _, row in joined(read_entries(), root):
        rows.add((row.source, row.line))
        texts.append(row.text)
        if _dialogue(row) is not None:
            dialogues.add(_dialogue(row))
    return rows, dialogues, texts


def candidates(rule: Rule, rows: Sequence[SourceRow], dev_rows: Set[Tuple[str, int]],
               dev_dialogues: Set[Tuple[str, object]], dev_normalised: Set[str]) -> List[SourceRow]:
    """The rule's rows that are not dev rows, not in a dev dialogue, not a dev text, one per normalised text
    (and none with square brackets, which Rasa would read as entity markup)."""
    chosen, seen = [], set()
    for row in rows:
        key = normalise(row.text)
        if (not key or key in seen or ENTITY_MARKUP.search(row.text) or key in dev_normalised or (row.source, row.line) in dev_rows
                or _dialogue(row) in dev_dialogues or not rule.selects(row)):
            continue
        seen.add(key)
        chosen.append(row)
    return chosen


def near_duplicates(texts: Sequence[str], dev_texts: Sequence[str],
                    encode: Callable[[Sequence[str]], Dict[str, np.ndarray]]) -> Set[str]:
    """The texts whose sentence vector is within :data:`NEAR_DUPLICATE` cosine of some dev text's."""
    if not texts:
        return set()
    vectors = encode(list(texts) + list(dev_texts))
    train = np.vstack([vectors[t] for t in texts])
    dev = np.vstack([vectors[t] for t in dev_texts])
    closest = (train @ dev.T).max(axis=1)  # both unit length
    return {text for text, cosine in zip(texts, closest) if cosine >= NEAR_DUPLICATE}


def cached_encoder(texts: Sequence[str]) -> Dict[str, np.ndarray]:
    """The training pipeline's own sentence vectors, through its on-disk cache (training reuses them)."""
    from daogou_nlu.sentence_encoder import ENCODER_VARIANT, encode_sentences
    from daogou_nlu.vector_cache import training_vectors

    return training_vectors(texts, encode_sentences, ENCODER_VARIANT)


def written_texts(nlu_dir: Path = NLU_DIR) -> Set[str]:
    """The normalised texts of the hand-written examples, read as ``rasa train`` reads them."""
    from rasa.shared.nlu.training_data.loading import load_data

    return {normalise(m.get("text")) for path in sorted(nlu_dir.rglob("*.yml"))
            for m in load_data(str(path)).training_examples if m.get("text")}


def build(root: Optional[Path] = None, encode: Callable[[Sequence[str]], Dict[str, np.ndarray]] = cached_encoder,
          rules: Iterable[Rule] = RULES, labelled: Optional[Path] = None,
          written: Optional[Set[str]] = None) -> Tuple[List[Example], Dict[str, Counter]]:
    """The examples (by rule, then labelled by hand), and per rule or labels file what each step kept or left out.

    A row whose text a hand-written example of ``data/nlu`` already has is left out: that example's intent
    is the one meant (SMP's chat has "你可以做什么", which the data teaches as ``help``).
    """
    labelled = LABELLED if labelled is None else labelled
    dev_rows, dev_dialogues, dev_texts = dev_exclusions(root)
    dev_normalised = {normalise(t) for t in dev_texts}
    sources: Dict[str, List[SourceRow]] = {}
    drawn: List[Tuple[Rule, SourceRow]] = []
    counts: Dict[str, Counter] = defaultdict(Counter)
    taken: Set[str] = set(written_texts() if written is None else written)  # a text is drawn once, and not if written
    for rule in rules:
        if rule.source not in sources:
            sources[rule.source] = read_source(rule.source, root)
        pool = [row for row in candidates(rule, sources[rule.source], dev_rows, dev_dialogues, dev_normalised)
                if normalise(row.text) not in taken]
        counts[rule.name]["eligible"] = len(pool)
        sample = random.Random(f"{SEED}:{rule.name}").sample(pool, min(rule.quota, len(pool)))
        taken |= {normalise(row.text) for row in sample}
        drawn += [(rule, row) for row in sorted(sample, key=lambda r: r.line)]
    for name, intent, row in hand_labelled(labelled, root):
        if normalise(row.text) in taken:
            counts[name]["drawn by a rule or written"] += 1
            continue
        taken.add(normalise(row.text))
        drawn.append((Rule(name, row.source, intent, 0, lambda _: True, "labelled by hand"), row))
    close = near_duplicates([one_line(row.text) for _, row in drawn], dev_texts, encode)
    examples = []
    for rule, row in drawn:
        if one_line(row.text) in close:
            counts[rule.name]["near a dev row"] += 1
            continue
        counts[rule.name]["kept"] += 1
        examples.append(Example(rule.name, rule.intent, one_line(row.text)))
    return examples, counts


def one_line(text: str) -> str:
    """The text as training reads it (one example a line, single spaces), so the check for near-duplicates
    encodes the very text training will: one vector each, found in the shipped memo on a first run."""
    return " ".join(text.split())


def hand_labelled(folder: Path, root: Optional[Path] = None) -> List[Tuple[str, str, SourceRow]]:
    """(pool name, intent, row) for every labelled line of ``folder/*.jsonl``, joined with its text.

    The files have the dev set's format (``scripts.nlu_devset.Entry``: source, line, SHA of the text,
    intent or a reason for the exclusion), so :func:`~scripts.nlu_devset.joined` refuses a row whose text
    changed. A labelled row that is a dev row is an error: the pools never offer one.
    """
    dev_rows, _, _ = dev_exclusions(root)
    labelled = []
    for path in sorted(folder.glob("*.jsonl")):
        entries = [Entry(**{**json.loads(line), "stratum": path.stem})
                   for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for entry, row in joined(entries, root):
            if (row.source, row.line) in dev_rows:
                raise DevsetError(f"{path.name}: {entry.id} is a dev-set row")
            if entry.intent is not None:
                labelled.append((f"hand/{path.stem}", entry.intent, row))
    return labelled


def to_yaml(examples: Sequence[Example]) -> str:
    """Rasa's NLU YAML, one block per intent, each text on one line (candidates hold no entity brackets)."""
    by_intent: Dict[str, List[str]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example.text)
    lines = ['version: "3.1"', "# Written by scripts/real_nlu_examples.py from ../shared/datasets/nlu-real:",
             "# real people's messages, never the dev set's. Not committed; do not edit.", "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {one_line(text)}" for text in by_intent[intent]]
    return "\n".join(lines) + "\n"


#: Slices whose rows the source cannot label (a shopper's later turns, a customer's chat turns): people label
#: them by the dev set's rules, in the seeded order of :func:`labelling_pool`, into ``LABELLED``.
ECD_SELLER = re.compile("亲|客官|您|小二")
#: Lines of the Taobao chats this close to a dev row may be its dialogue (the sample has no dialogue ids).
ECD_DIALOGUE_LINES = 15
POOLS: Dict[str, Tuple[str, Callable[[SourceRow], bool]]] = {
    "recquest/later": ("recquest_en.jsonl", lambda row: row.fields.get("domain") in ("laptop", "digital_camera", "smartwatch")
                       and row.fields.get("turn") != 0),
    "ecd/customer": ("ecd_sample_zh.jsonl", lambda row: not ECD_SELLER.search(row.text)),
}


def labelling_pool(name: str, root: Optional[Path] = None) -> List[SourceRow]:
    """The pool's rows in a seeded random order, without dev rows, their dialogues or their texts."""
    source, selects = POOLS[name]
    dev_rows, dev_dialogues, dev_texts = dev_exclusions(root)
    near_dev = {(s, line + d) for s, line in dev_rows if s == "ecd_sample_zh.jsonl"
                for d in range(-ECD_DIALOGUE_LINES, ECD_DIALOGUE_LINES + 1)}
    rule = Rule(name, source, "", 0, selects, "")
    pool = [row for row in candidates(rule, read_source(source, root), dev_rows | near_dev, dev_dialogues,
                                      {normalise(t) for t in dev_texts})]
    random.Random(f"{SEED}:pool:{name}").shuffle(pool)
    return pool


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--datasets", type=Path, help="folder holding nlu-real/ (default: $DAOGOU_DATASETS or ../shared/datasets)")
    parser.add_argument("--pool", choices=sorted(POOLS), help="print this pool's rows for labelling, as JSON lines, and stop")
    args = parser.parse_args(argv)
    if args.pool:
        for row in labelling_pool(args.pool, args.datasets):
            print(json.dumps({"source": row.source, "line": row.line, "sha": text_hash(row.text), "text": row.text,
                              **{k: row.fields[k] for k in ("domain", "turn", "dialogue") if k in row.fields}},
                             ensure_ascii=False))
        return 0
    try:
        examples, counts = build(args.datasets)
    except DevsetError as error:
        # No corpora on this machine: train on the hand-written data alone (an empty file keeps make's rule simple).
        print(f"real-message examples: none ({error})", file=sys.stderr)
        examples, counts = [], {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_yaml(examples) if examples else 'version: "3.1"\nnlu: []\n', encoding="utf-8")
    for name, count in counts.items():
        print(f"{name:32} " + ", ".join(f"{k} {v}" for k, v in count.items()))
    print(f"{len(examples)} real-message examples -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
