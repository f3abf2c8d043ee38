"""A rating model whose settings are picked on validation data, from a grid.

The protocol of the rating benchmarks, and of any fair comparison: every combination of the
grid's values is fitted on the train part, scored on the validation part, and the combination
with the best validation score is kept — the test part is never looked at. The score is RMSE
(clipped to the rating scale) by default; MAE, or a ranking metric at k (``ndcg@10``: the items
each validation user did not rate in train ranked by predicted rating, the validation items rated
at least 4 of 5 relevant, as ``whyrec experiment rating --top-k`` ranks test items), for a model
meant to rank. The model fitted on train with the kept settings is the one that predicts (it is
not refitted on train + validation, so its numbers compare with untuned models' on the same
split). Ties go to the first combination in grid order.

A chosen value at an end of a numeric axis of two or more values is reported as *at the grid's
edge*: the optimum may lie beyond the grid, and the grid should be widened.

    model = TunedModel("context-als", {"factors": [4, 8, 16], "lambda_u": [0.1, 1, 10]})
    model.fit(split.train, split.valid).predict(users, items)
    model.chosen        # {"factors": 8, "lambda_u": 1}
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from whyrec.errors import ConfigError, DataError, DivergedError, require_fitted
from whyrec.metrics.rating import ERROR_METRICS
from whyrec.rating.base import RatingModel, make_model, registered_name, validation_rmse
from whyrec.settings import GRID_SEPARATOR, is_grid_value

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    from whyrec.data.corpus import Corpus

MAX_COMBINATIONS = 1000  # a typo such as factors=1|2|...|500 times another axis should not run for days


@dataclass
class Trial:
    """One combination of the grid: its settings, validation score and fitting time."""

    params: dict
    score: float | None  # None: training diverged (never picked)
    fit_s: float


def tuning_metric(metric: str) -> tuple[str, int | None]:
    """``"rmse"`` → ("rmse", None); ``"ndcg@10"`` → ("ndcg", 10); anything else is a ConfigError
    naming what is taken."""
    from whyrec.metrics.ranking import RANKING_METRICS

    name, at, k = metric.strip().lower().partition("@")
    if not at and name in ERROR_METRICS:
        return name, None
    if at and name in RANKING_METRICS and k.isdigit() and int(k) >= 1:
        return name, int(k)
    raise ConfigError(f"cannot tune on '{metric}': give rmse, mae, or a ranking metric at k "
                      f"({', '.join(f'{m}@10' for m in RANKING_METRICS)})")


def validation_score(model: RatingModel, train: Corpus, valid: Corpus, metric: str,
                     relevant_at: float | None = None) -> float:
    """``model``'s score on ``valid`` by ``metric`` (:func:`tuning_metric`): RMSE or MAE of its
    predictions clipped to the scale, or a ranking metric of the items each validation user did
    not rate in ``train`` (:func:`whyrec.ranking_evaluation.ranking_scores`, the validation part in the
    place of the test part)."""
    import numpy as np

    name, k = tuning_metric(metric)
    if name == "rmse":
        return validation_rmse(model, valid)
    if name == "mae":
        return float(np.mean(np.abs(model.predict_corpus(valid) - valid.ratings)))
    from whyrec.data.split import Split
    from whyrec.ranking_evaluation import ranking_scores, relevance_threshold

    if relevant_at is None:
        relevant_at = relevance_threshold(valid.rating_scale)
    if not (valid.ratings >= relevant_at).any():  # said of the validation part, not of a test part
        raise DataError(f"cannot tune on {metric}: no validation rating reaches {relevant_at:g}, so nothing is "
                        "relevant there")
    _, scores = ranking_scores(model, Split(train, valid.take([]), valid, "validation"), k, relevant_at)
    return scores[name]


def grid_values(value) -> list:
    """The values of one axis: ``"4|8|16"`` → ``[4, 8, 16]`` (each read as JSON where it parses,
    as :func:`whyrec.settings.parse_assignment` reads one value); any other value → ``[value]``."""
    import json

    if not is_grid_value(value):
        return [value]
    out = []
    for piece in (p.strip() for p in value.split(GRID_SEPARATOR)):
        if not piece:
            raise ConfigError(f"grid '{value}' has an empty value")
        try:
            out.append(json.loads(piece))
        except json.JSONDecodeError:
            out.append(piece)
    return out


# each model's grid when asked to tune without one (``--tuned``): the grids of benchmarks/rating.py,
# which reach one step past every value a shared dataset picked at an edge of a narrower grid
_REGS = [0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0]
_ALS_LAMBDAS = [2.0, 5.0, 10.0, 20.0]
DEFAULT_GRIDS: dict[str, dict[str, list]] = {
    "bias-baseline": {"reg_user": _REGS, "reg_item": _REGS},
    "biased-mf": {"factors": [8, 16], "reg": [0.02, 0.05, 0.1, 0.2, 0.4], "lr": [0.005, 0.01]},
    "pmf": {"factors": [4, 8, 16], "lambda_u": _ALS_LAMBDAS, "lambda_v": _ALS_LAMBDAS},
    "context-als": {"factors": [4, 8, 16], "lambda_u": _ALS_LAMBDAS, "lambda_v": _ALS_LAMBDAS,
                    "lambda_bias": [1.0, 2.0, 3.0, 5.0, 8.0, 12.0]},
}


def with_default_grid(name: str, axes: Mapping) -> dict:
    """``axes`` over ``name``'s :data:`DEFAULT_GRIDS` grid: a setting given keeps its value(s),
    the others take the grid's (a model without a grid, such as the global average, gets ``axes``)."""
    return {**DEFAULT_GRIDS.get(name, {}), **axes}


