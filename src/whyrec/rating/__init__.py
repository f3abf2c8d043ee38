"""Rating models: one shape (``fit``/``predict``), registered by name."""

from whyrec.errors import NotFittedError
from whyrec.rating.als import PMF, ContextAwareALS, TextPriors
from whyrec.rating.base import RATING_MODELS, RatingModel, make_model
from whyrec.rating.baselines import BiasBaseline, GlobalAverage
from whyrec.rating.mf import BiasedMF
from whyrec.rating.tuning import TunedModel

__all__ = ["PMF", "ContextAwareALS", "TextPriors", "RATING_MODELS", "NotFittedError", "RatingModel", "make_model",
           "BiasBaseline", "GlobalAverage", "BiasedMF", "TunedModel"]
