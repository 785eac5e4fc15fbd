"""Why a product was recommended, as data; the client renders it in the shopper's language."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Reason:
    """A reason code with its parameters.

    Codes: ``because_you_liked`` (``item``: a product id from the shopper's
    history, people who liked it liked this), ``similar_to`` (``item``: a
    history product this one resembles in text and specs), ``next_after``
    (``item``: the shopper's latest product, which others follow with this),
    ``matches_your_taste`` (a personal score with no single cause),
    ``popular`` (optional ``category``, ``brand``, ``max_price``), ``fits_purchase`` (``item``: a
    product the shopper bought, which this accessory fits).
    """

    code: str
    params: Mapping[str, object] = field(default_factory=dict)
