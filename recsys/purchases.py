"""After a purchase: the bought product is not pushed again (the hybrid excludes what a shopper has),
but what fits it is: the best accessory for the latest purchase joins the shopper's next list."""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from recsys.catalog import Catalog
from recsys.queries import Recommendation
from recsys.reasons import Reason

#: Where the accessory goes in the list: second, so the shopper's top pick stays first.
ACCESSORY_SLOT = 1
#: How many of the latest purchases are looked at.
RECENT_PURCHASES = 3


def accessory_for_purchases(catalog: Catalog, purchased: tuple, allowed: np.ndarray,
                            seen: set) -> Optional[Recommendation]:
    """The best-rated allowed accessory fitting one of the latest purchases (latest first), or None."""
    for position in reversed(purchased[-RECENT_PURCHASES:]):
        bought = catalog.products[position]
        fitting = [catalog.get(pid) for pid in catalog.accessories_for(bought.id)]
        fitting = [p for p in fitting if p is not None and allowed[catalog.index[p.id]] and catalog.index[p.id] not in seen]
        if fitting:
            best = max(fitting, key=lambda p: (p.rating or 0.0, -p.price, p.id))
            return Recommendation(best, 0.0, Reason("fits_your_purchase", {"item": bought.id}))
    return None


def with_accessory(recommendations: List[Recommendation], accessory: Optional[Recommendation], k: int) -> List[Recommendation]:
    """The list with the accessory in :data:`ACCESSORY_SLOT` (moved there if already in it), still ``k`` long."""
    if accessory is None:
        return recommendations
    others = [r for r in recommendations if r.product.id != accessory.product.id]
    others.insert(min(ACCESSORY_SLOT, len(others)), accessory)
    return others[:k]
