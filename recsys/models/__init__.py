"""Recommendation models, one family per module, all behind :class:`RecommenderModel`."""
from recsys.models.als import ALSModel
from recsys.models.base import ArtifactError, RecommenderModel
from recsys.models.popularity import PopularityModel

MODEL_CLASSES = {cls.name: cls for cls in (PopularityModel, ALSModel)}

__all__ = ["ALSModel", "ArtifactError", "MODEL_CLASSES", "PopularityModel", "RecommenderModel"]
