"""The whole build: every source in order, ids settled, every record validated, files rendered.

:func:`build_catalog` writes nothing: it returns the finished catalog or raises a
:class:`BuildError` naming the bad rows, and :meth:`CatalogBuild.write` writes both files only
then, so a failed build leaves the committed catalog as it was.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from catalog_build.common import BuildError
from catalog_build.curated import load_curated, resolve_fits
from catalog_build.drafts import Draft, assign_ids, claim_id, finish
from catalog_build.eu_laptops import FILE_NAME as LAPTOPS_EUROPE, load_laptops
from catalog_build.india_phones import FILE_NAME as PHONES_INDIA, load_india_phones
from catalog_build.jd_phones import FILE_NAME as JD_PHONES, load_jd_phones
from recsys.catalog import CatalogError, check_record
from recsys.evaluation.datasets import datasets_root
from recsys.settings import PROJECT_ROOT
from recsys.taxonomy import TAXONOMY_PATH, load_taxonomy

DEFAULT_OUT_DIR = PROJECT_ROOT / "data" / "catalog"
#: Hand-curated real products of the categories no shared listing covers (committed YAML, one file each).
DEFAULT_CURATED_DIR = DEFAULT_OUT_DIR / "curated"
#: Listing sources in the order they claim ids: an earlier source's products are never renamed.
SOURCES: Tuple[Tuple[str, Callable[[Path, Counter], List[Draft]]], ...] = (
    (PHONES_INDIA, load_india_phones),
    (LAPTOPS_EUROPE, load_laptops),
    (JD_PHONES, load_jd_phones),
)
MAX_PROBLEMS_SHOWN = 50

Record = Dict[str, Any]


def default_source() -> Path:
    """``$DAOGOU_DATASETS/catalogs``, else ``../shared/datasets/catalogs`` beside the project."""
    return datasets_root() / "catalogs"


@dataclass
class CatalogBuild:
    """A finished, validated catalog: the records in id order and the alias table's text."""

    products: List[Record]
    aliases_text: str
    #: What was skipped or merged, and why: ``reason -> count``.
    log: Counter

    def products_text(self) -> str:
        return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in self.products)

    def write(self, out_dir: Path) -> None:
        """Write both files with LF line endings and UTF-8, the same bytes on every run."""
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "products.jsonl").write_text(self.products_text(), encoding="utf-8", newline="\n")
        (out_dir / "aliases.yml").write_text(self.aliases_text, encoding="utf-8", newline="\n")

    def summary(self) -> str:
        """Counts per category and source, price ranges, and what was skipped or merged."""
        lines = [f"{len(self.products)} products"]
        by_category: Dict[str, List[int]] = defaultdict(list)
        for product in self.products:
            by_category[product["category"]].append(product["price"])
        for category, prices in sorted(by_category.items()):
            lines.append(f"  {category}: {len(prices)} products, price {min(prices)}..{max(prices)} CNY")
        for (category, source), count in sorted(Counter((p["category"], p["source"]) for p in self.products).items()):
            lines.append(f"  {category} from {source}: {count}")
        if self.log:
            lines.append("skipped or merged:")
            lines.extend(f"  {reason}: {count}" for reason, count in sorted(self.log.items()))
        return "\n".join(lines)


def listing_records(source: Path, log: Counter) -> Tuple[Dict[str, Record], Dict[str, str]]:
    """Records of every listing source by id, and where each came from ('file:line')."""
    records: Dict[str, Record] = {}
    origins: Dict[str, str] = {}
    for name, loader in SOURCES:
        path = source / name
        if not path.is_file():
            raise BuildError(f"{path}: source listing not found (pass --source, or set DAOGOU_DATASETS)")
        drafts, merged = assign_ids(loader(path, log))
        if merged:
            log[f"{name}: identical products merged (cheapest or official listing kept)"] += merged
        for draft in drafts:
            if not claim_id(draft, records):
                log[f"{name}: same product as in an earlier source, skipped"] += 1
                continue
            records[draft.id] = finish(draft)
            origins[draft.id] = draft.origin
    return records, origins


def collect_products(source: Path, log: Counter, curated_dir: Optional[Path]) -> Tuple[List[Record], Dict[str, str]]:
    """All records in id order, with their origins; ids are unique across every source."""
    records, origins = listing_records(source, log)
    if curated_dir is None or not curated_dir.is_dir():
        return [records[key] for key in sorted(records)], origins
    curated, selectors = load_curated(curated_dir, log)
    for origin, record in curated:
        if record["id"] in records:
            raise BuildError(f"{origin}: id {record['id']} is already taken by {origins[record['id']]}")
        records[record["id"]] = record
        origins[record["id"]] = origin
    ordered = [records[key] for key in sorted(records)]
    resolve_fits(ordered, selectors, log)
    return ordered, origins


def validate(products: Sequence[Mapping[str, Any]], origins: Mapping[str, str]) -> List[str]:
    """Problems that would make the catalog unusable, each naming its source row; empty when all is well.

    Every record must load as a :class:`recsys.catalog.ProductRecord` (what ``Catalog.load`` will
    demand), name a brand of the taxonomy, and cost whole yuan.
    """
    brands = load_taxonomy().brands
    problems: List[str] = []
    for product in products:
        where = f"{origins[product['id']]}: {product['id']}"
        try:
            check_record(product)
        except CatalogError as exc:
            problems.append(f"{where}: {exc}")
        if product["brand"] not in brands:
            problems.append(f"{where}: brand {product['brand']!r} is not in {TAXONOMY_PATH.name}")
        if not isinstance(product["price"], int):
            problems.append(f"{where}: price {product['price']!r} is not a whole number of yuan")
    return problems


def render_aliases(table: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """``aliases.yml``: one flow-style line per entry, easy to scan and to diff."""
    lines = [
        "# Canonical categories and brands with their English and Chinese aliases.",
        "# Generated by `python -m catalog_build` from data/catalog/taxonomy.yml (edit that file), then",
        "# scripts/generate_nlu_lookups.py makes the NLU lookup tables follow (`make catalog` runs both).",
    ]
    for section, entries in table.items():
        lines.append(f"{section}:")
        for key, value in entries.items():
            flow = yaml.safe_dump(dict(value), default_flow_style=True, allow_unicode=True, sort_keys=False,
                                  width=10**6).strip()
            lines.append(f"  {key}: {flow}")
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != json.loads(json.dumps(table)):
        raise BuildError("aliases.yml would not read back as written")
    return text


def build_catalog(source: Path, curated_dir: Optional[Path] = DEFAULT_CURATED_DIR) -> CatalogBuild:
    """Build and validate the catalog from the listings in ``source`` and the curated files."""
    log: Counter = Counter()
    products, origins = collect_products(source.resolve(), log, curated_dir.resolve() if curated_dir else None)
    problems = validate(products, origins)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = [f"... and {len(problems) - len(shown)} more"] if len(problems) > len(shown) else []
        raise BuildError("catalog is invalid:\n  " + "\n  ".join(shown + more))
    return CatalogBuild(products=products, aliases_text=render_aliases(load_taxonomy().alias_table()), log=log)
