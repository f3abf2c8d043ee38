"""Does the explanation agree with the rating? Alignment metrics of MMI (Zhao et al., CIKM 2024;
METHODS.md §A.9).

* **Sentiment accuracy**: a frozen *sentiment judge* — a classifier from text to the 1–5
  rating, trained on the train split's reviews — reads each generated explanation; accuracy is
  the share of explanations whose judged class equals the (predicted) rating rounded to a
  class, over 5 classes, and over 3 (1–2 negative, 3 neutral, 4–5 positive). MMI used a
  fine-tuned BERT as judge; whyrec's judge is a multinomial logistic regression on
  (1 + log tf)·idf unigram+bigram features — deliberately *not* the sentence encoder the MMI
  reward uses, so a policy cannot score by exploiting the reward's own representation.
* **I(R;E)/H(R)**: a fresh MINE estimator trained on (explanation embedding, one-hot rating)
  pairs of the evaluated set, its Donsker–Varadhan estimate divided by the rating entropy.
* **I(F;E)**: the same with the feature word's embedding as the target.
* FMR is in :mod:`whyrec.metrics.text`.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from whyrec.align.mine import MINE, MINEConfig, one_hot_ratings, rating_entropy
from whyrec.data.text import tokenize
from whyrec.errors import BundleError, one_line
from whyrec.saved_parts import load_part, save_part

THREE_CLASS = np.array([0, 0, 1, 2, 2])  # rating class 1..5 → negative / neutral / positive


def _grams(tokens: Sequence[str]) -> list[str]:
    return list(tokens) + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


class SentimentJudge:
    """Text → rating class 1..5: softmax regression on (1 + log tf)·log(N/df) uni+bigram features,
    L2-normalised per text, trained with Adam and weight decay (full batch)."""

    def __init__(self, max_features: int = 20000, epochs: int = 300, lr: float = 0.05, weight_decay: float = 1e-5,
                 seed: int = 0) -> None:
        self.max_features, self.epochs, self.lr, self.weight_decay, self.seed = max_features, epochs, lr, weight_decay, seed
        self.index: dict[str, int] = {}
        self.idf = torch.zeros(0)
        self.linear: torch.nn.Linear | None = None

    def _features(self, texts: Sequence[str], grams: Sequence[list[str]] | None = None) -> torch.Tensor:
        """A sparse (N, F) matrix of L2-normalised (1 + log tf)·idf values (``grams``: each text's
        uni+bigrams, when already known)."""
        rows, cols, vals = [], [], []
        index, idf = self.index, self.idf.tolist()  # the float32 idf as Python floats, exactly
        for n, text_grams in enumerate(grams if grams is not None else (_grams(tokenize(t)) for t in texts)):
            counts = Counter(g for g in text_grams if g in index)
            for gram, tf in counts.items():
                col = index[gram]
                rows.append(n)
                cols.append(col)
                vals.append((1.0 + math.log(tf)) * idf[col])
        rows_t, vals_t = torch.tensor(rows, dtype=torch.long), torch.tensor(vals, dtype=torch.float32)
        norms = torch.zeros(len(texts)).index_add_(0, rows_t, vals_t ** 2).sqrt().clamp(min=1e-12)
        indices = torch.stack([rows_t, torch.tensor(cols, dtype=torch.long)])
        return torch.sparse_coo_tensor(indices, vals_t / norms[rows_t], (len(texts), len(self.index)),
                                       check_invariants=True).coalesce()

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(x, self.linear.weight.t()) + self.linear.bias

    def fit(self, texts: Sequence[str], ratings: Sequence[float]) -> "SentimentJudge":
        grams = [_grams(tokenize(t)) for t in texts]  # tokenized once, for the vocabulary and the features
        df = Counter(g for text_grams in grams for g in set(text_grams))
        kept = [g for g, c in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if c >= 2][: self.max_features]
        self.index = {g: i for i, g in enumerate(kept)}
        self.idf = torch.tensor([math.log(len(texts) / df[g]) for g in kept], dtype=torch.float32)
        x = self._features(texts, grams)
        y = torch.as_tensor(one_hot_ratings(ratings).argmax(1))
        torch.manual_seed(self.seed)
        self.linear = torch.nn.Linear(x.shape[1], 5)
        opt = torch.optim.Adam(self.linear.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        # the cross-entropy gradient by hand: d/dlogits = (softmax − one-hot) / N, so dW = (Xᵀ G)ᵀ;
        # with X and Xᵀ in CSR that is ~30× faster than autograd through a COO product
        rows, rows_t = _csr(x), _csr(x.t().coalesce())
        target = torch.nn.functional.one_hot(y, 5).to(torch.float32)
        weight, bias = self.linear.weight, self.linear.bias
        for _ in range(self.epochs):
            with torch.no_grad():
                logits = torch.sparse.mm(rows, weight.t()) + bias
                grad = (torch.softmax(logits, dim=1) - target) / len(y)
                weight.grad, bias.grad = torch.sparse.mm(rows_t, grad).t().contiguous(), grad.sum(dim=0)
            opt.step()
        return self

    @torch.no_grad()
    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Judged rating classes 1..5."""
        if self.linear is None:
            raise BundleError("the sentiment judge is not trained")
        return self._logits(self._features(texts)).argmax(1).numpy() + 1

    def save(self, folder: str | Path) -> None:
        """``judge.json`` (its n-grams and seed) and ``judge.safetensors`` (idf and the classifier),
        with the tensors' SHA-256 (:mod:`whyrec.saved_parts`)."""
        if self.linear is None:
            raise BundleError("the sentiment judge is not trained: nothing to save")
        save_part(folder, "judge", {"grams": list(self.index), "seed": self.seed},
                  {"idf": self.idf, "weight": self.linear.weight.detach(), "bias": self.linear.bias.detach()})

    @classmethod
    def load(cls, folder: str | Path) -> "SentimentJudge":
        """What :meth:`save` wrote; a missing, damaged or malformed file is a :class:`BundleError`."""
        meta, tensors = load_part(folder, "judge")
        try:
            judge = cls(seed=meta["seed"])
            judge.index = {g: i for i, g in enumerate(meta["grams"])}
            judge.idf = tensors["idf"]
            judge.linear = torch.nn.Linear(len(judge.index), 5)
            judge.linear.load_state_dict({"weight": tensors["weight"], "bias": tensors["bias"]})
            if judge.idf.shape != (len(judge.index),):
                raise ValueError(f"idf of shape {tuple(judge.idf.shape)} for {len(judge.index)} n-grams")
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise BundleError(f"{folder}: broken sentiment judge ({type(exc).__name__}: {one_line(exc)})") from None
        return judge


