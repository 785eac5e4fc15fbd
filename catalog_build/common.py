"""Pieces every source shares: currency rates, the record schema, normalisation, brand names.

Everything here is deterministic on purpose: the same listings must give byte-identical
catalog files, so nothing depends on float noise, row order or the clock.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, Iterable, Iterator, List, Sequence, Tuple, TypeVar

from recsys.catalog import ProductRecord
from recsys.taxonomy import TAXONOMY_PATH, Brand, load_taxonomy

# Fixed conversion rates to CNY; catalog prices must not move when the build is re-run.
INR_TO_CNY = Decimal("0.085")
EUR_TO_CNY = Decimal("7.80")
USD_TO_CNY = Decimal("7.20")  # for amazon_phones_us.csv once it is used

STOCK_MODULO = 60  # pseudo-stock is md5(id) % 60, so about 1 in 60 products is out of stock

#: Keys of a catalog record, in the order they are written: the fields of the schema that loads them.
RECORD_KEYS: Tuple[str, ...] = tuple(ProductRecord.__fields__)
MAX_SELLING_POINTS = 4

CJK = re.compile(r"[\u4e00-\u9fff]")
Row = TypeVar("Row")


class BuildError(ValueError):
    """A source row or curated entry cannot become a catalog record; the message names it."""


def slugify(text: str) -> str:
    """Lowercase ascii slug: ids must match ``[a-z0-9-]`` whatever the source spelling."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def to_cny(amount: float, rate: Decimal) -> int:
    """Whole yuan, rounded half up on exact decimals so results never depend on float noise."""
    value = Decimal(str(amount)) * rate
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pseudo_stock(product_id: str) -> int:
    """Stock derived from the id, so it is stable across runs and varied across products."""
    return int(hashlib.md5(product_id.encode("utf-8")).hexdigest(), 16) % STOCK_MODULO


def missing(value: Any) -> bool:
    """True for None, NaN and blank strings: pandas gives all three for an empty cell."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def storage_label(gigabytes: float) -> str:
    """'1TB' rather than '1024GB': how shops and shoppers write large storage."""
    if gigabytes >= 1024 and gigabytes % 1024 == 0:
        return f"{int(gigabytes // 1024)}TB"
    return f"{int(gigabytes)}GB"


def number(value: float) -> str:
    """Shortest human form of a measurement: 6.0 -> '6', 6.67 -> '6.67'."""
    return f"{value:g}"


def join_en(items: Sequence[str]) -> str:
    """'a, b and c': English list for generated descriptions."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def localized_points(points: Iterable[Tuple[str, str]]) -> Dict[str, List[str]]:
    """Selling points as parallel English and Chinese lists, at most MAX_SELLING_POINTS."""
    chosen = list(points)[:MAX_SELLING_POINTS]
    return {"en": [en for en, _ in chosen], "zh": [zh for _, zh in chosen]}


def brand_entry(brand: str) -> Brand:
    """The taxonomy's entry of a canonical brand; an unknown brand is a clear error."""
    entry = load_taxonomy().brands.get(brand)
    if entry is None:
        raise BuildError(f"brand {brand!r} is not in {TAXONOMY_PATH.name}; add it there first")
    return entry


def brand_names(brand: str) -> Tuple[str, str]:
    """English and Chinese display names of a canonical brand."""
    entry = brand_entry(brand)
    return entry.name["en"], entry.name["zh"]


def strip_brand_prefix(model: str, brand: str) -> str:
    """'OnePlus 11 5G' -> '11 5G', so the Chinese name can put '一加' in front instead."""
    entry = brand_entry(brand)
    for prefix in sorted({entry.name["en"], entry.name["zh"], *entry.aliases}, key=lambda p: (-len(p), p)):
        if CJK.search(prefix):
            continue
        match = re.match(rf"{re.escape(prefix)}\s+", model, flags=re.IGNORECASE)
        if match:
            return model[match.end():]
    return model


@contextmanager
def named(origin: str) -> Iterator[None]:
    """Errors inside the block become a :class:`BuildError` that starts with ``origin``.

    Only the errors bad data raises are caught (a missing column, a word where a number goes):
    anything else is a bug in the build, and its traceback should show.
    """
    try:
        yield
    except BuildError as exc:
        raise BuildError(f"{origin}: {exc}") from exc
    except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
        raise BuildError(f"{origin}: cannot read it ({type(exc).__name__}: {exc})") from exc


def numbered(name: str, rows: Iterable[Row], first_line: int = 1) -> List[Tuple[str, Row]]:
    """``(origin, row)`` pairs, the origin ``'file:line'`` as an editor shows it (a CSV's header is line 1)."""
    return [(f"{name}:{line}", row) for line, row in enumerate(rows, start=first_line)]


def base_fields(category: str, brand: str, model: str, price: int, source: str, **extra: Any) -> Dict[str, Any]:
    """Fields every record has, with null where a source knows nothing."""
    fields: Dict[str, Any] = {
        "category": category, "brand": brand, "model": model, "price": price, "list_price": price,
        "currency": "CNY", "rating": None, "review_count": None, "release_year": None, "source": source,
    }
    fields.update(extra)
    return fields


def ordered_specs(specs: Dict[str, Any], keys: Sequence[str]) -> Dict[str, Any]:
    """Specs in a fixed key order without unknown values, so output is stable and compact."""
    return {key: specs[key] for key in keys if key in specs and not missing(specs[key])}
