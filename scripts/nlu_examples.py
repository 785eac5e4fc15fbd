"""What ``data/nlu`` teaches the model, as one fingerprint that a file layout cannot change.

The NLU files are organised by intent family (README, "NLU data"); moving examples
between files, or reordering them, must not change what Rasa reads. This script loads a folder
with Rasa's own reader, as ``rasa train`` does (``get_data_files`` picks the NLU files,
``load_data`` reads each one) and reduces it to a canonical form:

- the multiset of examples, each with its text, full intent (``faq/shipping``, not ``faq``) and
  entities (type, value, role, group and character positions);
- the entity synonyms, regexes and lookup tables.

The SHA-256 of that form, with counts per intent that make a change readable in a diff, is
committed in ``tests/nlu/examples_fingerprint.json``; ``tests/test_nlu_data.py`` recomputes it.
A change to the examples is meant to be deliberate: make it, then record it with
``python scripts/nlu_examples.py --write`` and commit the new fingerprint with the examples.

``--by-file`` lists which files hold each intent (the layout test asks for exactly one).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.training_data import TrainingData

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
FINGERPRINT_FILE = PROJECT_ROOT / "tests" / "nlu" / "examples_fingerprint.json"


@dataclass(frozen=True)
class Fingerprint:
    """The digest of everything Rasa reads from an NLU folder, and counts that say what changed."""

    sha256: str
    examples: int
    intents: Dict[str, int] = field(default_factory=dict)
    synonyms: int = 0
    regexes: int = 0
    lookups: Dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Fingerprint":
        return cls(**json.loads(text))

    def differences(self, other: "Fingerprint") -> List[str]:
        """What differs from `other`, in words a reviewer can act on (empty when equal)."""
        lines = [
            f"{name}: {mine} != {theirs}"
            for name, mine, theirs in (
                ("examples", self.examples, other.examples),
                ("synonyms", self.synonyms, other.synonyms),
                ("regexes", self.regexes, other.regexes),
            )
            if mine != theirs
        ]
        for kind, mine_counts, their_counts in (("intent", self.intents, other.intents), ("lookup", self.lookups, other.lookups)):
            for name in sorted(set(mine_counts) | set(their_counts)):
                if mine_counts.get(name) != their_counts.get(name):
                    lines.append(f"{kind} {name}: {mine_counts.get(name, 0)} != {their_counts.get(name, 0)}")
        if self.sha256 != other.sha256 and not lines:
            lines.append("same counts, different content (a text, an entity or a synonym changed)")
        return lines


def load(nlu_dir: Path) -> "TrainingData":
    """All NLU files under `nlu_dir`, merged, as ``rasa train`` reads them (the Jieba dictionary is skipped)."""
    from rasa.shared.importers.utils import training_data_from_paths

    return training_data_from_paths(nlu_files(nlu_dir), language="zh")


def nlu_files(nlu_dir: Path) -> List[str]:
    """The files under `nlu_dir` that Rasa reads as NLU data, sorted."""
    from rasa.shared.data import get_data_files, is_nlu_file

    if not nlu_dir.is_dir():
        raise ValueError(f"{nlu_dir} is not a folder of NLU training data")
    return sorted(get_data_files([str(nlu_dir)], is_nlu_file))


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def canonical_content(data: "TrainingData") -> Dict[str, List[str]]:
    """The data in a form independent of file and order: sorted lists of canonical JSON.

    An example is its whole ``Message.data`` (text, intent, ``intent_response_key``, entities and
    anything else the reader kept), with its entities sorted, so nothing Rasa reads escapes.
    """
    examples = []
    for message in data.training_examples:
        fields = dict(message.data)
        if "entities" in fields:
            fields["entities"] = sorted(fields["entities"], key=_canonical)
        examples.append(_canonical(fields))
    return {
        "examples": sorted(examples),
        "synonyms": sorted(_canonical([text, value]) for text, value in data.entity_synonyms.items()),
        "regexes": sorted(_canonical(regex) for regex in data.regex_features),
        "lookups": sorted(_canonical(table) for table in data.lookup_tables),
    }


def fingerprint(data: "TrainingData") -> Fingerprint:
    content = canonical_content(data)
    digest = hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()
    intents = Counter(message.get_full_intent() for message in data.training_examples if message.get("intent"))
    lookups: Dict[str, int] = Counter()
    for table in data.lookup_tables:
        elements = table["elements"]
        lookups[table["name"]] += len(elements) if isinstance(elements, list) else 1
    return Fingerprint(
        sha256=digest, examples=len(data.training_examples), intents=dict(sorted(intents.items())),
        synonyms=len(data.entity_synonyms), regexes=len(data.regex_features), lookups=dict(sorted(lookups.items())),
    )


def load_each(nlu_dir: Path) -> Dict[str, "TrainingData"]:
    """Each NLU file under `nlu_dir` on its own, by its path relative to `nlu_dir` (``generated/lookups.yml``)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return {Path(path).resolve().relative_to(nlu_dir.resolve()).as_posix(): load_data(path) for path in nlu_files(nlu_dir)}


def files_by_intent(each: Dict[str, "TrainingData"]) -> Dict[str, Set[str]]:
    """Which files hold examples of each intent; retrieval intents count as one (``faq``)."""
    files: Dict[str, Set[str]] = defaultdict(set)
    for name, data in each.items():
        for message in data.intent_examples:
            files[message.get("intent")].add(name)
    return dict(files)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu-dir", type=Path, default=NLU_DIR)
    parser.add_argument("--fingerprint", type=Path, default=FINGERPRINT_FILE, help="the committed fingerprint (default: %(default)s)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="record the folder's fingerprint as the committed one")
    action.add_argument("--check", action="store_true", help="exit 1 when the folder differs from the committed fingerprint")
    action.add_argument("--by-file", action="store_true", help="list the files that hold each intent")
    args = parser.parse_args(argv)
    if args.by_file:
        for intent, files in sorted(files_by_intent(load_each(args.nlu_dir)).items()):
            print(f"{intent}: {', '.join(sorted(files))}")
        return 0
    current = fingerprint(load(args.nlu_dir))
    if args.write:
        args.fingerprint.write_text(current.to_json(), encoding="utf-8")
        print(f"wrote {args.fingerprint}: {current.sha256}")
        return 0
    if args.check:
        differences = Fingerprint.from_json(args.fingerprint.read_text(encoding="utf-8")).differences(current)
        for line in differences:
            print(f"{args.fingerprint.name} != {args.nlu_dir}: {line}")
        return 1 if differences else 0
    print(current.to_json(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
