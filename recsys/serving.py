"""What one request ranks with: a whole artefact set, stretched over the live catalog and market.

A request takes one :class:`ServingModels` at its start and uses nothing else, so a
retrain swapped in by another thread mid-request cannot mix old factors with new
shoppers' rows. :class:`LiveModels` then fits that set to the catalog as it is
now: products added after training get a content embedding projected from their
features (the trained content model cannot have seen them) and a popularity of
what the market did with them in the last hour; the collaborative models do not
know them and give them their mean (:func:`recsys.hybrid.within`).
"""
from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from recsys.artifacts import ArtifactMetadata, TrainedShopper
from recsys.catalog import Catalog, Product
from recsys.features import attribute_tokens, chinese_text, english_text
from recsys.hybrid import HybridRanker
from recsys.live_catalog import CatalogView
from recsys.models import RecommenderModel

#: Trained products a new product's content embedding is averaged from.
PROJECTION_NEIGHBOURS = 10


@dataclass(frozen=True)
class ServingModels:
    """One artefact set, loaded whole; replaced, never modified, when a newer set is swapped in."""

    ranker: HybridRanker
    #: Shopper id -> the row their factors have, with the events the models saw.
    trained: Mapping[str, TrainedShopper]
    metadata: ArtifactMetadata
    directory: Path
    #: What :func:`recsys.artifacts.artifact_stamp` said of the set when it was read.
    stamp: Optional[Tuple[str, float]]
    loaded_at: str

    @property
    def models(self) -> Mapping[str, RecommenderModel]:
        return self.ranker.models

    @property
    def n_trained_items(self) -> int:
        return self.metadata.n_items


def product_tokens(product: Product) -> frozenset:
    """What a product is, as a set of tokens: category, brand, price band, specs, words, Chinese characters."""
    words = re.findall(r"[a-z0-9]+", english_text(product).lower())
    characters = re.findall(r"[\u4e00-\u9fff]", chinese_text(product))
    return frozenset(attribute_tokens(product).lower().split()) | frozenset(words) | frozenset(characters)


class LiveModels:
    """The serving set fitted to the live catalog and market; rebuilt only when one of them changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: Optional[tuple] = None
        self._ranker: Optional[HybridRanker] = None
        self._content_key: Optional[tuple] = None
        self._content: Optional[RecommenderModel] = None
        self._tokens: Optional[Tuple[RecommenderModel, List[frozenset]]] = None

    def ranker(self, serving: ServingModels, view: CatalogView, market_version: int,
               market_scores: "callable") -> HybridRanker:
        """The ranker for this catalog view and market version (``market_scores(catalog)`` -> array)."""
        # Keys hold the set itself, not its id(): an id may be reused once an old set is freed.
        key = (view.seq, market_version)
        with self._lock:
            if self._key is not None and self._key[0] is serving and self._key[1] == key and self._ranker is not None:
                return self._ranker
        models: Dict[str, RecommenderModel] = dict(serving.models)
        if "content" in models:
            models["content"] = self._content_for(serving, view)
        if "popularity" in models:
            models["popularity"] = _with_market(models["popularity"], view.catalog, market_scores(view.catalog))
        ranker = HybridRanker(models, serving.ranker.weights)
        with self._lock:
            self._key, self._ranker = (serving, key), ranker
        return ranker

    def _content_for(self, serving: ServingModels, view: CatalogView) -> RecommenderModel:
        base = serving.models["content"]
        n = len(view.catalog)
        if n <= base.n_items:
            return base
        if self._content_key is not None and self._content_key[0] is serving and self._content_key[1] == view.seq:
            return self._content
        new = [self._project(base, view.catalog, position) for position in range(base.n_items, n)]
        extended = copy.copy(base)
        extended.embeddings = np.vstack([base.embeddings, np.asarray(new, dtype=np.float32)])
        extended.n_items = n
        extended._moments = None  # catalog-wide moments are over the new rows too
        self._content_key, self._content = (serving, view.seq), extended
        return extended

    def _project(self, base: RecommenderModel, catalog: Catalog, position: int) -> np.ndarray:
        """A new product's embedding: the mean of its most alike trained products', by shared tokens.

        The trained embedding came from an SVD of TF-IDF features the artefacts do not keep; the
        products that share a new one's category, brand, price band, specs and words sit near it in
        that space, so their mean places it there without refitting anything.
        """
        n = base.n_items
        if self._tokens is None or self._tokens[0] is not base:
            self._tokens = (base, [product_tokens(p) for p in catalog.products[:n]])
        known = self._tokens[1]
        tokens = product_tokens(catalog.products[position])
        same = np.flatnonzero(catalog.category_codes[:n] == catalog.category_codes[position])
        pool = same if same.size >= PROJECTION_NEIGHBOURS else np.arange(n)  # its own category first
        scores = np.array([len(tokens & known[i]) / np.sqrt(max(1, len(tokens) * len(known[i]))) for i in pool])
        order = np.argsort(-scores, kind="stable")[:PROJECTION_NEIGHBOURS]
        top, weights = pool[order], scores[order] + 1e-3  # a product sharing nothing still lands among its kind
        vector = (weights[:, None] * base.embeddings[top]).sum(axis=0)
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else vector


def _with_market(popularity: RecommenderModel, catalog: Catalog, market: np.ndarray) -> RecommenderModel:
    """The trained popularity plus the last hour's market counts, over the whole live catalog."""
    if not np.any(market) and len(catalog) == popularity.n_items:
        return popularity
    scores = np.zeros(len(catalog), dtype=np.float64)
    scores[:popularity.n_items] = popularity.item_scores
    live = copy.copy(popularity)
    live.item_scores = scores + market
    live.n_items = len(catalog)
    return live
