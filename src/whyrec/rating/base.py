"""The one shape every rating model has.

All of whyrec's rating models predict ``r̂(u, i) = μ + b_u + b_i + p_uᵀ q_i`` — some with only
``μ`` (global average), some with biases only, some with factors — so they share one base
class that holds those arrays, maps ids, falls back for unknown users/items, clips to the
rating scale and saves its state. A subclass only implements :meth:`_fit`.

* hyper-parameters are constructor arguments (``get_params`` reads them back, ``clone``
  makes an unfitted copy, bundles store them as JSON);
* ``fit(train, valid=None) -> self``;
* ``predict(users, items)`` takes string ids; an unknown user (item) contributes no bias and
  no factor, so the prediction falls back to ``μ + b_i`` (``μ + b_u``, or ``μ``).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, ClassVar, Iterable, Sequence

import numpy as np

from whyrec.data.scale import rating_bounds
from whyrec.errors import ConfigError, WhyrecError, require_fitted
from whyrec.ids import IdMap, paired_ids
from whyrec.settings import typed_value
from whyrec.wording import did_you_mean, unknown_names

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    from whyrec.data.corpus import Corpus

RATING_MODELS: dict[str, type["RatingModel"]] = {}


def register(cls: type["RatingModel"]) -> type["RatingModel"]:
    """Make a model class known to bundles, the experiment runner and the CLI by its name."""
    RATING_MODELS[cls.name] = cls
    return cls


def registered_name(name: str) -> str:
    """``name`` as a model is registered, when it names one in another case or with spaces around
    it (``PMF``, the tables' spelling, is ``pmf``); otherwise ``name`` as it is."""
    if not isinstance(name, str):  # refused by make_model as it is
        return name
    folded = name.strip().casefold()
    return next((known for known in RATING_MODELS if known.casefold() == folded), name)


def make_model(name: str, **params) -> "RatingModel":
    """Build a registered model (its name in any case: :func:`registered_name`); an unknown name
    or parameter is a :class:`ConfigError`."""
    try:
        cls = RATING_MODELS[registered_name(name)]
    except KeyError:
        known = sorted(RATING_MODELS)
        hint = did_you_mean(name, known)
        raise ConfigError(f"unknown rating model '{name}'{hint}; known: {', '.join(known)}") from None
    return cls.from_params(params)


class RatingModel:
    """Base class: ``μ + b_u + b_i + p_uᵀq_i`` with id maps, fallback, clipping and state."""

    name: ClassVar[str] = "base"

    def __init__(self) -> None:
        self.user_map: IdMap | None = None
        self.item_map: IdMap | None = None
        self.rating_scale = (1.0, 5.0)
        self.global_mean = 0.0
        self.user_bias = np.zeros(0)
        self.item_bias = np.zeros(0)
        self.user_factors = np.zeros((0, 0))
        self.item_factors = np.zeros((0, 0))
        self.history: list[dict] = []  # per-iteration training log (loss, validation RMSE)

    # --- parameters ------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return [n for n, p in sig.parameters.items() if n != "self" and p.kind in kinds]

    def get_params(self) -> dict:
        return {n: getattr(self, n) for n in self.param_names()}

    @classmethod
    def from_params(cls, params: dict) -> "RatingModel":
        unknown = set(params) - set(cls.param_names())
        if unknown:
            raise ConfigError(f"{cls.name}: {unknown_names('parameter', unknown, cls.param_names())}")
        signature = inspect.signature(cls.__init__).parameters
        params = {k: typed_value(cls.name, k, v, signature[k].default, str(signature[k].annotation))
                  for k, v in params.items()}  # "factors=x" is refused here, not deep in numpy
        try:
            return cls(**params)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{cls.name}: {exc}") from None

    def clone(self) -> "RatingModel":
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --- fitting ----------------------------------------------------------------------------
    def fit(self, train: Corpus, valid: Corpus | None = None) -> "RatingModel":
        if len(train) == 0:
            raise WhyrecError(f"{self.name}: the training data is empty")
        self.user_map = IdMap(train.user_ids())
        self.item_map = IdMap(train.item_ids())
        self.rating_scale = train.rating_scale
        self.history = []
        users = self.user_map.lookup(train.users)
        items = self.item_map.lookup(train.items)
        self._fit(users, items, train.ratings.astype(np.float64), valid)
        return self

    def _fit(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, valid: Corpus | None) -> None:
        raise NotImplementedError

    # --- prediction -------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.user_map is not None

    def require_fitted(self, action: str = "predicting") -> None:
        """Raise :class:`~whyrec.errors.NotFittedError` naming ``action`` before fit() or loading."""
        require_fitted(self.is_fitted, self.name, action)

    def _score(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Unclipped ``μ + b_u + b_i + p_uᵀq_i`` for internal indices; -1 = unknown."""
        known_u, known_i = u >= 0, i >= 0
        score = np.full(len(u), self.global_mean, dtype=np.float64)
        if len(self.user_bias):
            score[known_u] += self.user_bias[u[known_u]]
        if len(self.item_bias):
            score[known_i] += self.item_bias[i[known_i]]
        both = known_u & known_i
        if self.user_factors.size and self.item_factors.size:
            score[both] += np.einsum("nk,nk->n", self.user_factors[u[both]], self.item_factors[i[both]])
        return score

    def predict(self, users: Sequence[str] | Iterable[str], items: Sequence[str] | Iterable[str]) -> np.ndarray:
        """Predicted ratings of (user, item) pairs, clipped to the rating scale."""
        return np.clip(self.predict_unclipped(users, items), *self.rating_scale)

    def predict_unclipped(self, users: Sequence[str] | Iterable[str],
                          items: Sequence[str] | Iterable[str]) -> np.ndarray:
        """The model's scores of (user, item) pairs before clipping: what ranks items. Clipped,
        every item predicted above the top of the scale would tie with the others."""
        self.require_fitted()
        users, items = paired_ids(users, items, f"{self.name}: predict")
        return self._score(self.user_map.lookup(users), self.item_map.lookup(items))

    def predict_corpus(self, corpus: Corpus) -> np.ndarray:
        return self.predict(corpus.users, corpus.items)

    def score_items(self, user: str, items: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Scores of all (or the given) items for one user, in one vectorised call."""
        self.require_fitted()
        items = list(items) if items is not None else self.item_map.ids
        return items, self.predict([user] * len(items), items)

    # --- embeddings, for explainers and surrogates --------------------------------------------
    def user_embeddings(self) -> np.ndarray:
        self.require_fitted()
        return self.user_factors

    def item_embeddings(self) -> np.ndarray:
        self.require_fitted()
        return self.item_factors

    # --- state for bundles ---------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        self.require_fitted()
        return {
            "global_mean": np.array([self.global_mean], dtype=np.float64),
            "user_bias": np.ascontiguousarray(self.user_bias, dtype=np.float64),
            "item_bias": np.ascontiguousarray(self.item_bias, dtype=np.float64),
            "user_factors": np.ascontiguousarray(self.user_factors, dtype=np.float64),
            "item_factors": np.ascontiguousarray(self.item_factors, dtype=np.float64),
        }

    def state_meta(self) -> dict:
        self.require_fitted()
        return {"user_ids": self.user_map.ids, "item_ids": self.item_map.ids,
                "rating_scale": list(self.rating_scale), "history": self.history}

    def load_state(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.user_map = IdMap(meta["user_ids"])
        self.item_map = IdMap(meta["item_ids"])
        self.rating_scale = rating_bounds(meta["rating_scale"], f"{self.name}: saved rating_scale")
        self.history = list(meta.get("history", []))
        self.global_mean = float(arrays["global_mean"][0])
        self.user_bias, self.item_bias = arrays["user_bias"], arrays["item_bias"]
        self.user_factors, self.item_factors = arrays["user_factors"], arrays["item_factors"]
        n_u, n_i = len(self.user_map), len(self.item_map)
        if (len(self.user_bias) not in (0, n_u) or len(self.item_bias) not in (0, n_i)
                or self.user_factors.shape[0] not in (0, n_u) or self.item_factors.shape[0] not in (0, n_i)):
            raise WhyrecError(f"{self.name}: saved arrays do not match the saved id lists")


def validation_rmse(model: RatingModel, valid: Corpus | None) -> float | None:
    """RMSE on ``valid`` with the model's current parameters (None without validation data)."""
    if valid is None or len(valid) == 0:
        return None
    u, i = model.user_map.lookup(valid.users), model.item_map.lookup(valid.items)
    pred = np.clip(model._score(u, i), *model.rating_scale)
    return float(np.sqrt(np.mean((pred - valid.ratings) ** 2)))