def _csr(x: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used here is not
        warnings.simplefilter("ignore", UserWarning)
        return x.to_sparse_csr()


def sentiment_accuracy(judged: Sequence[int], ratings: Sequence[float]) -> dict[str, float]:
    """Share of explanations whose judged class equals the rating's class: 5-class and 3-class (%)."""
    return {name: 100.0 * float(agrees.mean()) for name, agrees in sentiment_agreement(judged, ratings).items()}


def sentiment_agreement(judged: Sequence[int], ratings: Sequence[float]) -> dict[str, np.ndarray]:
    """Per explanation, whether its judged class (1..5) equals its rating's class: ``acc5`` over
    5 classes, ``acc3`` over 3 (booleans; :func:`sentiment_accuracy` is their mean, in %)."""
    judged = np.asarray(judged, dtype=int) - 1
    target = one_hot_ratings(ratings).argmax(1)
    if len(judged) != len(target):
        raise ValueError(f"{len(judged)} judged classes for {len(target)} ratings")
    if len(target) == 0:
        raise ValueError("no explanations to judge")
    return {"acc5": judged == target, "acc3": THREE_CLASS[judged] == THREE_CLASS[target]}


def sentiment_base_rate(ratings: Sequence[float]) -> dict[str, float]:
    """The sentiment accuracy (5-class and 3-class, %) of explanations the judge reads all alike:
    ``max_c (1/N) Σ_n [class(r_n) = c]``, the share of the commonest rating class. An explainer
    that wrote one sentence for every record could score this much, so accuracies are read
    against it: when nearly every predicted rating rounds to 5, 90% says little. (A reference
    point of whyrec's; the MMI paper reports the accuracies alone.)"""
    target = one_hot_ratings(ratings).argmax(1)
    if len(target) == 0:
        raise ValueError("no ratings: the base rate is undefined")
    return {"acc5": 100.0 * float(np.bincount(target, minlength=5).max() / len(target)),
            "acc3": 100.0 * float(np.bincount(THREE_CLASS[target], minlength=3).max() / len(target))}


def normalised_rating_mi(embeddings: torch.Tensor, ratings: Sequence[float], config: MINEConfig | None = None) -> float:
    """I(R;E)/H(R): a fresh MINE trained on (explanation embedding, one-hot rating) pairs, over H(R).

    NaN when every rating falls in one class: H(R) = 0 and I(R;E) = 0, so the share of the
    rating's information the explanations carry is 0/0 — undefined, not 0 (which would read as
    "explanations that ignore the rating")."""
    entropy = rating_entropy(ratings)
    if entropy == 0:
        return math.nan
    y = one_hot_ratings(ratings)
    mine = MINE(embeddings.shape[1], 5, config or MINEConfig(hidden=100, lr=1e-3, batch_size=256, epochs=100))
    return mine.fit(embeddings, y).estimate(embeddings, y) / entropy


def feature_mi(embeddings: torch.Tensor, feature_embeddings: torch.Tensor, config: MINEConfig | None = None) -> float:
    """I(F;E) in nats: a fresh MINE on (explanation embedding, feature embedding) pairs."""
    mine = MINE(embeddings.shape[1], feature_embeddings.shape[1],
                config or MINEConfig(hidden=256, lr=1e-3, batch_size=256, epochs=100))
    return mine.fit(embeddings, feature_embeddings).estimate(embeddings, feature_embeddings)
