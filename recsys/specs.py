"""What shoppers care about and which catalog specs answer it.

``data/catalog/features.yml`` maps a feature ("battery", "续航") to the spec
keys that describe it; :data:`KEY_SPECS` lists, per category, the specs worth
putting side by side in a comparison. Both are data about products, so they
live here rather than in any client; renderers only translate the keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from recsys.catalog import Product, read_yaml
from recsys.graphics import graphics_tier
from recsys.queries import Recommendation
from recsys.reasons import Reason

#: Specs where less is better (a lighter laptop).
LOWER_IS_BETTER = {"weight_g"}

#: Specs given as names that can still be ranked: each reader turns a name into a number (None: unknown).
RANKABLE_TEXT: Mapping[str, Callable[[str], Optional[float]]] = {"gpu": graphics_tier}


def _rank_value(spec: str, value: object) -> Optional[float]:
    """A spec value as a number to rank on: numbers and yes/no as they are, rankable names read."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    reader = RANKABLE_TEXT.get(spec)
    return reader(value) if reader is not None and isinstance(value, str) else None

#: Specs that matter when comparing products of a category, most telling first.
KEY_SPECS: Mapping[str, Tuple[str, ...]] = {
    "phone": ("chipset", "ram_gb", "storage_gb", "screen_in", "refresh_hz", "battery_mah", "fast_charging_w",
              "rear_camera_mp", "front_camera_mp", "has_5g", "has_nfc"),
    "laptop": ("cpu", "gpu", "ram_gb", "storage_gb", "storage_type", "screen_in", "resolution", "weight_g", "os"),
    "tablet": ("chip", "ram_gb", "storage_gb", "screen_in", "refresh_hz", "battery_mah", "stylus", "weight_g"),
    "headphones": ("form", "anc", "wireless", "battery_hours", "water_resistance", "bluetooth"),
    "smartwatch": ("battery_hours", "gps", "water_resistance", "cellular", "os", "screen_in"),
    "camera": ("sensor", "megapixels", "video", "lens_mount", "weight_g"),
    "monitor": ("screen_in", "resolution", "refresh_hz", "panel", "hdr", "ports"),
    "tv": ("screen_in", "resolution", "refresh_hz", "panel", "hdr", "smart_tv_os"),
    "speaker": ("wireless", "battery_hours", "water_resistance", "weight_g", "bluetooth"),
    "accessory": ("accessory_type", "output_w", "capacity_mah", "capacity_gb", "connector", "compatible_models", "wireless"),
}


@dataclass(frozen=True)
class Feature:
    id: str
    name: Mapping[str, str]
    specs: Tuple[str, ...]
    aliases: Tuple[str, ...]


@dataclass(frozen=True)
class FeatureAnswer:
    """What the catalog says about one feature of one product: (spec key, value) pairs it has."""

    product: Product
    feature: Feature
    values: Tuple[Tuple[str, object], ...]

    @property
    def known(self) -> bool:
        return bool(self.values)


@dataclass(frozen=True)
class Comparison:
    """Products side by side on the specs that matter for their category (rows at least one has)."""

    products: Tuple[Product, ...]
    specs: Tuple[str, ...]

    def value(self, product: Product, spec: str) -> object:
        return product.specs.get(spec)


class FeatureTable:
    """Features by canonical id, with their aliases in both languages."""

    def __init__(self, features: Sequence[Feature]) -> None:
        self.features: Dict[str, Feature] = {f.id: f for f in features}
        self._lookup: Dict[str, str] = {}
        for feature in features:
            for phrase in (feature.id, feature.name.get("en", ""), feature.name.get("zh", ""), *feature.aliases):
                if phrase:
                    self._lookup.setdefault(" ".join(phrase.lower().split()), feature.id)

    @classmethod
    def load(cls, path: Path) -> "FeatureTable":
        raw = read_yaml(path, "feature table")
        features = [
            Feature(id=str(key), name={"en": str(v.get("en", key)), "zh": str(v.get("zh", v.get("en", key)))},
                    specs=tuple(str(s) for s in v.get("specs", [])), aliases=tuple(str(a) for a in v.get("aliases", [])))
            for key, v in (raw.get("features") or {}).items()
        ]
        return cls(features)

    def resolve(self, phrase: Optional[str]) -> Optional[Feature]:
        """The feature a phrase names ("续航" -> battery), or None."""
        if not phrase:
            return None
        key = self._lookup.get(" ".join(str(phrase).lower().split()))
        return self.features.get(key) if key else None

    def find_in_text(self, text: str, reserved: Iterable[str] = ()) -> List[Feature]:
        """Features whose aliases occur in free text, longest alias first, except ``reserved`` phrases."""
        lowered = " ".join(text.lower().split())
        skip = set(reserved)
        found: List[Feature] = []
        for alias in sorted(self._lookup, key=len, reverse=True):
            feature = self.features[self._lookup[alias]]
            if feature in found or alias in skip:
                continue
            if alias.isascii():
                if re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", lowered):
                    found.append(feature)
            elif alias in lowered:
                found.append(feature)
        return found


def answer(product: Product, feature: Feature) -> FeatureAnswer:
    values = tuple((spec, product.specs[spec]) for spec in feature.specs if product.specs.get(spec) not in (None, ""))
    return FeatureAnswer(product, feature, values)


def compare(products: Sequence[Product]) -> Comparison:
    """Specs of the first product's category that any of the products has, in order of importance."""
    category = products[0].category
    keys = KEY_SPECS.get(category, ())
    specs = tuple(k for k in keys if any(p.specs.get(k) not in (None, "") for p in products))
    return Comparison(tuple(products), specs)


def feature_strength(products: Sequence[Product], feature: Feature) -> Tuple[Optional[str], List[Optional[float]]]:
    """The spec that judges the feature here, and each product's strength on it, 0..1 (None: no value).

    The judging spec is the feature's first rankable spec (a number, yes/no, or
    a name :data:`RANKABLE_TEXT` can read, like a GPU) that at least two of the
    products have ("battery" -> ``battery_mah`` for phones, ``battery_hours``
    for earbuds, "gaming" -> ``gpu`` for laptops); strength is the product's rank on it.
    """
    for spec in feature.specs:
        ranked = {i: _rank_value(spec, p.specs.get(spec)) for i, p in enumerate(products)}
        numeric = {i: v for i, v in ranked.items() if v is not None}
        if len(numeric) < 2:
            continue
        ordered = sorted(set(numeric.values()), reverse=spec not in LOWER_IS_BETTER)
        steps = max(1, len(ordered) - 1)
        return spec, [1.0 - ordered.index(numeric[i]) / steps if i in numeric else None for i in range(len(products))]
    return None, [None] * len(products)


def prefer_feature(recommendations: Sequence[Recommendation], feature: Feature) -> List[Recommendation]:
    """Strongest on the feature first, the recommender's order breaking ties; reasons name the feature."""
    spec, strength = feature_strength([r.product for r in recommendations], feature)
    order = sorted(range(len(recommendations)), key=lambda i: (-(strength[i] if strength[i] is not None else -1.0), i))
    result = []
    for i in order:
        rec = recommendations[i]
        if spec is not None and strength[i] is not None and strength[i] >= 0.5 and rec.product.specs[spec] is not False:
            reason = Reason("strong_feature", {"feature": feature.id, "spec": spec, "value": rec.product.specs[spec]})
            rec = Recommendation(rec.product, rec.score, reason)
        result.append(rec)
    return result
