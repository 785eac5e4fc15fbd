"""Pick the NLU dev set's candidate rows from the real-message corpora: seeded, per source and stratum.

    .venv/bin/python scripts/select_devset.py --out var/devset/candidates.jsonl   # candidates with text, to label
    .venv/bin/python scripts/select_devset.py --check                              # the committed set is this selection

Each stratum is a slice of one source (a RecQuest domain's opening turns, SLURP's bot chit-chat,
SMP2017's chat domain ...) with a quota. Within a stratum, rows are deduplicated on their normalised
text (the first occurrence stays), then ``quota`` rows are drawn with ``random.Random("<seed>:<stratum>")``,
so a stratum's draw does not move when another stratum's quota changes. Every candidate is then read
and labelled by hand under ``docs/nlu_devset.md``, or excluded with a reason; both stay in
``tests/nlu/devset/devset.jsonl``, so ``--check`` can prove the set is exactly this draw.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.nlu_devset import (  # noqa: E402  (run as a script: the project root is not on sys.path)
    DEVSET, DevsetError, SourceRow, normalise, read_entries, read_source, text_hash)

SEED = 17  # the number

Predicate = Callable[[SourceRow], bool]


@dataclass(frozen=True)
class Stratum:
    name: str
    source: str
    quota: int
    keep: Predicate


def _recquest(domain: str, opening: bool) -> Predicate:
    return lambda row: row.fields.get("domain") == domain and (row.fields.get("turn") == 0) == opening


def _field(key: str, value: object) -> Predicate:
    return lambda row: row.fields.get(key) == value


def _review(category: str, label: int) -> Predicate:
    # Reviews up to 60 characters: the length of a chat turn, not an essay.
    return lambda row: row.fields.get("cat") == category and row.fields.get("label") == label and len(row.text) <= 60


#: Brand words for the strata that over-sample messages naming a brand (too rare in a plain draw to measure
#: brand resolution). A fixed list, not the alias table, so the draw does not move when the table grows.
EN_BRANDS = re.compile(r"\b(apple|macbook|ipad|iphone|lenovo|thinkpad|ideapad|hp|dell|asus|acer|microsoft|surface|samsung|"
                       r"galaxy|sony|canon|nikon|fuji|fujifilm|panasonic|olympus|garmin|fitbit|amazfit|huawei|google|pixel|"
                       r"xiaomi|withings|polar|suunto|coros|lg|msi|razer|chromebook)\b", re.IGNORECASE)
ZH_BRANDS = re.compile(r"华为|联想|小米|苹果|三星|戴尔|惠普|华硕|宏碁|宏基|索尼|诺基亚|摩托罗拉|酷派|魅族|荣耀|神舟|东芝|"
                       r"ipad|iphone|thinkpad|dell|hp|lenovo|nokia|sony|moto", re.IGNORECASE)
#: A customer's turn in the Taobao chats: about delivery, returns, discounts or invoices, without the seller's
#: forms of address (亲, 客官, 您), which mark most of the seller's turns.
ECD_POLICY = re.compile(r"快递|发货|物流|退|换货|优惠|包邮|运费|发票|保修|正品|售后|到货|付款")
ECD_SELLER = re.compile(r"亲|客官|您|小二")


def _recquest_brand(row: SourceRow) -> bool:
    return row.fields.get("domain") in ("laptop", "digital_camera", "smartwatch") and bool(EN_BRANDS.search(row.text))


def _review_brand(row: SourceRow) -> bool:
    return len(row.text) <= 60 and bool(ZH_BRANDS.search(row.text))


def _ecd_customer_policy(row: SourceRow) -> bool:
    return bool(ECD_POLICY.search(row.text)) and not ECD_SELLER.search(row.text)


STRATA: List[Stratum] = [
    # English: a shopping assistant study (requests, follow-ups, reactions), product questions, voice-assistant requests.
    Stratum("recquest/laptop/open", "recquest_en.jsonl", 20, _recquest("laptop", True)),
    Stratum("recquest/laptop/later", "recquest_en.jsonl", 30, _recquest("laptop", False)),
    Stratum("recquest/digital_camera/open", "recquest_en.jsonl", 15, _recquest("digital_camera", True)),
    Stratum("recquest/digital_camera/later", "recquest_en.jsonl", 20, _recquest("digital_camera", False)),
    Stratum("recquest/smartwatch/open", "recquest_en.jsonl", 15, _recquest("smartwatch", True)),
    Stratum("recquest/smartwatch/later", "recquest_en.jsonl", 20, _recquest("smartwatch", False)),
    # Goods Daogou does not sell: only the opening turns, which say what is wanted (a later "is it light?"
    # about a shoe cannot be told from one about a laptop without the conversation).
    Stratum("recquest/running_shoes/open", "recquest_en.jsonl", 10, _recquest("running_shoes", True)),
    Stratum("recquest/bicycle/open", "recquest_en.jsonl", 10, _recquest("bicycle", True)),
    Stratum("recquest/names_brand", "recquest_en.jsonl", 30, _recquest_brand),
    Stratum("subjqa/electronics", "subjqa_electronics_en.jsonl", 45, lambda row: True),
    Stratum("slurp/tasks", "slurp_en.jsonl", 45, lambda row: row.fields.get("slurp_intent") != "general_quirky"),
    Stratum("slurp/general_quirky", "slurp_en.jsonl", 20, _field("slurp_intent", "general_quirky")),
    # Chinese: an assistant's chat and task queries, a shop's customer-service chats, computer-buying dialogues,
    # and short reviews of devices (how shoppers judge them).
    Stratum("smp2017/chat", "smp2017_zh.jsonl", 45, _field("domain", "chat")),
    Stratum("smp2017/tasks", "smp2017_zh.jsonl", 50, lambda row: row.fields.get("domain") != "chat"),
    Stratum("ecd/customer_service", "ecd_sample_zh.jsonl", 90, lambda row: True),
    Stratum("ecd/customer_policy", "ecd_sample_zh.jsonl", 40, _ecd_customer_policy),
    Stratum("risawoz/computer", "risawoz_fewshot_zh.jsonl", 44, lambda row: row.fields.get("domains") == ["电脑"]),
    Stratum("risawoz/general", "risawoz_fewshot_zh.jsonl", 20, lambda row: row.fields.get("domains") == ["通用"]),
    Stratum("online_shopping/tablet/positive", "online_shopping_electronics_zh.jsonl", 8, _review("平板", 1)),
    Stratum("online_shopping/tablet/negative", "online_shopping_electronics_zh.jsonl", 8, _review("平板", 0)),
    Stratum("online_shopping/computer/positive", "online_shopping_electronics_zh.jsonl", 8, _review("计算机", 1)),
    Stratum("online_shopping/computer/negative", "online_shopping_electronics_zh.jsonl", 8, _review("计算机", 0)),
    Stratum("online_shopping/phone/positive", "online_shopping_electronics_zh.jsonl", 9, _review("手机", 1)),
    Stratum("online_shopping/phone/negative", "online_shopping_electronics_zh.jsonl", 9, _review("手机", 0)),
    Stratum("online_shopping/names_brand", "online_shopping_electronics_zh.jsonl", 25, _review_brand),
]


@dataclass(frozen=True)
class Candidate:
    stratum: str
    row: SourceRow


def select(root: Optional[Path] = None, seed: int = SEED) -> List[Candidate]:
    """The candidates of every stratum, in stratum order then file order."""
    sources: Dict[str, List[SourceRow]] = {}
    taken: set = set()  # (source, line): a row belongs to one stratum at most
    candidates: List[Candidate] = []
    for stratum in STRATA:
        if stratum.source not in sources:
            sources[stratum.source] = read_source(stratum.source, root)
        seen: set = set()
        pool = []
        for row in sources[stratum.source]:
            if (row.source, row.line) in taken or not stratum.keep(row):
                continue
            key = normalise(row.text)
            if key and key not in seen:
                seen.add(key)
                pool.append(row)
        if len(pool) < stratum.quota:
            raise DevsetError(f"{stratum.name}: {len(pool)} rows for a quota of {stratum.quota}")
        drawn = random.Random(f"{seed}:{stratum.name}").sample(pool, stratum.quota)
        for row in sorted(drawn, key=lambda r: r.line):
            taken.add((row.source, row.line))
            candidates.append(Candidate(stratum.name, row))
    return candidates


def check(candidates: List[Candidate], devset: Path = DEVSET) -> List[str]:
    """Differences between this selection and the committed set (empty when they agree)."""
    drawn = {(c.row.source, c.row.line): (c.stratum, text_hash(c.row.text)) for c in candidates}
    committed = {(e.source, e.line): (e.stratum, e.sha) for e in read_entries(devset)}
    problems = [f"selected, not in the dev set: {s}:{n}" for (s, n) in sorted(drawn.keys() - committed.keys())]
    problems += [f"in the dev set, not selected: {s}:{n}" for (s, n) in sorted(committed.keys() - drawn.keys())]
    problems += [f"{s}:{n}: stratum/hash {committed[(s, n)]} in the dev set, {drawn[(s, n)]} drawn"
                 for (s, n) in sorted(drawn.keys() & committed.keys()) if drawn[(s, n)] != committed[(s, n)]]
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, help="folder holding nlu-real/ (default: $DAOGOU_DATASETS or ../shared/datasets)")
    parser.add_argument("--out", type=Path, help="write the candidates with their text here (JSON lines), for labelling")
    parser.add_argument("--check", action="store_true", help="fail unless the committed dev set is exactly this selection")
    args = parser.parse_args(argv)
    candidates = select(args.datasets)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as handle:
            for c in candidates:
                handle.write(json.dumps({**c.row.fields, "source": c.row.source, "line": c.row.line,
                                         "sha": text_hash(c.row.text), "stratum": c.stratum, "lang": c.row.lang,
                                         "text": c.row.text}, ensure_ascii=False) + "\n")
        print(f"{len(candidates)} candidates -> {args.out}")
    if args.check:
        problems = check(candidates)
        for problem in problems:
            print(problem, file=sys.stderr)
        print("dev set matches the selection" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
