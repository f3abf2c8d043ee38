"""The PETER transformer (Li, Zhang & Chen, "Personalized Transformer for Explainable
Recommendation", ACL 2021; METHODS.md §P.2), with key/value-cached decoding.

One small post-LN transformer reads ``[u, i, (f), <bos>, w_1, …]`` under the PETER mask
(causal, except that the user position may also see the item). Three heads share one
output projection: the rating from the user position (an MLP), a bag-of-words "context"
distribution from the item position, and the next word from every position from ``<bos>`` on.
PETER+ puts the feature word after u, i.

The reference code re-runs the whole prefix at every decoding step; here each layer keeps its
keys and values, so a step costs one position (``generate`` ≡ re-running, as a test checks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules import module as torch_module


@dataclass
class PeterShape:
    n_users: int
    n_items: int
    n_tokens: int
    emsize: int = 128
    heads: int = 2
    ffn: int = 512
    layers: int = 2
    dropout: float = 0.2
    use_feature: bool = False
    max_positions: int = 64


class CachedSelfAttention(nn.Module):
    """Multi-head self-attention that can append new positions to a key/value cache."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, cache: dict | None = None) -> torch.Tensor:
        """x (B, T, D); ``mask`` (B or 1, 1, T, S) True = may attend, S = cached + T positions."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).transpose(1, 3).unbind(2)  # (B, H, T, d_h)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class PostNormLayer(nn.Module):
    """x ← LN(x + Attn(x)); x ← LN(x + FFN(x)), as ``nn.TransformerEncoderLayer`` (ReLU, post-LN)."""

    def __init__(self, dim: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.attn = CachedSelfAttention(dim, heads, dropout)
        self.ff = nn.Sequential(nn.Linear(dim, ffn), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ffn, dim))
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x, mask, cache=None):
        if not self.training:  # the dropouts are identities: not calling them spares torch calls in decoding
            x = self.norm1(x + self.attn(x, mask, cache))
            return self.norm2(x + self.feed_forward(x))
        x = self.norm1(x + self.drop1(self.attn(x, mask, cache)))
        return self.norm2(x + self.drop2(self.ff(x)))

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        """What ``ff`` gives in eval mode, its dropout (an identity there) not called; training
        calls ``ff`` itself, and so does this when a forward hook is on ``ff`` (or on every module),
        so that a hook put there to read the activations is never skipped."""
        if has_forward_hooks(self.ff):
            return self.ff(x)
        first, _, _, last = self.ff
        return last(F.relu(first(x)))

    def pair(self, x: torch.Tensor, user_only: bool = False) -> torch.Tensor:
        """:meth:`forward` on the two positions ``[u, i]`` alone, in eval mode (no dropout). Under
        the PETER mask they see each other, so attention needs no mask. With ``user_only``, (B, 1,
        D): the user position's output alone, the attention, output projection, norms and
        feed-forward of the item position skipped (its key and value are still needed; what the
        last layer of a rating needs). In training mode it refuses: its dropout would not be the
        layer's."""
        if self.training:
            raise RuntimeError("PostNormLayer.pair runs in eval mode only; in training mode call the layer")
        b, _, d = x.shape
        a = self.attn
        if has_forward_hooks(a):  # the attention module itself called, for its hooks: the same numbers
            x = self.norm1(x + a(x, None))
            x = x[:, :1] if user_only else x
            return self.norm2(x + self.feed_forward(x))
        q, k, v = a.qkv(x).view(b, 2, 3, a.heads, a.head_dim).transpose(1, 3).unbind(2)  # each (B, H, 2, d_h)
        if user_only:
            q, x = q[:, :, :1], x[:, :1]
        y = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, q.shape[2], d)
        x = self.norm1(x + a.out(y))
        return self.norm2(x + self.feed_forward(x))


def has_forward_hooks(module: nn.Module) -> bool:
    """Whether calling ``module`` would run a forward (pre-)hook: its own, or one registered for
    every module (``torch.nn.modules.module.register_module_forward_hook``). The eval-mode shortcuts
    that call a module's parts instead of the module itself take the long way then."""
    return bool(module._forward_hooks or module._forward_pre_hooks or torch_module._global_forward_hooks
                or torch_module._global_forward_pre_hooks)


def sinusoidal_positions(n: int, dim: int) -> torch.Tensor:
    """PE(p, 2k) = sin(p / 10000^{2k/d}), PE(p, 2k+1) = cos(…) (Vaswani et al. 2017)."""
    position = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(n, dim)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq)
    return pe


def peter_mask(total: int) -> torch.Tensor:
    """(total, total) boolean, True = may attend: causal, plus user (0) → item (1): PETER's mask (Li
    et al., ACL 2021; METHODS.md §P), whatever follows the user and item (PETER+'s feature word, the
    words)."""
    allowed = torch.ones(total, total, dtype=torch.bool).tril()
    allowed[0, 1] = True
    return allowed


