"""Why a product is in a shopper's list: the reason of the model that contributed most.

A reason is data (:class:`~recsys.reasons.Reason`), rendered by the client in
the shopper's language. An anchor product ("because you liked X") is always of
the recommended product's category: explaining a phone by a charger confuses.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np
import scipy.sparse as sp

from recsys.catalog import Catalog
from recsys.hybrid import COLD_START, RankedItem, within
from recsys.models.base import RecommenderModel
from recsys.queries import RecommendationQuery
from recsys.reasons import Reason


class HistoryByCategory:
    """One shopper's history and sequence split by category, built once per category a query's
    results need (explaining ten phones must not rebuild the phone history ten times)."""

    def __init__(self, history: sp.csr_matrix, sequence: np.ndarray, category_codes: np.ndarray) -> None:
        self._history = history
        self._sequence = np.asarray(sequence, dtype=np.int64)
        self._codes = category_codes
        self._rows: Dict[int, sp.csr_matrix] = {}

    def history(self, item: int) -> sp.csr_matrix:
        """The history row restricted to ``item``'s category."""
        code = int(self._codes[item])
        if code not in self._rows:
            keep = self._codes[self._history.indices] == code
            columns = self._history.indices[keep]
            self._rows[code] = sp.csr_matrix((self._history.data[keep], columns, [0, columns.size]), shape=self._history.shape)
        return self._rows[code]

    def sequence(self, item: int) -> np.ndarray:
        """The shopper's products of ``item``'s category, oldest first."""
        if not self._sequence.size:
            return self._sequence
        return self._sequence[self._codes[self._sequence] == self._codes[item]]


class Explainer:
    """Reasons for one query's ranked products."""

    def __init__(self, models: Mapping[str, RecommenderModel], catalog: Catalog, history: sp.csr_matrix,
                 sequence: np.ndarray, query: RecommendationQuery, extra: Optional[Mapping[int, Reason]] = None) -> None:
        self._models = models
        #: Reasons of contributions that are not models' (the boost of an accessory for a purchase).
        self._extra = extra or {}
        self._products = catalog.products
        self._shopper = HistoryByCategory(history, sequence, catalog.category_codes)
        self._query = query

    def reason(self, ranked: RankedItem) -> Reason:
        """The reason of the model that contributed most, naming the anchor it found, if any."""
        speaker = max(ranked.contributions, key=ranked.contributions.get)
        if speaker == COLD_START or ranked.contributions[speaker] <= 0:
            return popular_reason(self._query)
        if speaker not in self._models:
            return self._extra.get(ranked.item, Reason("matches_your_taste"))
        model = self._models[speaker]
        if ranked.item >= model.n_items:  # a product added after training: the model cannot point at an anchor
            return Reason("matches_your_taste")
        history, sequence = within(model.n_items, self._shopper.history(ranked.item), self._shopper.sequence(ranked.item))
        anchor: Optional[int] = model.explain(history, ranked.item, sequence=sequence)
        if anchor is not None and anchor != ranked.item:
            return Reason(model.reason, {"item": self._products[anchor].id})
        return Reason("matches_your_taste")


def popular_reason(query: RecommendationQuery) -> Reason:
    """"Popular among <category> [of <brand>] [under <price>]": what the query asked, as parameters."""
    params = {key: value for key, value in (("category", query.category), ("brand", query.brand), ("max_price", query.max_price))
              if value is not None}
    return Reason("popular", params)
