"""Content model: recommends by what products are, not by who bought them."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from recsys.events import Interactions
from recsys.models.base import LinearMoments, RecommenderModel


class ContentModel(RecommenderModel):
    """Item embeddings from the catalog's text and specs (TF-IDF reduced by truncated SVD).

    A shopper's profile is the weighted mean of the embeddings of what they
    touched; items score by cosine similarity to it. It needs no interactions
    with an item to score it, which is what new products need.
    """

    name = "content"
    reason = "similar_to"

    def __init__(self, dimensions: int = 128, random_state: int = 0) -> None:
        self.dimensions = int(dimensions)
        self.random_state = int(random_state)
        self.embeddings = np.zeros((0, 0), dtype=np.float32)

    def fit(self, interactions: Interactions) -> "ContentModel":
        features = interactions.item_features
        if features is None:
            raise ValueError("the content model needs item features: Interactions.with_item_features(item_feature_matrix(catalog))")
        dimensions = max(1, min(self.dimensions, features.shape[0] - 1, features.shape[1] - 1))
        embeddings = TruncatedSVD(n_components=dimensions, random_state=self.random_state).fit_transform(features)
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        self.embeddings = (embeddings / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        self.n_items = features.shape[0]
        return self

    _moments: Optional[LinearMoments] = None

    def _profile(self, history: sp.csr_matrix) -> np.ndarray:
        return history.data.astype(np.float32) @ self.embeddings[history.indices]

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        if history.nnz == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        return self.embeddings @ self._profile(history)

    def score_items(self, history: sp.csr_matrix, items: np.ndarray, user: Optional[int] = None,
                    sequence: Optional[np.ndarray] = None) -> Tuple[np.ndarray, float, float]:
        if history.nnz == 0:
            return np.zeros(len(items)), 0.0, 0.0
        profile = self._profile(history)
        self._moments = LinearMoments.of(self._moments, self.embeddings)
        mean, std = self._moments.mean_std(profile)
        return (self.embeddings[items] @ profile).astype(np.float64), mean, std

    def _contributions(self, history: sp.csr_matrix, item: int) -> np.ndarray:
        """Weighted likeness of each history item to ``item`` in text and specs."""
        return history.data * (self.embeddings[history.indices] @ self.embeddings[item])

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"embeddings": self.embeddings}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.embeddings = arrays["embeddings"]
