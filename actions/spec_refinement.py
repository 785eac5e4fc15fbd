""""Lighter", "bigger screen", "newer": a list narrowed by a spec, against what the shopper has seen.

A salesperson hearing "any lighter ones?" shows products lighter than those on the table, within
everything already asked (category, brand, budget). The specs come from the catalog: ``weight_g`` and
``screen_in`` in a product's specs, ``release_year`` on the product itself. The reference is the
product pointed at ("similar to the first one but lighter": lighter than it) or the middle of the list
shown ("any lighter ones?"). A product whose spec is unknown is never offered as lighter or newer: we
cannot say it is. Every answer that lists products (recommendations, similar items, comparisons) uses
:func:`spec_limits` and :func:`narrowed`, so "lighter" means the same everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import List, Optional, Sequence, Tuple

from recsys import Product

from actions.messages import t
from actions.parsing import Refinement

#: Each spec refinement: (the Refinement flag, the spec it reads, whether smaller is what was asked for).
_SPECS: Tuple[Tuple[str, str, bool], ...] = (
    ("lighter", "weight_g", True),
    ("bigger_screen", "screen_in", False),
    ("newer", "release_year", False),
)
#: How many candidates to fetch before narrowing by a spec, so five survive where the catalog allows.
CANDIDATES = 50


def spec_number(product: Product, spec: str) -> Optional[float]:
    """The spec as a number, or None when the catalog does not know it."""
    value = product.release_year if spec == "release_year" else product.specs.get(spec)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class SpecLimit:
    """"weight_g below 1450", "release_year above 2022": what a product must beat to be offered."""

    refinement: str  # "lighter", "bigger_screen", "newer": the locale key of what was asked
    spec: str
    smaller: bool
    reference: float

    def admits(self, product: Product) -> bool:
        value = spec_number(product, self.spec)
        if value is None:
            return False
        return value < self.reference if self.smaller else value > self.reference


@dataclass(frozen=True)
class SpecLimits:
    """The limits a message sets, and the refinements asked for that the reference products lack data on."""

    limits: Tuple[SpecLimit, ...] = ()
    unknown: Tuple[str, ...] = ()  # refinement names

    @property
    def any(self) -> bool:
        return bool(self.limits or self.unknown)


def spec_limits(refinement: Refinement, reference: Sequence[Product]) -> SpecLimits:
    """The limits of the spec refinements asked for, against the reference products (their median)."""
    limits: List[SpecLimit] = []
    unknown: List[str] = []
    for flag, spec, smaller in _SPECS:
        if not getattr(refinement, flag):
            continue
        known = [v for v in (spec_number(p, spec) for p in reference) if v is not None]
        if known:
            limits.append(SpecLimit(flag, spec, smaller, float(median(known))))
        else:
            unknown.append(flag)
    return SpecLimits(tuple(limits), tuple(unknown))


def narrowed(products: Sequence[Product], limits: SpecLimits) -> List[Product]:
    """The products that meet every limit, in the order given; none when a spec asked for is unknown."""
    if limits.unknown:  # "lighter" than products whose weight nobody knows: no product can be said to be
        return []
    return [p for p in products if all(limit.admits(p) for limit in limits.limits)]


def explain_nothing(language: str, limits: SpecLimits) -> str:
    """Why nothing is listed: the spec is unknown for what was shown, or nothing in stock beats it."""
    if limits.unknown:
        flag = limits.unknown[0]
        spec = next(spec for name, spec, _ in _SPECS if name == flag)
        return t(language, "refine.unknown", spec=t(language, f"refine.spec.{spec}"), what=t(language, f"refine.{flag}"))
    return t(language, "refine.none", what=t(language, f"refine.{limits.limits[0].refinement}"))
