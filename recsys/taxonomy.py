"""The categories and brands Daogou knows, read from ``data/catalog/taxonomy.yml``.

That hand-edited file is the one place a category or brand is listed; everything else
follows from it: :data:`recsys.catalog.CATEGORIES` (the categories a product may have),
the alias table ``aliases.yml`` that the catalog build writes from :meth:`Taxonomy.alias_table`
(and the NLU lookup tables generated from that), the actions' category names, and the test
fixtures. Because people edit it, loading checks what a slip would break and names the entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml
from pydantic import BaseModel, ValidationError, constr

from recsys.settings import PROJECT_ROOT

TAXONOMY_PATH = PROJECT_ROOT / "data" / "catalog" / "taxonomy.yml"

_ID = re.compile(r"[a-z0-9]+")  # ids become parts of product ids ('phone-xiaomi-...'): no hyphens
_CJK = re.compile(r"[\u4e00-\u9fff]")


class TaxonomyError(ValueError):
    """``taxonomy.yml`` is unusable; the message names the file and the entry."""


class _Names(BaseModel):
    en: constr(strip_whitespace=True, min_length=1)
    zh: constr(strip_whitespace=True, min_length=1)

    class Config:
        extra = "forbid"


class _CategoryEntry(_Names):
    plural: _Names
    aliases: List[constr(strip_whitespace=True, min_length=2)] = []


class _BrandEntry(_Names):
    aliases: List[constr(strip_whitespace=True, min_length=2)] = []
    ambiguous: List[str] = []


class _SubBrandEntry(BaseModel):
    parent: str
    en: Optional[constr(strip_whitespace=True, min_length=1)] = None
    zh: Optional[constr(strip_whitespace=True, min_length=1)] = None

    class Config:
        extra = "forbid"


@dataclass(frozen=True)
class Category:
    """A category: display names, plural names for sentences ("3 phones"), extra aliases."""

    id: str
    name: Mapping[str, str]
    plural: Mapping[str, str]
    aliases: Tuple[str, ...]


@dataclass(frozen=True)
class Brand:
    """A brand: display names, extra aliases, and the aliases too common to scan free text for."""

    id: str
    name: Mapping[str, str]
    aliases: Tuple[str, ...]
    ambiguous: Tuple[str, ...] = ()


@dataclass(frozen=True)
class SubBrand:
    """A spelling in source listings ('redmi') that is filed under another brand ('xiaomi')."""

    id: str
    parent: str
    name: Mapping[str, str]


def alias_phrases(names: Mapping[str, str], aliases: Tuple[str, ...]) -> List[str]:
    """The display names, then the aliases: whitespace collapsed, Latin lowercased, no repeats."""
    phrases: List[str] = []
    for phrase in (names["en"], names["zh"], *aliases):
        phrase = " ".join(phrase.split())
        phrase = phrase if _CJK.search(phrase) else phrase.lower()
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return phrases


@dataclass(frozen=True)
class Taxonomy:
    """Every category and brand, in file order (which is the order of the alias table)."""

    categories: Mapping[str, Category]
    brands: Mapping[str, Brand]
    sub_brands: Mapping[str, SubBrand]

    @property
    def category_ids(self) -> Tuple[str, ...]:
        return tuple(self.categories)

    def canonical_brand(self, spelling: str) -> str:
        """'redmi' -> 'xiaomi': the brand a listing's (lowercase) spelling is filed under."""
        sub_brand = self.sub_brands.get(spelling)
        return sub_brand.parent if sub_brand else spelling

    def alias_table(self) -> Dict[str, Dict[str, Dict[str, Any]]]:
        """Content of ``aliases.yml``: names, and aliases that include the names themselves."""
        def entry(names: Mapping[str, str], aliases: Tuple[str, ...], ambiguous: Tuple[str, ...] = ()) -> Dict[str, Any]:
            result: Dict[str, Any] = {"en": names["en"], "zh": names["zh"], "aliases": alias_phrases(names, aliases)}
            if ambiguous:
                result["ambiguous"] = list(ambiguous)
            return result

        return {
            "categories": {c.id: entry(c.name, c.aliases) for c in self.categories.values()},
            "brands": {b.id: entry(b.name, b.aliases, b.ambiguous) for b in self.brands.values()},
        }

    @classmethod
    def from_mapping(cls, raw: Any, where: str = "taxonomy") -> "Taxonomy":
        """Check and convert the file's content; the first problem raises naming ``where`` and the entry."""
        if not isinstance(raw, dict):
            raise TaxonomyError(f"{where}: expected a mapping with categories, brands and sub_brands")
        unknown = sorted(set(raw) - {"categories", "brands", "sub_brands"})
        if unknown:
            raise TaxonomyError(f"{where}: unknown section(s) {', '.join(unknown)}")
        categories = {key: _category(key, value, where) for key, value in _section(raw, "categories", where).items()}
        brands = {key: _brand(key, value, where) for key, value in _section(raw, "brands", where).items()}
        sub_brands = {
            key: _sub_brand(key, value, where) for key, value in _section(raw, "sub_brands", where, required=False).items()
        }
        for kind, entries in (("categories", categories), ("brands", brands)):
            owners: Dict[str, str] = {}
            for entry in entries.values():
                for phrase in alias_phrases(entry.name, entry.aliases):
                    if owners.setdefault(phrase, entry.id) != entry.id:
                        raise TaxonomyError(f"{where}: {kind}: {phrase!r} names both {owners[phrase]} and {entry.id}")
        for sub_brand in sub_brands.values():
            if sub_brand.parent not in brands:
                raise TaxonomyError(f"{where}: sub_brands.{sub_brand.id}: parent {sub_brand.parent!r} is not a brand")
            if sub_brand.id in brands:
                raise TaxonomyError(f"{where}: sub_brands.{sub_brand.id}: is a brand of its own as well")
        return cls(categories=categories, brands=brands, sub_brands=sub_brands)

    @classmethod
    def load(cls, path: Path = TAXONOMY_PATH) -> "Taxonomy":
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TaxonomyError(f"{path}: cannot read the taxonomy: {exc}") from exc
        return cls.from_mapping(raw, str(path))


