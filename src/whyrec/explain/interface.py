"""The explainer interface MMI (and any other alignment method) talks to, and its GRU adapter.

An explainer turns (user, item) pairs into a *context* it understands, samples explanations
from it, scores given explanations, and has a teacher-forced loss of its own:

* ``contexts(users, items, features=None)`` → an opaque batch context (B rows; explainers
  fed a feature word, like PETER+, use ``features``);
* ``repeat(ctx, k)`` → the context with every row repeated k times (row-major: input 0's k
  copies first);
* ``sample(ctx, greedy=False)`` → :class:`~whyrec.explain.seq2seq.Samples` (token ids,
  per-token log-probabilities, lengths), without gradients;
* ``log_prob(ctx, tokens)`` → (B,) log π(e | ctx) = Σ_t log π(w_t | w_<t, ctx) up to and
  including ``<eos>``, *with* gradients;
* ``nll(ctx, targets)`` → the explainer's own teacher-forced loss on reference explanations;
* ``texts(tokens)``, ``explain(users, items, method)``, ``parameters()``, ``frozen_copy()``.

:class:`GRUExplainer` adapts the MT system's GRU decoders (MT-U/I/P). The contexts Ũ/Ṽ come
from MT's frozen document encoders, so fine-tuning changes the decoder only and MT's rating
model is untouched.
"""

from __future__ import annotations

import copy
from typing import Protocol, Sequence

import torch

from whyrec.explain.seq2seq import ContextGRUDecoder, Samples, beam_search, sample
from whyrec.explain.targets import teacher_forcing_batch


class Explainer(Protocol):
    def contexts(self, users: Sequence[str], items: Sequence[str], features: Sequence[str] | None = None): ...

    def repeat(self, ctx, k: int): ...

    def sample(self, ctx, greedy: bool = False) -> Samples: ...

    def log_prob(self, ctx, tokens: torch.Tensor) -> torch.Tensor: ...

    def nll(self, ctx, targets: list[list[str]]) -> torch.Tensor: ...

    def texts(self, tokens: torch.Tensor) -> list[str]: ...

    def explain(self, users: Sequence[str], items: Sequence[str], method: str = "greedy",
                features: Sequence[str] | None = None) -> list[str]: ...

    def parameters(self): ...

    def frozen_copy(self) -> "Explainer": ...


class GRUExplainer:
    """A :class:`ContextGRUDecoder` with a context function, seen through the explainer interface."""

    def __init__(self, decoder: ContextGRUDecoder, vocab, context_fn, max_len: int,
                 generator: torch.Generator | None = None) -> None:
        self.decoder, self.vocab, self.context_fn, self.max_len = decoder, vocab, context_fn, max_len
        self.generator = generator or torch.Generator().manual_seed(0)

    @classmethod
    def from_mt(cls, mt, variant: str = "pair") -> "GRUExplainer":
        """The MT-U/I/P decoder of a trained :class:`~whyrec.systems.mt.MultiTask`."""
        return cls(mt.generator[f"decoder_{variant}"], mt.vocab,
                   lambda users, items: mt._contexts_for(variant, users, items).detach(), mt.config.max_words + 1)

    def contexts(self, users, items, features=None) -> torch.Tensor:
        return self.context_fn(list(users), list(items))  # MT's decoders take no feature

    def repeat(self, ctx: torch.Tensor, k: int) -> torch.Tensor:
        return ctx.repeat_interleave(k, dim=0)

    @torch.no_grad()
    def sample(self, ctx: torch.Tensor, greedy: bool = False) -> Samples:
        was_training = self.decoder.training
        self.decoder.eval()
        v = self.vocab
        out = sample(self.decoder, ctx, v.bos, v.eos, v.pad, self.max_len, greedy=greedy, generator=self.generator)
        self.decoder.train(was_training)
        return out

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
        return [" ".join(self.vocab.decode(row.tolist())) for row in tokens]

    @torch.no_grad()
    def explain(self, users, items, method: str = "greedy", features=None) -> list[str]:
        ctx = self.contexts(users, items, features)
        if method == "beam":
            v = self.vocab
            self.decoder.eval()
            return self.texts(beam_search(self.decoder, ctx, v.bos, v.eos, v.pad, self.max_len))
        return self.texts(self.sample(ctx, greedy=method == "greedy").tokens)

    def parameters(self):
        return self.decoder.parameters()

    def frozen_copy(self) -> "GRUExplainer":
        """π_ref: a deep copy of the decoder, in eval mode, without gradients."""
        decoder = copy.deepcopy(self.decoder).eval()
        for p in decoder.parameters():
            p.requires_grad_(False)
        return GRUExplainer(decoder, self.vocab, self.context_fn, self.max_len, self.generator)