class PeterModel(nn.Module):
    def __init__(self, shape: PeterShape, pad: int, never_emit: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.shape, self.pad = shape, pad
        # words the explanation head must give zero probability (<bos>, <pad>), in teacher
        # forcing and in decoding alike, so scored and sampled log-probabilities agree
        emit = torch.zeros(shape.n_tokens)
        emit[list(never_emit)] = float("-inf")
        self.register_buffer("emit_mask", emit, persistent=False)
        d = shape.emsize
        self.users, self.items = nn.Embedding(shape.n_users, d), nn.Embedding(shape.n_items, d)
        self.words = nn.Embedding(shape.n_tokens, d)
        self.layers = nn.ModuleList(PostNormLayer(d, shape.heads, shape.ffn, shape.dropout) for _ in range(shape.layers))
        self.drop = nn.Dropout(shape.dropout)
        self.to_token = nn.Linear(d, shape.n_tokens)
        self.rating_mlp = nn.Sequential(nn.Linear(d, d), nn.Sigmoid(), nn.Linear(d, 1))
        self.register_buffer("positions", sinusoidal_positions(shape.max_positions, d), persistent=False)
        for table in (self.users, self.items, self.words):
            nn.init.uniform_(table.weight, -0.1, 0.1)
        nn.init.uniform_(self.to_token.weight, -0.1, 0.1)
        nn.init.zeros_(self.to_token.bias)

    @property
    def src_len(self) -> int:
        return 3 if self.shape.use_feature else 2

    def _embed(self, parts: list[torch.Tensor], start: int) -> torch.Tensor:
        x = (parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)) * math.sqrt(self.shape.emsize)
        x = x + self.positions[start:start + x.shape[1]]
        return self.drop(x) if self.training else x  # eval: an identity, not called (a torch call fewer a step)

    def _prefix(self, user, item, feature) -> list[torch.Tensor]:
        parts = [self.users(user)[:, None], self.items(item)[:, None]]
        if self.shape.use_feature:
            parts.append(self.words(feature)[:, None])
        return parts

    def _words(self, tokens: torch.Tensor, word_shift: torch.Tensor | None) -> torch.Tensor:
        """(B, T, d) word embeddings, plus a per-row (B, d) ``word_shift`` when given (an adapter's
        input, e.g. :class:`~whyrec.explain.interface.RatingInput`); user and item positions never
        see word positions under the PETER mask, so a shift leaves the rating unchanged."""
        x = self.words(tokens)
        return x if word_shift is None else x + word_shift[:, None, :]

    def forward(self, user, item, text, feature=None, word_shift=None):
        """Teacher forcing. ``text`` (B, T) = ``<bos> w_1 … `` (inputs). Returns the rating (B,),
        context log-probs (B, V) and word log-probs (B, T, V) for the next token at each text position."""
        x = self._embed(self._prefix(user, item, feature) + [self._words(text, word_shift)], 0)
        total = x.shape[1]
        allowed = peter_mask(total).to(x.device)[None, None]
        keep = torch.cat([torch.zeros(text.shape[0], self.src_len, dtype=torch.bool, device=x.device),
                          text == self.pad], dim=1)  # padded keys are blocked
        mask = allowed & ~keep[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        rating = self.rating_mlp(x[:, 0])[:, 0]
        context = torch.log_softmax(self.to_token(x[:, 1]), dim=-1)
        words = torch.log_softmax(self._word_logits(x[:, self.src_len:]), dim=-1)
        return rating, context, words

    def _word_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The explanation head's logits, ``<bos>`` and ``<pad>`` at −inf. The mask goes into the
        bias (``b + m``) instead of onto the (…, V) block: one vocabulary-sized pass fewer, and
        the same floats as ``to_token(x) + m`` (adding 0 leaves a float as it is)."""
        return F.linear(x, self.to_token.weight, self.to_token.bias + self.emit_mask)

    def rate(self, user, item) -> torch.Tensor:
        """The rating alone (B,). Under the PETER mask the user position sees only itself and the
        item, so running ``[u, i]`` gives the rating of the full sequence, without the
        vocabulary-sized projections (scoring every item for a user is this one call). In eval
        mode the layers run :meth:`PostNormLayer.pair`, the last one for the user position
        alone: the same rating to float rounding (a test holds it to the full forward), in 15–18%
        less time for one user's 157 items and 20–24% for all 54,636 pairs than the general
        layers on magazines' PETER+ (1 thread); in training mode, with dropout, the general
        layers."""
        x = self._embed([self.users(user)[:, None], self.items(item)[:, None]], 0)
        if self.training:
            mask = peter_mask(2).to(x.device)[None, None]
            for layer in self.layers:
                x = layer(x, mask)
        else:
            for n, layer in enumerate(self.layers):
                x = layer.pair(x, user_only=n == len(self.layers) - 1)
        return self.rating_mlp(x[:, 0])[:, 0]

    # --- incremental decoding ------------------------------------------------------------------------
    def start(self, user, item, bos: int, feature=None, word_shift=None) -> tuple[torch.Tensor, torch.Tensor, list[dict]]:
        """Run the prefix ``[u, i, (f), <bos>]`` once: (rating, next-word log-probs, caches)."""
        b = user.shape[0]
        first = torch.full((b, 1), bos, dtype=torch.long, device=user.device)
        x = self._embed(self._prefix(user, item, feature) + [self._words(first, word_shift)], 0)
        mask = peter_mask(x.shape[1]).to(x.device)[None, None]
        caches = [dict() for _ in self.layers]
        for layer, cache in zip(self.layers, caches):
            x = layer(x, mask, cache)
        return self.rating_mlp(x[:, 0])[:, 0], torch.log_softmax(self._word_logits(x[:, -1]), dim=-1), caches

    def step(self, token: torch.Tensor, position: int, caches: list[dict], word_shift=None,
             normalise: bool = True) -> torch.Tensor:
        """Feed one token per row at sequence ``position``; returns next-word log-probs (B, V),
        or with ``normalise=False`` the logits they come from (each row's best word is the same:
        what greedy decoding without scores needs)."""
        x = self._embed([self._words(token[:, None], word_shift)], position)
        for layer, cache in zip(self.layers, caches):
            x = layer(x, None, cache)  # the new position may see every cached one
        logits = self._word_logits(x[:, -1])
        return torch.log_softmax(logits, dim=-1) if normalise else logits


def select_rows(caches: list[dict], keep: torch.Tensor) -> list[dict]:
    """Caches restricted to the rows in ``keep`` (finished rows leave the batch)."""
    return [{"k": c["k"][keep], "v": c["v"][keep]} for c in caches]
