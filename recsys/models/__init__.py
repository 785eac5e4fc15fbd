"""Recommendation models, one family per module, all behind :class:`RecommenderModel`."""
from recsys.models.als import ALSModel
from recsys.models.attention import SelfAttentionSequenceModel
from recsys.models.base import ArtifactError, RecommenderModel
from recsys.models.content import ContentModel
from recsys.models.ease import EASEModel
from recsys.models.factorization import BPRModel, NMFModel, SVDModel
from recsys.models.neighbours import ItemKNNModel, UserKNNModel
from recsys.models.popularity import PopularityModel
from recsys.models.sequence import GRUSequenceModel

MODEL_CLASSES = {
    cls.name: cls
    for cls in (PopularityModel, ALSModel, ItemKNNModel, UserKNNModel, BPRModel, SVDModel, NMFModel, EASEModel,
                ContentModel, GRUSequenceModel, SelfAttentionSequenceModel)
}

__all__ = ["ALSModel", "ArtifactError", "MODEL_CLASSES", "PopularityModel", "RecommenderModel", "SelfAttentionSequenceModel"]
