"""The product catalog and its bilingual alias table.

The catalog is read from committed files (``data/catalog/products.jsonl`` and
``aliases.yml``, both written by ``python -m catalog_build``, the latter from
``taxonomy.yml``); the alias table is the single place that maps what shoppers
say ("苹果", "earbuds") to canonical ids, for NLU lookup tables and for the
recommender's filters alike.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError, confloat, conint, constr, validator

from recsys.taxonomy import load_taxonomy, validation_problems

#: The categories a product may have, in the order of ``data/catalog/taxonomy.yml`` (their one list).
CATEGORIES: Tuple[str, ...] = load_taxonomy().category_ids
LANGUAGES: Tuple[str, ...] = ("en", "zh")


class CatalogError(ValueError):
    """The catalog files are unusable; the message names the file and row."""


class _Localized(BaseModel):
    en: constr(strip_whitespace=True, min_length=1)
    zh: constr(strip_whitespace=True, min_length=1)


class _LocalizedList(BaseModel):
    en: List[str] = []
    zh: List[str] = []


class ProductRecord(BaseModel):
    """Schema of one catalog row; loading fails on the first row that breaks it.

    The catalog build (``python -m catalog_build``) validates every record it writes with this
    model too, so a row that would not load is never written.
    """

    id: constr(regex=r"^[a-z0-9][a-z0-9-]*$")
    category: str
    brand: constr(min_length=1)
    model: constr(strip_whitespace=True, min_length=1)
    name: _Localized
    price: confloat(gt=0)
    list_price: Optional[confloat(gt=0)] = None
    currency: constr(regex=r"^CNY$") = "CNY"
    stock: conint(ge=0)
    rating: Optional[confloat(ge=0, le=5)] = None
    review_count: Optional[conint(ge=0)] = None
    release_year: Optional[conint(ge=1990, le=2100)] = None
    specs: Dict[str, object] = {}
    description: Optional[_Localized] = None
    selling_points: _LocalizedList = _LocalizedList()
    #: Ids of products this one works with (a case fits a phone, a charger suits a laptop).
    fits: List[str] = []
    source: Optional[str] = None

    @validator("category")
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; expected one of {', '.join(CATEGORIES)}")
        return value

    @validator("list_price")
    def _list_price_not_below_price(cls, value: Optional[float], values: Dict[str, object]) -> Optional[float]:
        price = values.get("price")  # absent when the price itself was invalid
        if value is not None and isinstance(price, float) and value < price:
            raise ValueError(f"list price {value:g} is below the price {price:g}")
        return value


def check_record(record: object) -> ProductRecord:
    """The row as the schema reads it; a :class:`CatalogError` lists what is wrong (the caller says where)."""
    try:
        return ProductRecord.parse_obj(record)
    except ValidationError as exc:
        raise CatalogError(f"invalid product: {validation_problems(exc)}") from exc


@dataclass(frozen=True)
class Product:
    """One product as every client sees it. Prices are in CNY."""

    id: str
    category: str
    brand: str
    model: str
    name: Mapping[str, str]
    price: float
    list_price: Optional[float]
    stock: int
    rating: Optional[float]
    review_count: Optional[int]
    release_year: Optional[int]
    specs: Mapping[str, object]
    description: Mapping[str, str]
    selling_points: Mapping[str, Sequence[str]]
    currency: str = "CNY"
    fits: Tuple[str, ...] = ()

    def display_name(self, language: str = "en") -> str:
        return self.name.get(language) or self.name["en"]

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    def to_record(self) -> Dict[str, object]:
        """The catalog row this product was loaded from (the inverse of :meth:`from_record`)."""
        return {
            "id": self.id, "category": self.category, "brand": self.brand, "model": self.model,
            "name": dict(self.name), "price": self.price, "list_price": self.list_price,
            "currency": self.currency, "stock": self.stock, "rating": self.rating,
            "review_count": self.review_count, "release_year": self.release_year,
            "specs": dict(self.specs), "description": dict(self.description) or None,
            "selling_points": {k: list(v) for k, v in self.selling_points.items()},
            "fits": list(self.fits),
        }

    @classmethod
    def from_record(cls, record: ProductRecord) -> "Product":
        return cls(
            id=record.id,
            category=record.category,
            brand=record.brand,
            model=record.model,
            name=record.name.dict(),
            price=float(record.price),
            list_price=record.list_price,
            stock=record.stock,
            rating=record.rating,
            review_count=record.review_count,
            release_year=record.release_year,
            specs=dict(record.specs),
            description=record.description.dict() if record.description else {},
            selling_points=record.selling_points.dict(),
            currency=record.currency,
            fits=tuple(record.fits),
        )


@dataclass(frozen=True)
class AliasEntry:
    """Display names of one canonical id and the phrases that refer to it."""

    id: str
    name: Mapping[str, str]
    aliases: Tuple[str, ...]
    #: Aliases that are everyday words ("nothing"): never matched by scanning free text.
    ambiguous: Tuple[str, ...] = ()


def read_yaml(path: Path, what: str) -> dict:
    """A YAML mapping from ``path``; a missing or malformed file is a :class:`CatalogError` naming it."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read {what}: {exc}") from exc


