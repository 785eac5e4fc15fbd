"""Real listing rows for the catalog build's tests, read from the shared datasets (never copied).

The listings are found where the build finds them (``$DAOGOU_DATASETS/catalogs``, else
``../shared/datasets/catalogs`` beside the project), so the tests run from a checkout and in CI.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import pytest

from catalog_build import default_source
from catalog_build.drafts import Draft, assign_ids, finish

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_PRODUCTS = PROJECT_ROOT / "data" / "catalog" / "products.jsonl"
INDIA, LAPTOPS, JD = "smartphones_india.csv", "laptops_europe.csv", "jd_phones_zh.jsonl"


@pytest.fixture(scope="session")
def real_source() -> Path:
    source = default_source()
    absent = [name for name in (INDIA, LAPTOPS, JD) if not (source / name).is_file()]
    assert not absent, (
        f"shared catalog listings {', '.join(absent)} not in {source}: "
        "put the shared datasets beside the project or set DAOGOU_DATASETS"
    )
    return source


@pytest.fixture(scope="session")
def committed() -> Dict[str, dict]:
    """The committed catalog by id."""
    lines = COMMITTED_PRODUCTS.read_text(encoding="utf-8").splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


def real_lines(path: Path, numbers: Iterable[int]) -> List[str]:
    """Lines of ``path`` by their 1-based number, exactly as in the file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [lines[n - 1] for n in numbers]


SampleSource = Callable[..., Path]


@pytest.fixture
def sample_source(tmp_path: Path, real_source: Path) -> SampleSource:
    """A source folder holding only the chosen lines of each real listing (CSV headers kept).

    ``replace`` maps ``(file, line number)`` to a line that takes that line's place: a bad row.
    """
    def make(india: Sequence[int] = (), laptops: Sequence[int] = (), jd: Sequence[int] = (),
             replace: Dict[Tuple[str, int], str] = {}) -> Path:
        folder = tmp_path / "source"
        folder.mkdir(exist_ok=True)
        for name, numbers, header in ((INDIA, india, [1]), (LAPTOPS, laptops, [1]), (JD, jd, [])):
            chosen = [*header, *numbers]
            lines = [replace.get((name, n), line) for n, line in zip(chosen, real_lines(real_source / name, chosen))]
            (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return folder

    return make


def source_records(loader: Callable[[Path, Counter], List[Draft]], path: Path) -> Tuple[Dict[str, dict], Counter]:
    """What one source makes of a file: finished records by id, and the skip/merge log."""
    log: Counter = Counter()
    drafts, merged = assign_ids(loader(path, log))
    log["merged"] += merged
    return {draft.id: finish(draft) for draft in drafts}, log
