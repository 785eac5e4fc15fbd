"""Entities from the catalog: categories, brands and products the shop knows by name.

A learned tagger only knows the words its examples use; the catalog knows every
alias, brand and model the shop sells. This extractor reads them from the
recommender's catalog (the alias table and its product finder), so a bare
search-box query ("pixel 8", "苹果macbook", "galaxy s24 ultra") yields the
product, its brand and its category, and a new product in the catalog is
understood without retraining. The CRF tagger in the pipeline stays for what a
catalog cannot list (features, budgets, products we do not sell).

What it adds to a message's entities, each with `extractor: CatalogEntityExtractor`:
- `category` / `brand` for every alias in the text (whole Latin words, plural allowed;
  Chinese as substrings; everyday-word aliases such as "nothing" never);
- `product` for every product named (its English name, the whole text as span, since
  names are matched on folded tokens);
- `category` / `brand` implied by a named product, or by a product-line word that almost
  only that category or brand uses in the catalog ("macbook", "iphone", "thinkpad"),
  when the text names none itself (`implied_by` says what implied it).
"""
from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from recsys import Catalog, Settings
from recsys.products import ProductFinder, tokens

EXTRACTOR = "CatalogEntityExtractor"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: Words of product names that say nothing about what a product is, or are specs any kind of product has.
_NAME_FILLER = frozenset("for with and the new pro max plus ultra mini lite air edition gen generation series "
                         "version inch wifi cellular wireless bluetooth black white blue silver gray grey gold green "
                         "red pink purple gb tb mm screen display windows celeron pentium core intel ryzen radeon "
                         "geforce nvidia iris graphics retina active noise cancelling smart".split())


@dataclass(frozen=True)
class Span:
    kind: str
    value: str
    start: int
    end: int
    implied_by: Optional[str] = None

    def entity(self) -> Dict[Text, Any]:
        entity = {"entity": self.kind, "value": self.value, "start": self.start, "end": self.end,
                  "extractor": EXTRACTOR, "confidence_entity": 1.0}
        if self.implied_by:
            entity["implied_by"] = self.implied_by
        return entity


class CatalogReader:
    """The catalog's names as patterns, built once per catalog."""

    def __init__(self, catalog: Catalog, line_share: float = 0.9, line_min_products: int = 3) -> None:
        self.catalog = catalog
        self.finder = ProductFinder(catalog)
        self._aliases = {kind: self._alias_patterns(kind) for kind in ("category", "brand")}
        self._lines = self._product_lines(line_share, line_min_products)

    def _alias_patterns(self, kind: str) -> List[Tuple[re.Pattern, str]]:
        table = self.catalog.aliases
        entries = table.categories if kind == "category" else table.brands
        phrases: Dict[str, str] = {}
        for entry in entries.values():
            for phrase in (entry.id, entry.name.get("en", ""), entry.name.get("zh", ""), *entry.aliases):
                phrase = " ".join(str(phrase).lower().split())
                if phrase and phrase not in entry.ambiguous:
                    phrases.setdefault(phrase, entry.id)
        patterns = []
        for phrase in sorted(phrases, key=len, reverse=True):  # longest first: "mobile phone" before "phone"
            if _CJK.search(phrase):
                pattern = re.compile(re.escape(phrase))
            else:  # whole words; a Chinese character counts as a boundary ("联想thinkpad")
                pattern = re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?:s|es)?(?![a-z0-9])")
            patterns.append((pattern, phrases[phrase]))
        return patterns

    def _product_lines(self, share: float, min_products: int) -> Dict[str, Dict[str, str]]:
        """Latin words of product names that almost only one category (or brand) uses: "macbook" -> laptop."""
        by_word: Dict[str, List[Any]] = defaultdict(list)
        for product in self.catalog.products:
            for word in set(tokens(f"{product.name.get('en', '')} {product.model}")):
                if len(word) >= 4 and word.isalpha() and word.isascii() and word not in _NAME_FILLER:
                    by_word[word].append(product)
        lines: Dict[str, Dict[str, str]] = {}
        for word, products in by_word.items():
            if len(products) < min_products:
                continue
            # An accessory's name names the device it fits ("Silicone Case for iPhone 15"): a word says
            # which kind of product it is from the devices that carry it, accessories only if nothing else does.
            devices = [p for p in products if p.category != "accessory"]
            products = devices or products
            implied = {}
            for kind, attribute in (("category", "category"), ("brand", "brand")):
                value, count = Counter(getattr(p, attribute) for p in products).most_common(1)[0]
                if count / len(products) >= share:
                    implied[kind] = value
            if implied:
                lines[word] = implied
        return lines

    def spans(self, text: str) -> List[Span]:
        lowered = text.lower()
        found: List[Span] = []
        for kind, patterns in self._aliases.items():
            taken: List[Tuple[int, int]] = []
            for pattern, canonical in patterns:
                for match in pattern.finditer(lowered):
                    if any(match.start() < end and start < match.end() for start, end in taken):
                        continue
                    taken.append((match.start(), match.end()))
                    found.append(Span(kind, canonical, match.start(), match.end()))
        products = self.finder.find(text)
        for product in products:
            found.append(Span("product", product.name.get("en") or product.id, 0, len(text)))
        stated = {span.kind for span in found}
        implied: Dict[str, Span] = {}
        for product in products:
            for kind, value in (("category", product.category), ("brand", product.brand)):
                if kind not in stated:
                    implied.setdefault(kind, Span(kind, value, 0, len(text), implied_by=product.id))
        for word in tokens(text):
            for kind, value in self._lines.get(word, {}).items():
                if kind not in stated:
                    implied.setdefault(kind, Span(kind, value, 0, len(text), implied_by=word))
        return found + list(implied.values())


@functools.lru_cache(maxsize=4)
def catalog_reader(catalog_path: str, aliases_path: str) -> CatalogReader:
    """One reader per catalog file and process (about a second to build)."""
    from pathlib import Path

    return CatalogReader(Catalog.load(Path(catalog_path), Path(aliases_path)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class CatalogEntityExtractor(GraphComponent):
    """Adds the catalog's categories, brands and products named in a message (see the module docstring).

    The catalog is read where the model runs (the recommender's `DAOGOU_CATALOG` / `DAOGOU_ALIASES`
    settings), so a catalog update needs no NLU retraining.
    """

    def __init__(self, reader: Optional[CatalogReader] = None) -> None:
        self._reader = reader

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CatalogEntityExtractor":
        settings = Settings.from_env()
        return cls(catalog_reader(str(settings.catalog_path), str(settings.aliases_path)))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            learned = message.get(ENTITIES, [])
            added = [span.entity() for span in self._reader.spans(text)]
            message.set(ENTITIES, _without_overlaps(learned, added), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training examples keep their annotated entities


def _without_overlaps(learned: Sequence[Dict[str, Any]], added: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The learned tagger's entities, minus any that overlap a category or brand the catalog found in the text
    (the catalog's canonical id wins: "Iphone" is the brand apple, not an unknown product), plus the catalog's."""
    exact = [(e["start"], e["end"]) for e in added
             if e["entity"] in ("category", "brand") and not e.get("implied_by")]
    kept = [e for e in learned
            if e.get("entity") in ("price", "feature")
            or not any(e.get("start", -1) < end and start < e.get("end", -1) for start, end in exact)]
    return kept + list(added)
