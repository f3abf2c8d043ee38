"""Adversarial training of a review generator ("Why I like it", §3.1.2–3.1.3; SeqGAN; Li et al. 2017).

* :class:`ReviewDiscriminator` — a Kim-2014 text CNN whose input at each position is the word
  vector concatenated with a learned *owner* vector (a user, an item, or a user–item pair);
  convolutions of several widths, max-pooling over time, a projection and a sigmoid give
  ``D(Y, owner)`` = P(the review is human-written *and* by this owner).
* :func:`discriminator_loss` — the objective of Eq. 2 as binary cross-entropy:
  ``−½[mean log D(Y_real) + mean log(1 − D(Y_fake))]`` over K real and K generated reviews.
* :func:`rollout_rewards` — Monte-Carlo search: the reward of the partial sequence
  ``y_1..y_t`` is the mean of D over ``n_rollouts`` completions sampled from the generator
  (the full sequence's reward is D itself).
* :func:`reinforce_loss` — Eq. 3: ``−(1/B) Σ_b Σ_t (Q_{b,t} − baseline_t) log G(y_{b,t} | y_{b,<t})``
  with the batch-mean reward at each step as the variance-reducing baseline.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from whyrec.explain.seq2seq import ContextGRUDecoder, Samples, sample


class ReviewDiscriminator(nn.Module):
    """CNN over [word vector; owner vector] at each position → logit of "real, by this owner".

    ``owner_sizes`` lists one embedding table per owner part: ``[n_users]`` for a user
    discriminator, ``[n_items]`` for an item one, ``[n_users, n_items]`` for a pair.
    """

    def __init__(self, vocab_size: int, owner_sizes: Sequence[int], word_dim: int = 50, owner_dim: int = 16,
                 widths: Sequence[int] = (1, 2, 3, 4, 5), filters: int = 32, dropout: float = 0.5, pad: int = 2) -> None:
        super().__init__()
        self.pad = pad
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=pad)
        self.owners = nn.ModuleList(nn.Embedding(n, owner_dim) for n in owner_sizes)
        in_dim = word_dim + owner_dim * len(owner_sizes)
        self.widths = tuple(widths)
        self.convs = nn.ModuleList(nn.Conv1d(in_dim, filters, w) for w in self.widths)
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(filters * len(self.widths), 1)

    def forward(self, tokens: torch.Tensor, owners: torch.Tensor) -> torch.Tensor:
        """(B, T) tokens and (B, parts) owner ids → (B,) logits."""
        # pad short sequences so that the widest filter fits
        if tokens.shape[1] < max(self.widths):
            tokens = F.pad(tokens, (0, max(self.widths) - tokens.shape[1]), value=self.pad)
        owner_vec = torch.cat([table(owners[:, k]) for k, table in enumerate(self.owners)], dim=1)
        x = torch.cat([self.words(tokens), owner_vec[:, None, :].expand(-1, tokens.shape[1], -1)], dim=2)
        x = x.transpose(1, 2)  # (B, C, T) for Conv1d
        pooled = [torch.relu(conv(x)).max(dim=2).values for conv in self.convs]
        return self.project(self.dropout(torch.cat(pooled, dim=1)))[:, 0]

    def prob(self, tokens: torch.Tensor, owners: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self(tokens, owners))


def discriminator_loss(disc: ReviewDiscriminator, real: torch.Tensor, real_owners: torch.Tensor,
                       fake: torch.Tensor, fake_owners: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Eq. 2 as binary cross-entropy, ``−½[mean log D(real) + mean log(1 − D(fake))]``.

    The two classes get equal weight whatever their counts (a batch may hold more negatives,
    e.g. generated *and* mismatched reviews), so D(·) = 0.5 stays the undecided point.
    Returns (loss, balanced accuracy).
    """
    width = max(real.shape[1], fake.shape[1])
    real = F.pad(real, (0, width - real.shape[1]), value=disc.pad)
    fake = F.pad(fake, (0, width - fake.shape[1]), value=disc.pad)
    logits = disc(torch.cat([real, fake]), torch.cat([real_owners, fake_owners]))
    real_logits, fake_logits = logits[: len(real)], logits[len(real):]
    loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    accuracy = 0.5 * (float((real_logits > 0).float().mean()) + float((fake_logits <= 0).float().mean()))
    return loss, accuracy


@torch.no_grad()
def rollout_rewards(decoder: ContextGRUDecoder, disc: ReviewDiscriminator, context: torch.Tensor,
                    owners: torch.Tensor, samples: Samples, n_rollouts: int, bos: int, eos: int, pad: int,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, T) rewards Q_{b,t}: D of the finished sequence at its last token, the mean D over
    ``n_rollouts`` Monte-Carlo completions of the prefix ``y_1..y_t`` before that, 0 after."""
    tokens, lengths = samples.tokens, samples.lengths
    batch, steps = tokens.shape
    rewards = torch.zeros(batch, steps, device=tokens.device)
    final = disc.prob(tokens, owners)
    rewards[torch.arange(batch, device=tokens.device), (lengths - 1).clamp(min=0)] = final
    if n_rollouts > 0 and samples.hidden is not None:
        ctx = context.repeat_interleave(n_rollouts, dim=0)
        own = owners.repeat_interleave(n_rollouts, dim=0)
        for t in range(1, steps):
            live = lengths > t  # sequences not yet finished after t tokens
            if not bool(live.any()):
                break
            prefix = tokens[:, :t].repeat_interleave(n_rollouts, dim=0)
            state = samples.hidden[:, t - 1].repeat_interleave(n_rollouts, dim=0)[None]
            done = sample(decoder, ctx, bos, eos, pad, max_len=steps, prefix=prefix, prefix_hidden=state,
                          generator=generator)
            q = disc.prob(done.tokens, own).reshape(batch, n_rollouts).mean(dim=1)
            rewards[:, t - 1] = torch.where(live, q, rewards[:, t - 1])
    return rewards


def reinforce_loss(log_probs: torch.Tensor, rewards: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Policy-gradient loss of Eq. 3 with a per-step batch-mean baseline.

    ``log_probs`` (B, T) must carry gradients; ``rewards`` (B, T) are constants.
    """
    mask = (torch.arange(log_probs.shape[1], device=lengths.device)[None, :] < lengths[:, None]).float()
    counts = mask.sum(0).clamp(min=1)
    baseline = (rewards * mask).sum(0) / counts
    advantage = (rewards - baseline[None, :]) * mask
    return -(advantage.detach() * log_probs * mask).sum() / log_probs.shape[0]