def model_or_tuned(name: str, params: Mapping, metric: str = "rmse", relevant_at: float | None = None,
                   tuned: bool = False) -> "RatingModel | TunedModel":
    """A registered model with ``params``, or a :class:`TunedModel` picking by ``metric`` when a
    value names several (``"4|8|16"``) or, with ``tuned``, over :data:`DEFAULT_GRIDS` too.
    ``name`` may be in any case (:func:`whyrec.rating.base.registered_name`)."""
    name = registered_name(name)
    axes = {k: grid_values(v) for k, v in params.items()}
    if tuned:
        axes = with_default_grid(name, axes)
    if any(len(values) > 1 for values in axes.values()):
        return TunedModel(name, axes, metric, relevant_at)
    return make_model(name, **params)


class TunedModel:
    """The registered rating model ``model`` with each setting of ``grid`` picked on validation data.

    Parameters
    ----------
    model : str
        A registered rating model's name (``whyrec models``).
    grid : mapping of setting → list of values
        The values to try; a setting with one value is fixed. Every combination is built when the
        model is made, so an unknown setting or a bad value fails before any fitting.
    metric : str
        What picks: ``rmse`` (default) or ``mae`` (lowest wins), or a ranking metric at k such as
        ``ndcg@10`` or ``recall@20`` (highest wins).
    relevant_at : float, optional
        With a ranking metric: the rating from which a validation item is relevant (default: 4
        on 1–5, as :func:`whyrec.ranking_evaluation.relevance_threshold`).

    After :meth:`fit`, :attr:`chosen` holds the kept settings, :attr:`trials` every combination's
    validation score and :attr:`best` the fitted model; everything else a rating model has
    (``predict``, ``predict_unclipped``, ``user_map``, ``score_items``, …) is the best model's.
    """

    name = "tuned"

    def __init__(self, model: str, grid: Mapping[str, Sequence], metric: str = "rmse",
                 relevant_at: float | None = None) -> None:
        tuning_metric(metric)  # refused here, before any fitting
        self.model, self.metric = model, metric.strip().lower()
        self.relevant_at = relevant_at
        self.grid = {key: list(values) for key, values in grid.items()}
        for key, values in self.grid.items():
            if not values:
                raise ConfigError(f"{model}: the grid of '{key}' has no values")
            if len({repr(v) for v in values}) < len(values):
                raise ConfigError(f"{model}: the grid of '{key}' repeats a value: {values}")
        count = math.prod(len(v) for v in self.grid.values())
        if count > MAX_COMBINATIONS:
            raise ConfigError(f"{model}: the grid has {count:,} combinations, more than {MAX_COMBINATIONS:,}; "
                              "give fewer values")
        self.candidates = [make_model(model, **params) for params in self.combinations()]  # checks every value
        self.best: RatingModel | None = None
        self.chosen: dict | None = None
        self.trials: list[Trial] = []

    def combinations(self) -> list[dict]:
        """Every combination of the grid's values, in grid order (the last setting varies fastest)."""
        keys = list(self.grid)
        return [dict(zip(keys, values)) for values in itertools.product(*self.grid.values())]

    def get_params(self) -> dict:
        return {"model": self.model, "grid": self.grid, "metric": self.metric, "relevant_at": self.relevant_at}

    def clone(self) -> "TunedModel":
        return TunedModel(**self.get_params())

    def __repr__(self) -> str:
        return f"TunedModel({self.model!r}, {self.grid!r}, metric={self.metric!r})"

    @property
    def higher_is_better(self) -> bool:
        return self.metric not in ERROR_METRICS

    def fit(self, train: Corpus, valid: Corpus | None = None,
            on_trial: Callable[[int, int, dict], None] | None = None) -> "TunedModel":
        """Fit every combination on ``train`` and keep the one with the best :attr:`metric` on
        ``valid``; ``on_trial(k, n, params)`` is called before the k-th of n combinations is fitted.
        A combination whose training diverges (a learning rate too large) is recorded without a
        score and never picked; when every one diverges, that is the error."""
        if valid is None or len(valid) == 0:
            raise ConfigError(f"{self.model}: settings are picked on validation data, and this split has none")
        sign = -1.0 if self.higher_is_better else 1.0
        trials, best, best_trial = [], None, None  # only the best fitted model is kept: grids can be large
        for number, (params, candidate) in enumerate(zip(self.combinations(), self.candidates), 1):
            if on_trial is not None:
                on_trial(number, len(self.candidates), params)
            model = candidate.clone()
            start = time.perf_counter()
            try:
                model.fit(train, valid)
            except DivergedError as exc:
                trials.append(Trial(params, None, time.perf_counter() - start))
                diverged = exc
                continue
            fit_s = time.perf_counter() - start
            trial = Trial(params, validation_score(model, train, valid, self.metric, self.relevant_at), fit_s)
            trials.append(trial)
            if best_trial is None or sign * trial.score < sign * best_trial.score:  # the first of equals stays
                best, best_trial = model, trial
        if best_trial is None:
            raise ConfigError(f"{self.model}: training diverged with every combination of the grid; the last: "
                              f"{diverged}")
        self.trials, self.best, self.chosen = trials, best, best_trial.params
        return self

    def at_edge(self) -> dict:
        """The chosen settings at an end of a numeric axis of two or more values: setting → value."""
        self.require_fitted("reading the chosen settings")
        edges = {}
        for key, values in self.grid.items():
            numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if len(numeric) == len(values) >= 2 and self.chosen[key] in (min(numeric), max(numeric)):
                edges[key] = self.chosen[key]
        return edges

    def record(self) -> dict:
        """What the tuning did, as plain JSON values: the grid, the metric, the chosen settings and
        their validation score, the settings at the grid's edge and every combination's score."""
        self.require_fitted("reading the chosen settings")
        best = next(t.score for t in self.trials if t.params == self.chosen)
        return {"model": self.model, "grid": self.grid, "metric": self.metric, "chosen": self.chosen,
                "valid_score": best, "at_edge": self.at_edge(),
                "trials": [{"params": t.params, "valid_score": t.score, "fit_s": t.fit_s,
                            **({"diverged": True} if t.score is None else {})} for t in self.trials]}

    @property
    def is_fitted(self) -> bool:
        return self.best is not None

    def require_fitted(self, action: str = "predicting") -> None:
        """Raise :class:`~whyrec.errors.NotFittedError` naming ``action`` before fit()."""
        require_fitted(self.is_fitted, self.model, action)

    def _best(self, action: str) -> RatingModel:
        self.require_fitted(action)
        return self.best

    def predict(self, users, items):
        return self._best("predicting").predict(users, items)

    def predict_unclipped(self, users, items):
        return self._best("predicting").predict_unclipped(users, items)

    def predict_corpus(self, corpus: Corpus):
        return self._best("predicting").predict_corpus(corpus)

    def score_items(self, user: str, items=None):
        return self._best("scoring items").score_items(user, items)

    def __getattr__(self, attribute: str):
        # only reached for what TunedModel itself lacks: the fitted model's id maps, arrays, scale
        best = self.__dict__.get("best")
        if best is None or attribute.startswith("__"):
            raise AttributeError(f"'{type(self).__name__}' has no attribute '{attribute}' before fit()")
        return getattr(best, attribute)


def describe_tuning(record: Mapping) -> str:
    """One line from :meth:`TunedModel.record`: the chosen settings, the validation score and the
    settings at the grid's edge (a record read back from a hand-edited bundle may lack any part)."""
    grid, chosen = record.get("grid") or {}, record.get("chosen") or {}
    picked = ", ".join(f"{k}={v}" for k, v in chosen.items() if len(grid.get(k) or ()) > 1) or "?"
    score, metric = record.get("valid_score"), str(record.get("metric", "rmse"))
    shown = metric.upper() if metric in ERROR_METRICS else metric
    about = ([f"validation {shown} {score:.4f}"] if isinstance(score, (int, float)) else []) + [
        f"best of {len(record.get('trials') or ())} combinations"]
    text = f"{picked} ({', '.join(about)})"
    edge = record.get("at_edge") or {}
    if edge:
        text += "; at the grid's edge: " + ", ".join(f"{k}={v}" for k, v in edge.items())
    return text