@dataclass
class AliasTable:
    """Canonical ids for categories and brands, with their English and Chinese aliases."""

    categories: Dict[str, AliasEntry]
    brands: Dict[str, AliasEntry]
    _lookup: Dict[str, Dict[str, str]] = field(default_factory=dict, repr=False)
    _ambiguous: Dict[str, set] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for kind, entries in (("category", self.categories), ("brand", self.brands)):
            table: Dict[str, str] = {}
            for entry in entries.values():
                for phrase in (entry.id, entry.name.get("en", ""), entry.name.get("zh", ""), *entry.aliases):
                    key = _normalise(phrase)
                    if key:
                        table.setdefault(key, entry.id)
            self._lookup[kind] = table
            self._ambiguous[kind] = {a for entry in entries.values() for a in entry.ambiguous}

    @classmethod
    def load(cls, path: Path) -> "AliasTable":
        raw = read_yaml(path, "alias table")

        def entries(section: str) -> Dict[str, AliasEntry]:
            result = {}
            for key, value in (raw.get(section) or {}).items():
                value = value or {}
                result[str(key)] = AliasEntry(
                    id=str(key),
                    name={"en": str(value.get("en", key)), "zh": str(value.get("zh", value.get("en", key)))},
                    aliases=tuple(str(a) for a in value.get("aliases", []) or []),
                    ambiguous=tuple(_normalise(a) for a in value.get("ambiguous", []) or []),
                )
            return result

        table = cls(categories=entries("categories"), brands=entries("brands"))
        missing = [c for c in CATEGORIES if c not in table.categories]
        if missing:
            raise CatalogError(f"{path}: categories without aliases: {', '.join(missing)}")
        return table

    def resolve(self, kind: str, phrase: Optional[str]) -> Optional[str]:
        """Canonical id for a phrase ("苹果" -> "apple"), or None if it names nothing known."""
        if not phrase:
            return None
        return self._lookup[kind].get(_normalise(phrase))

    def resolve_category(self, phrase: Optional[str]) -> Optional[str]:
        return self.resolve("category", phrase)

    def resolve_brand(self, phrase: Optional[str]) -> Optional[str]:
        return self.resolve("brand", phrase)

    def find_in_text(self, kind: str, text: str) -> List[str]:
        """Canonical ids whose aliases occur in free text, longest alias first.

        Latin aliases must match whole words ("mi" is not in "mini"), allowing
        an English plural ("tablets"); Chinese aliases match as substrings
        because Chinese has no spaces.
        """
        lowered = _normalise(text)
        found: List[str] = []
        for alias in sorted(self._lookup[kind], key=len, reverse=True):
            canonical = self._lookup[kind][alias]
            if canonical in found or alias in self._ambiguous[kind]:
                continue
            if re.search(r"[\u4e00-\u9fff]", alias):
                hit = alias in lowered
            else:
                hit = re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?:s|es)?(?![a-z0-9])", lowered) is not None
            if hit:
                found.append(canonical)
        return found

    def display(self, kind: str, canonical: str, language: str) -> str:
        entries = self.categories if kind == "category" else self.brands
        entry = entries.get(canonical)
        if entry is None:
            return canonical
        return entry.name.get(language) or entry.name["en"]


def _normalise(phrase: str) -> str:
    return " ".join(str(phrase).lower().split())