def _section(raw: Mapping[str, Any], name: str, where: str, required: bool = True) -> Dict[str, Any]:
    section = raw.get(name)
    if section is None and not required:
        return {}
    if not isinstance(section, dict) or not section:
        raise TaxonomyError(f"{where}: {name} must be a non-empty mapping of id to entry")
    bad = [str(key) for key in section if not isinstance(key, str) or not _ID.fullmatch(key)]
    if bad:
        raise TaxonomyError(f"{where}: {name}: ids must be lowercase letters and digits, not {', '.join(bad)}")
    return section


def validation_problems(exc: ValidationError) -> str:
    """'price: ensure this value is greater than 0; name.zh: field required': every problem, one line."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def _parse(model: type, value: Any, where: str) -> Any:
    try:
        return model.parse_obj(value if value is not None else {})
    except ValidationError as exc:
        raise TaxonomyError(f"{where}: {validation_problems(exc)}") from exc


def _category(key: str, value: Any, where: str) -> Category:
    entry = _parse(_CategoryEntry, value, f"{where}: categories.{key}")
    return Category(id=key, name={"en": entry.en, "zh": entry.zh}, plural=entry.plural.dict(), aliases=tuple(entry.aliases))


def _brand(key: str, value: Any, where: str) -> Brand:
    entry = _parse(_BrandEntry, value, f"{where}: brands.{key}")
    names = {"en": entry.en, "zh": entry.zh}
    stray = [a for a in entry.ambiguous if a not in alias_phrases(names, tuple(entry.aliases))]
    if stray:
        raise TaxonomyError(f"{where}: brands.{key}: ambiguous {', '.join(stray)} not among its names and aliases")
    return Brand(id=key, name=names, aliases=tuple(entry.aliases), ambiguous=tuple(entry.ambiguous))


def _sub_brand(key: str, value: Any, where: str) -> SubBrand:
    entry = _parse(_SubBrandEntry, value, f"{where}: sub_brands.{key}")
    return SubBrand(id=key, parent=entry.parent, name={"en": entry.en or key.title(), "zh": entry.zh or key.title()})


@lru_cache(maxsize=None)
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    """The taxonomy at ``path``, read once per process (it is project data, like code)."""
    return Taxonomy.load(path)
