"""The NLU development set: real people's messages, labelled with Daogou's intent contract.

The raw corpora stay in ``../shared/datasets/nlu-real`` (``$DAOGOU_DATASETS`` overrides the
``datasets`` folder); their licences ask that they are cited, not copied. So the committed set,
``tests/nlu/devset/devset.jsonl``, holds for each row only where it comes from (source file and
1-based line number), a hash of its text, and the labels; :func:`load_devset` joins the labels
with the text read from the source at evaluation time and refuses a row whose text changed.

``docs/nlu_devset.md`` gives the labelling rules, the selection procedure and the sources.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from recsys.evaluation.datasets import datasets_root

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVSET = PROJECT_ROOT / "tests" / "nlu" / "devset" / "devset.jsonl"
SUBDIR = "nlu-real"
LANGUAGES = ("en", "zh")


class DevsetError(ValueError):
    """The dev set cannot be read: a source is missing, a row moved, or a label is malformed."""


def normalise(text: str) -> str:
    """Text for comparing messages: NFKC, lower case, no punctuation, symbols or spaces.

    Two messages that differ only in case, width, spacing or punctuation are the same message
    for a leakage check ("Thank you!" and "thank you").
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def text_hash(text: str) -> str:
    """A short, stable fingerprint of a row's exact text (after stripping a BOM and outer spaces)."""
    return hashlib.sha1(clean(text).encode("utf-8")).hexdigest()[:12]


def clean(text: str) -> str:
    """The message as a shopper would have sent it: no byte-order mark, no outer whitespace."""
    return text.replace("\ufeff", "").strip()


@dataclass(frozen=True)
class SourceRow:
    """One line of a source corpus."""

    source: str  # file name inside nlu-real/, e.g. "slurp_en.jsonl"
    line: int  # 1-based line number: the row's stable key
    text: str
    lang: str
    fields: Dict[str, object]  # the source's own fields (domain, turn, label ...)


def read_source(name: str, root: Optional[Path] = None) -> List[SourceRow]:
    """Every row of one source file, in file order."""
    path = (root or datasets_root()) / SUBDIR / name
    if not path.is_file():
        raise DevsetError(f"{path} not found: set DAOGOU_DATASETS to the folder holding {SUBDIR}/ "
                          "(the shared datasets, beside the project as ../shared/datasets)")
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            record = json.loads(line)
            text = clean(record.pop("text"))
            rows.append(SourceRow(source=name, line=number, text=text, lang=record.pop("lang"), fields=record))
    return rows


@dataclass(frozen=True)
class DevRow:
    """One labelled dev-set row, joined with its text."""

    id: str  # "<source stem>:<line>"
    source: str
    line: int
    lang: str
    text: str
    intent: str
    category: Optional[str]
    brand: Optional[str]
    stratum: str
    note: str = ""


@dataclass(frozen=True)
class Entry:
    """One line of ``devset.jsonl``: a selected candidate, labelled or excluded."""

    source: str
    line: int
    sha: str
    stratum: str
    intent: Optional[str] = None  # None: excluded
    category: Optional[str] = None
    brand: Optional[str] = None
    excluded: Optional[str] = None  # why the rules cannot decide, or why the row cannot be used
    note: str = ""

    @property
    def id(self) -> str:
        return f"{Path(self.source).stem}:{self.line}"


_ENTRY_KEYS = {"source", "line", "sha", "stratum", "intent", "category", "brand", "excluded", "note"}


def read_entries(path: Path = DEVSET) -> List[Entry]:
    """Parse ``devset.jsonl``; a malformed line is an error that names it."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DevsetError(f"{path.name}:{number}: not JSON ({error})") from error
        unknown = set(record) - _ENTRY_KEYS
        if unknown or not {"source", "line", "sha", "stratum"} <= set(record):
            raise DevsetError(f"{path.name}:{number}: keys {sorted(record)}; expected {sorted(_ENTRY_KEYS)}")
        entry = Entry(**record)
        if (entry.intent is None) == (entry.excluded is None):
            raise DevsetError(f"{path.name}:{number}: a row has either an intent or a reason for its exclusion")
        entries.append(entry)
    return entries


def write_entries(entries: List[Entry], path: Path = DEVSET) -> None:
    """One compact JSON object a line, in source and line order, empty fields left out."""
    lines = []
    for entry in sorted(entries, key=lambda e: (e.source, e.line)):
        record = {k: v for k, v in entry.__dict__.items() if v not in (None, "")}
        lines.append(json.dumps(record, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def joined(entries: List[Entry], root: Optional[Path] = None) -> Iterator[Tuple[Entry, SourceRow]]:
    """Each entry with its source row; a row that is gone or whose text changed is an error."""
    sources: Dict[str, List[SourceRow]] = {}
    for entry in entries:
        if entry.source not in sources:
            sources[entry.source] = read_source(entry.source, root)
        rows = sources[entry.source]
        if not 1 <= entry.line <= len(rows):
            raise DevsetError(f"{entry.id}: {entry.source} has {len(rows)} lines")
        row = rows[entry.line - 1]
        if text_hash(row.text) != entry.sha:
            raise DevsetError(f"{entry.id}: the text changed (hash {text_hash(row.text)}, labelled {entry.sha}): "
                              "the source file is not the one the dev set was labelled on")
        yield entry, row


def load_devset(path: Path = DEVSET, root: Optional[Path] = None) -> List[DevRow]:
    """The labelled rows (excluded candidates left out), with their text from the sources."""
    return [DevRow(id=entry.id, source=entry.source, line=entry.line, lang=row.lang, text=row.text,
                   intent=entry.intent, category=entry.category, brand=entry.brand, stratum=entry.stratum,
                   note=entry.note)
            for entry, row in joined(read_entries(path), root) if entry.intent is not None]


_SPACES = re.compile(r"\s+")


def short(text: str, width: int = 80) -> str:
    """One line of at most ``width`` characters, for tables."""
    flat = _SPACES.sub(" ", text)
    return flat if len(flat) <= width else flat[: width - 1] + "…"
