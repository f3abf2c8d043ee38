"""The explainer interface MMI (and any other alignment method) talks to, and its GRU adapter.

An explainer turns (user, item) pairs into a *context* it understands, samples explanations
from it, scores given explanations, and has a teacher-forced loss of its own:

* ``contexts(users, items, features=None)`` → an opaque batch context (B rows; explainers
  fed a feature word, like PETER+, use ``features``);
* ``repeat(ctx, k)`` → the context with every row repeated k times (row-major: input 0's k
  copies first);
* ``sample(ctx, greedy=False)`` → :class:`~whyrec.explain.seq2seq.Samples` (token ids,
  per-token log-probabilities, lengths), without gradients;
* ``seed_sampling(seed)`` → re-seeds the draws of ``sample`` (MMI calls it with
  ``MMIConfig.seed``: the sampled explanations are a run's chief randomness);
* ``log_prob(ctx, tokens)`` → (B,) log π(e | ctx) = Σ_t log π(w_t | w_<t, ctx) up to and
  including ``<eos>``, *with* gradients;
* ``nll(ctx, targets)`` → the explainer's own teacher-forced loss on reference explanations;
* ``texts(tokens)``, ``explain(users, items, method)``, ``parameters()``, ``frozen_copy()``;
* optionally ``system`` (the MT or PETER it explains for) and ``variant`` (MT's decoder, None
  for PETER): :meth:`~whyrec.align.mmi.MMITrainer.fit` then appends what it did to
  ``system.alignments``.

:class:`GRUExplainer` adapts the MT system's GRU decoders (MT-U/I/P). The contexts Ũ/Ṽ come
from MT's frozen document encoders, and the decoder tuned gets a copy of MT's word embeddings
of its own first (:meth:`whyrec.systems.mt.MultiTask.own_word_embeddings`): the table is shared
by the encoders and all three decoders, so fine-tuning changes that decoder only, and MT's
rating model is untouched.

MT's decoders never see the rating they should agree with: their context is the user's and
item's review documents. Att2Seq+MMI feeds the rating to its encoder as an input attribute
(METHODS.md §A.2); :class:`RatingInput` is the same idea as an adapter for an explainer that was
trained without it: a learned context shift per *predicted* rating class, zero at the start,
so the adapted explainer begins exactly where the trained one ends and only fine-tuning (MMI's
reward, the kept NLL) teaches it to use the rating.
"""

from __future__ import annotations

import copy
import itertools
from contextlib import contextmanager
from typing import Iterator, Protocol, Sequence

import numpy as np
import torch
from torch import nn

from whyrec.align.mine import one_hot_ratings
from whyrec.explain.seq2seq import ContextGRUDecoder, Samples, beam_search, sample
from whyrec.explain.targets import teacher_forcing_batch


class Explainer(Protocol):
    def contexts(self, users: Sequence[str], items: Sequence[str], features: Sequence[str] | None = None): ...

    def repeat(self, ctx, k: int): ...

    def sample(self, ctx, greedy: bool = False) -> Samples: ...

    def seed_sampling(self, seed: int) -> None: ...

    def log_prob(self, ctx, tokens: torch.Tensor) -> torch.Tensor: ...

    def nll(self, ctx, targets: list[list[str]]) -> torch.Tensor: ...

    def texts(self, tokens: torch.Tensor) -> list[str]: ...

    def explain(self, users: Sequence[str], items: Sequence[str], method: str = "greedy",
                features: Sequence[str] | None = None) -> list[str]: ...

    def parameters(self): ...

    def frozen_copy(self) -> "Explainer": ...


def missing_methods(explainer) -> list[str]:
    """The methods of :class:`Explainer` that ``explainer`` lacks (none: it can be aligned)."""
    wanted = [name for name in vars(Explainer) if not name.startswith("_")]
    return [name for name in wanted if not callable(getattr(explainer, name, None))]


class RatingInput(nn.Module):
    """``c' = c + S[class(r̂)]``: a context shift per rounded rating class (1–5), S = 0 at the start."""

    def __init__(self, context_dim: int, classes: int = 5) -> None:
        super().__init__()
        self.shift = nn.Embedding(classes, context_dim)
        nn.init.zeros_(self.shift.weight)

    def offsets(self, ratings, device=None) -> torch.Tensor:
        """(B, d) rows S[class(r̂)], the class r̂ rounded and clipped to 1–5."""
        classes = one_hot_ratings(ratings, 1, self.shift.num_embeddings).argmax(axis=1)
        return self.shift(torch.as_tensor(classes, device=device or self.shift.weight.device))

    def forward(self, context: torch.Tensor, ratings) -> torch.Tensor:
        return context + self.offsets(ratings, context.device)


