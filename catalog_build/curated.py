"""``data/catalog/curated/<category>.yml``: hand-written real products of the categories no listing covers.

Each file is a list of products of one category (the file name) in CNY. An accessory says what it
fits with selectors (category, optional brand, optional regex on the model without its brand);
once the whole catalog is known they become explicit, sorted product ids, so links are plain data.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import yaml

from catalog_build.common import (
    RECORD_KEYS, BuildError, base_fields, brand_names, named, pseudo_stock, slugify, strip_brand_prefix,
)
from recsys.taxonomy import load_taxonomy

Selectors = Dict[str, List[Mapping[str, Any]]]


def curated_record(category: str, entry: Mapping[str, Any], source: str) -> Tuple[Dict[str, Any], List[Mapping[str, Any]]]:
    """One curated entry as a catalog record, plus its ``fits`` selectors (resolved later)."""
    taxonomy = load_taxonomy()
    source_brand = str(entry["brand"])
    brand = taxonomy.canonical_brand(source_brand)
    brand_en, brand_zh = brand_names(brand)
    model = str(entry["model"]).strip()
    variant = str(entry.get("variant") or "").strip()
    model_zh = str(entry.get("name_zh") or model).strip()
    if brand != source_brand:  # a sub-brand filed under its parent keeps its name: "Xiaomi Redmi Pad Pro"
        sub_brand = taxonomy.sub_brands[source_brand].name
        model, model_zh = f"{sub_brand['en']} {model}", f"{sub_brand['zh']}{model_zh}"
    suffix = f" ({variant})" if variant else ""
    product_id = slugify("-".join(part for part in (category, brand, model, variant) if part))
    price = int(entry["price"])
    record: Dict[str, Any] = base_fields(
        category, brand, model, price, f"curated/{source}",
        list_price=int(entry.get("list_price") or price),
        rating=entry.get("rating"),
        release_year=entry.get("release_year"),
        specs=dict(entry.get("specs") or {}),
        description={"en": entry["description"]["en"], "zh": entry["description"]["zh"]},
        selling_points={lang: list(entry["selling_points"][lang]) for lang in ("en", "zh")},
    )
    record["id"] = product_id
    record["name"] = {"en": f"{brand_en} {model}{suffix}", "zh": f"{brand_zh} {model_zh}{suffix}"}
    record["stock"] = pseudo_stock(product_id)
    record["fits"] = []
    return {key: record.get(key) for key in RECORD_KEYS}, list(entry.get("fits") or [])


def read_entries(path: Path) -> List[Mapping[str, Any]]:
    """The list of products in one curated file; anything else stops the build, naming the file."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise BuildError(f"curated/{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise BuildError(f"curated/{path.name}: expected a list of products")
    return entries


def load_curated(curated_dir: Path, log: Counter) -> Tuple[List[Tuple[str, Dict[str, Any]]], Selectors]:
    """``(origin, record)`` of every curated product, and the ``fits`` selectors per accessory id."""
    records: List[Tuple[str, Dict[str, Any]]] = []
    selectors: Selectors = {}
    for path in sorted(curated_dir.glob("*.yml")):
        category = path.stem
        for number, entry in enumerate(read_entries(path), start=1):
            origin = f"curated/{path.name} entry {number} ({entry.get('model', 'no model')})"
            with named(origin):
                record, fits = curated_record(category, entry, path.name)
            records.append((origin, record))
            if fits:
                selectors[record["id"]] = fits
        log[f"curated/{path.name}: products"] += sum(1 for _, r in records if r["category"] == category)
    return records, selectors


def selector_matches(selector: Mapping[str, Any], product: Mapping[str, Any]) -> bool:
    """A ``fits`` selector (category, optional brand, optional regex on the model without brand)."""
    if product["category"] != selector["category"]:
        return False
    if selector.get("brand") and product["brand"] != selector["brand"]:
        return False
    pattern = selector.get("model_pattern")
    return not pattern or re.search(pattern, strip_brand_prefix(product["model"], product["brand"])) is not None


def resolve_fits(records: List[Dict[str, Any]], selectors: Mapping[str, List[Mapping[str, Any]]], log: Counter) -> None:
    """Turn selectors into explicit, sorted product ids, so links are plain data in the catalog."""
    for record in records:
        rules = selectors.get(record["id"])
        if not rules:
            continue
        record["fits"] = sorted({p["id"] for p in records if p["id"] != record["id"] and any(selector_matches(r, p) for r in rules)})
        if not record["fits"]:
            log["curated: accessory whose selectors match no product in the catalog"] += 1
