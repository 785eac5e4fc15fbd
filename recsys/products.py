"""Finding the products a shopper names: "Pixel 8", "iphone15 pro", "小米14", "华为 WATCH GT 4".

Shoppers write model names loosely (with or without the brand, spaces, the
memory variant, in Chinese or English), so names are compared as token
sequences after folding case, punctuation, and the boundaries between letters,
digits and Chinese characters. A name shared by several variants of one model
resolves to the best-known variant (most reviews, then best rated, then cheapest).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from recsys.catalog import Catalog, Product

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_SEPARATORS = re.compile(rf"[^a-z0-9{_CJK}]+")
_BOUNDARY = re.compile(rf"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])|(?<=[{_CJK}])|(?=[{_CJK}])")
_PARENTHESES = re.compile(r"\([^)]*\)|（[^）]*）")
_SCREEN_SIZE = re.compile(r"\s\d+(\.\d+)?(\"|”|''|英寸|-inch| inch).*$")
#: Single words that name no product on their own, even where a model is called that.
_GENERIC = {"pro", "max", "plus", "ultra", "mini", "lite", "air", "watch", "pad", "tab", "buds", "band", "phone",
            "tv", "case", "go", "one", "note", "edge", "book", "the", "a"}


def tokens(text: str) -> Tuple[str, ...]:
    """Comparable tokens: lower case, no punctuation, letters/digits/each Chinese character apart."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _BOUNDARY.sub(" ", _SEPARATORS.sub(" ", text))
    return tuple(text.split())


def _names(product: Product, brand_names: Iterable[str]) -> Set[Tuple[str, ...]]:
    """The token sequences a shopper might use for a product: full names and models, with and without brand."""
    raw = [product.name.get("en", ""), product.name.get("zh", ""), product.model]
    names: Set[Tuple[str, ...]] = set()
    brand_tokens = {tokens(b) for b in brand_names if b}
    for name in raw:
        base = _SCREEN_SIZE.sub("", _PARENTHESES.sub(" ", name)).strip()
        for variant in (tokens(base),):
            if not variant:
                continue
            names.add(variant)
            if variant[-2:] in (("5", "g"), ("4", "g")) and len(variant) > 3:
                names.add(variant[:-2])  # "Redmi Note 13 Pro 5G" is "Redmi Note 13 Pro" to most shoppers
            for brand in brand_tokens:
                for known in list(names):
                    if brand and known[:len(brand)] == brand and len(known) > len(brand):
                        names.add(known[len(brand):])
    return {n for n in names if _specific(n)}


def _specific(name: Tuple[str, ...]) -> bool:
    """A name worth matching: more than one token, or one with a digit, or a long unusual word."""
    if len(name) > 1:
        return not all(t in _GENERIC or (len(t) == 1 and t.isascii() and t.isalpha()) for t in name)
    word = name[0]
    return word not in _GENERIC and (any(c.isdigit() for c in word) and any(c.isalpha() for c in word))


class ProductFinder:
    """Product mentions in free text, matched on whole token sequences, longest first."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        reserved = {tokens(a) for kind in ("category", "brand") for a in catalog.aliases._lookup[kind]}
        candidates: Dict[Tuple[str, ...], List[Product]] = {}
        for product in catalog.products:
            entry = catalog.aliases.brands.get(product.brand)
            brand_names = [product.brand, *(entry.name.values() if entry else ()), *(entry.aliases if entry else ())]
            for name in _names(product, brand_names):
                if name not in reserved:
                    candidates.setdefault(name, []).append(product)
        self._by_name: Dict[Tuple[str, ...], Product] = {name: min(products, key=_preference) for name, products in candidates.items()}
        self._by_first: Dict[str, List[Tuple[str, ...]]] = {}
        for name in sorted(self._by_name, key=len, reverse=True):
            self._by_first.setdefault(name[0], []).append(name)

    def find(self, text: str, limit: int = 3) -> List[Product]:
        """Products named in ``text``, in the order they are mentioned, each once."""
        words = tokens(text or "")
        found: List[Product] = []
        position = 0
        while position < len(words) and len(found) < limit:
            match = self._longest_at(words, position)
            if match is None:
                position += 1
                continue
            name, product = match
            if product not in found:
                found.append(product)
            position += len(name)
        return found

    def resolve(self, mention: str) -> Optional[Product]:
        """One product for an extracted mention: an exact name, else the best product whose name holds every token."""
        found = self.find(mention, limit=1)
        if found:
            return found[0]
        wanted = tokens(mention or "")
        if not wanted or not _specific(wanted):
            return None
        containing = [(len(name) - len(wanted), _preference(product)) + (product.id,)
                      for name, product in self._by_name.items() if _contains(name, wanted)]
        if not containing:
            return None
        return self.catalog.get(min(containing)[-1])

    def _longest_at(self, words: Sequence[str], position: int) -> Optional[Tuple[Tuple[str, ...], Product]]:
        for name in self._by_first.get(words[position], ()):
            if tuple(words[position:position + len(name)]) == name:
                return name, self._by_name[name]
        return None


def _contains(name: Tuple[str, ...], wanted: Tuple[str, ...]) -> bool:
    """``wanted`` occurs in ``name`` as a contiguous run."""
    n = len(wanted)
    return any(name[i:i + n] == wanted for i in range(len(name) - n + 1))


def _preference(product: Product) -> Tuple[float, float, float]:
    return (-(product.review_count or 0), -(product.rating or 0.0), product.price)