class GRUExplainer:
    """A :class:`ContextGRUDecoder` with a context function, seen through the explainer interface.

    With ``rating_input`` (a :class:`RatingInput`) and ``rating_fn`` ((users, items) → predicted
    ratings), the context is shifted by the predicted rating's class. ``system`` and ``variant``
    name the MT whose decoder it is (set by :meth:`from_mt`): an MMI fit records what it did
    in that system's ``alignments``."""

    system = None  # the MultiTask whose decoder this is (None: a decoder built by hand)
    variant: str | None = None  # which of its decoders: "user", "item" or "pair"

    def __init__(self, decoder: ContextGRUDecoder, vocab, context_fn, max_len: int,
                 generator: torch.Generator | None = None, rating_input: RatingInput | None = None,
                 rating_fn=None) -> None:
        if (rating_input is None) != (rating_fn is None):
            raise ValueError("rating_input and rating_fn go together")
        self.decoder, self.vocab, self.context_fn, self.max_len = decoder, vocab, context_fn, max_len
        self.generator = generator or torch.Generator().manual_seed(0)
        self.rating_input, self.rating_fn = rating_input, rating_fn

    @classmethod
    def from_mt(cls, mt, variant: str = "pair", rating_input: bool = False) -> "GRUExplainer":
        """The MT-U/I/P decoder of a trained :class:`~whyrec.systems.mt.MultiTask`, fine-tuned in place,
        with word embeddings of its own (:meth:`~whyrec.systems.mt.MultiTask.own_word_embeddings`).

        With ``rating_input``, the decoder is also fed MT's predicted rating through a new
        :class:`RatingInput`, registered in ``mt.rating_inputs`` so that ``mt.explain`` and MT's
        bundle keep it. A variant that already has one (aligned before, or loaded from a bundle)
        always uses it: its decoder was tuned with it."""
        decoder = mt.own_word_embeddings(variant)
        if rating_input and variant not in mt.rating_inputs:
            mt.rating_inputs[variant] = RatingInput(decoder.context_dim).to(decoder.out_bias.device)
        adapter = mt.rating_inputs[variant] if variant in mt.rating_inputs else None
        explainer = cls(decoder, mt.vocab, lambda users, items: mt._contexts_for(variant, users, items).detach(),
                        mt.config.max_words + 1, rating_input=adapter,
                        rating_fn=mt.predict if adapter is not None else None)
        explainer.system, explainer.variant = mt, variant
        return explainer

    def contexts(self, users, items, features=None) -> torch.Tensor:
        users, items = list(users), list(items)
        ctx = self.context_fn(users, items)  # MT's decoders take no feature
        if self.rating_input is not None:
            ctx = self.rating_input(ctx, np.asarray(self.rating_fn(users, items)))
        return ctx

    def repeat(self, ctx: torch.Tensor, k: int) -> torch.Tensor:
        return ctx.repeat_interleave(k, dim=0)

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        """The decoder in eval mode (no dropout) while decoding, then back in the mode it was in:
        a fine-tuning run that samples between its steps goes on with its dropout."""
        was_training = self.decoder.training
        self.decoder.eval()
        try:
            yield
        finally:
            self.decoder.train(was_training)

    @torch.no_grad()
    def sample(self, ctx: torch.Tensor, greedy: bool = False) -> Samples:
        v = self.vocab
        with self._decoding():
            return sample(self.decoder, ctx, v.bos, v.eos, v.pad, self.max_len, greedy=greedy, generator=self.generator)

    def seed_sampling(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def log_prob(self, ctx: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        v = self.vocab
        inputs = torch.cat([torch.full_like(tokens[:, :1], v.bos), tokens[:, :-1]], dim=1)
        inputs = inputs.masked_fill(inputs == v.pad, v.eos)  # positions after <eos> are ignored anyway
        return self.decoder.target_log_probs(ctx, inputs, tokens, v.pad).sum(dim=1)

    def nll(self, ctx: torch.Tensor, targets: list[list[str]]) -> torch.Tensor:
        inputs, tgt = teacher_forcing_batch(targets, self.vocab)
        logp = self.decoder.target_log_probs(ctx, inputs.to(ctx.device), tgt.to(ctx.device), self.vocab.pad)
        return -logp.sum() / (tgt != self.vocab.pad).sum().clamp(min=1)

    def texts(self, tokens: torch.Tensor) -> list[str]:
        return [self.vocab.sentence(row.tolist(), self.max_len - 1) for row in tokens]  # max_len: max_words + 1

    @torch.no_grad()
    def explain(self, users, items, method: str = "greedy", features=None) -> list[str]:
        ctx = self.contexts(users, items, features)
        if method == "beam":
            v = self.vocab
            with self._decoding():
                return self.texts(beam_search(self.decoder, ctx, v.bos, v.eos, v.pad, self.max_len))
        return self.texts(self.sample(ctx, greedy=method == "greedy").tokens)

    def parameters(self):
        modules = [self.decoder] + ([self.rating_input] if self.rating_input is not None else [])
        return itertools.chain.from_iterable(m.parameters() for m in modules)

    def frozen_copy(self) -> "GRUExplainer":
        """π_ref: a deep copy of the decoder (and rating input), in eval mode, without gradients."""
        decoder = copy.deepcopy(self.decoder).eval()
        adapter = copy.deepcopy(self.rating_input) if self.rating_input is not None else None
        for p in itertools.chain(decoder.parameters(), adapter.parameters() if adapter is not None else ()):
            p.requires_grad_(False)
        return GRUExplainer(decoder, self.vocab, self.context_fn, self.max_len, self.generator,
                            rating_input=adapter, rating_fn=self.rating_fn)