class Catalog:
    """All products, indexed for the recommender's vectorised filters."""

    def __init__(self, products: Iterable[Product], aliases: AliasTable) -> None:
        self.products: List[Product] = list(products)
        self.aliases = aliases
        self.index: Dict[str, int] = {p.id: i for i, p in enumerate(self.products)}
        self.prices = np.array([p.price for p in self.products], dtype=np.float64)
        self.in_stock = np.array([p.in_stock for p in self.products], dtype=bool)
        self.categories = np.array([p.category for p in self.products], dtype=object)
        self.brands = np.array([p.brand for p in self.products], dtype=object)
        # Integer codes: comparing small ints is what keeps a constrained query under a millisecond.
        self._category_code = {c: i for i, c in enumerate(sorted(set(self.categories)))}
        self._brand_code = {b: i for i, b in enumerate(sorted(set(self.brands)))}
        self.category_codes = np.array([self._category_code[c] for c in self.categories], dtype=np.int32)
        self.brand_codes = np.array([self._brand_code[b] for b in self.brands], dtype=np.int32)

    def __len__(self) -> int:
        return len(self.products)

    @property
    def content_hash(self) -> str:
        """Hash of every product's record: tells whether a database already holds this catalog."""
        digest = hashlib.sha256()
        for product in self.products:
            digest.update(json.dumps(product.to_record(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        return digest.hexdigest()[:16]

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.index

    @property
    def ids(self) -> List[str]:
        return [p.id for p in self.products]

    @property
    def links(self) -> List[Tuple[str, str]]:
        """(accessory id, product id it fits) pairs."""
        return [(p.id, target) for p in self.products for target in p.fits]

    def get(self, product_id: str) -> Optional[Product]:
        position = self.index.get(product_id)
        return None if position is None else self.products[position]

    def mask(
        self,
        category: Optional[str] = None,
        brand: Optional[str] = None,
        min_price: Optional[float] = None,
        max_price: Optional[float] = None,
        in_stock_only: bool = True,
    ) -> np.ndarray:
        """Boolean mask of products that satisfy the shopper's hard constraints."""
        keep = np.ones(len(self.products), dtype=bool)
        if category is not None:
            keep &= self.category_codes == self._category_code.get(category, -1)
        if brand is not None:
            keep &= self.brand_codes == self._brand_code.get(brand, -1)
        if min_price is not None:
            keep &= self.prices >= min_price
        if max_price is not None:
            keep &= self.prices <= max_price
        if in_stock_only:
            keep &= self.in_stock
        return keep

    def cheapest(self, category: Optional[str] = None, brand: Optional[str] = None) -> Optional[Product]:
        """Cheapest in-stock product of a kind: what a shopper hears when the budget is too low."""
        candidates = np.flatnonzero(self.mask(category=category, brand=brand))
        if candidates.size == 0:
            return None
        return self.products[int(candidates[np.argmin(self.prices[candidates])])]

    @classmethod
    def load(cls, products_path: Path, aliases_path: Path) -> "Catalog":
        """Load and validate both files; the first bad row aborts the whole load."""
        aliases = AliasTable.load(aliases_path)
        products: List[Product] = []
        seen: Dict[str, int] = {}
        try:
            lines = Path(products_path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CatalogError(f"{products_path}: cannot read catalog: {exc}") from exc
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{products_path}:{line_number}"
            try:
                record = check_record(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CatalogError(f"{where}: not valid JSON: {exc.msg}") from exc
            except CatalogError as exc:
                raise CatalogError(f"{where}: {exc}") from exc
            if record.id in seen:
                raise CatalogError(f"{where}: duplicate id {record.id!r} (first on line {seen[record.id]})")
            if record.brand not in aliases.brands:
                raise CatalogError(f"{where}: brand {record.brand!r} is not in the alias table {aliases_path}")
            seen[record.id] = line_number
            products.append(Product.from_record(record))
        if not products:
            raise CatalogError(f"{products_path}: catalog is empty")
        for product in products:
            unknown = [target for target in product.fits if target not in seen]
            if unknown:
                raise CatalogError(f"{products_path}:{seen[product.id]}: fits unknown product ids {', '.join(unknown)}")
        return cls(products, aliases)
