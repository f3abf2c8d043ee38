"""Recurrent language-model baselines of the MT paper (Table 3).

* **LSTM LM** — an unconditional LSTM language model (Hochreiter & Schmidhuber 1997).
* **GCN** — the Generative Concatenative Network (Lipton, Vikram & McAuley 2015): the same
  recurrent LM with learned user and/or item vectors concatenated to the word vector at every
  step (GCN-U: user, GCN-I: item, GCN-P: both).

Both train by teacher forcing (mean token NLL, Adam) with early stopping on validation NLL.
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from whyrec.data.text import Vocabulary
from whyrec.explain.seq2seq import sequence_nll, token_log_probs
from whyrec.explain.targets import teacher_forcing_batch


MIN_GAIN = 1e-4  # a validation NLL lower than the best so far by no more than this is no improvement


class RecurrentLanguageModel(nn.Module):
    """LSTM/GRU LM; with ``owner_sizes`` it is a GCN conditioned on those owner vectors. The initial
    weights come from ``seed`` alone (not from whatever the process drew before), so a baseline's
    score is a function of its seeds and data. They are drawn on the CPU and then moved to
    ``device``, where it trains and scores (so on a GPU it starts from the same weights)."""

    def __init__(self, vocab: Vocabulary, word_dim: int = 50, hidden: int = 128, owner_sizes: Sequence[int] = (),
                 owner_dim: int = 32, cell: str = "lstm", dropout: float = 0.2,
                 word_vectors: np.ndarray | None = None, seed: int = 0, device: str = "cpu") -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
            torch.manual_seed(seed)
            self._build(vocab, word_dim, hidden, owner_sizes, owner_dim, cell, dropout, word_vectors)
        self.to(device)

    def _build(self, vocab, word_dim, hidden, owner_sizes, owner_dim, cell, dropout, word_vectors) -> None:
        self.vocab = vocab
        self.embedding = nn.Embedding(len(vocab), word_dim, padding_idx=vocab.pad)
        if word_vectors is not None:
            self.embedding.weight.data.copy_(torch.as_tensor(word_vectors))
        self.owners = nn.ModuleList(nn.Embedding(n, owner_dim) for n in owner_sizes)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(word_dim + owner_dim * len(owner_sizes), hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        # tied output layer, as in whyrec's GRU decoder, so that the comparison is like for like
        self.to_embedding = nn.Linear(hidden, word_dim)
        self.out_bias = nn.Parameter(torch.zeros(len(vocab)))

    def forward(self, inputs: torch.Tensor, owners: torch.Tensor | None = None) -> torch.Tensor:
        x = self.dropout(self.embedding(inputs))
        if len(self.owners):
            vec = torch.cat([t(owners[:, k]) for k, t in enumerate(self.owners)], dim=1)
            x = torch.cat([x, vec[:, None, :].expand(-1, inputs.shape[1], -1)], dim=2)
        out, _ = self.rnn(x)
        return F.linear(self.to_embedding(self.dropout(out)), self.embedding.weight, self.out_bias)

    # --- training and scoring on token lists -----------------------------------------------------
    def _batches(self, texts, owners, batch_size, shuffle, gen):
        order = torch.randperm(len(texts), generator=gen) if shuffle else torch.arange(len(texts))
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size].tolist()
            inputs, targets = teacher_forcing_batch([texts[i] for i in idx], self.vocab)
            device = self.embedding.weight.device
            own = torch.as_tensor(owners[idx], dtype=torch.long, device=device) if owners is not None else None
            yield inputs.to(device), targets.to(device), own

    def fit(self, texts: list[list[str]], owners: np.ndarray | None = None, valid_texts: list[list[str]] | None = None,
            valid_owners: np.ndarray | None = None, epochs: int = 10, batch_size: int = 64, lr: float = 2e-3,
            patience: int = 2, seed: int = 0) -> "RecurrentLanguageModel":
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        opt = torch.optim.Adam(self.parameters(), lr=lr)
        best, best_state, waited = float("inf"), None, 0
        self.history = []
        for epoch in range(epochs):
            self.train()
            for inputs, targets, own in self._batches(texts, owners, batch_size, True, gen):
                loss = sequence_nll(self(inputs, own), targets, self.vocab.pad)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.parameters(), 5.0)
                opt.step()
            if valid_texts:
                nll = self.mean_nll(valid_texts, valid_owners)
                self.history.append({"epoch": epoch + 1, "valid_nll": nll})
                if nll < best - MIN_GAIN:
                    best, best_state, waited = nll, copy.deepcopy(self.state_dict()), 0
                else:
                    waited += 1
                    if waited >= patience:
                        break
        if best_state is not None:
            self.load_state_dict(best_state)
        self.eval()
        return self

    @torch.no_grad()
    def token_log_probs(self, texts: list[list[str]], owners: np.ndarray | None = None, batch_size: int = 256) -> list[np.ndarray]:
        """Per text, the natural-log probability of each token and the final ``<eos>``."""
        self.eval()
        out = []
        for inputs, targets, own in self._batches(texts, owners, batch_size, False, None):
            logp, targets = token_log_probs(self(inputs, own), targets, self.vocab.pad).cpu(), targets.cpu()
            for row, target in zip(logp, targets):
                out.append(row[target != self.vocab.pad].numpy())
        return out

    def mean_nll(self, texts, owners=None) -> float:
        logps = self.token_log_probs(texts, owners)
        return float(-np.concatenate(logps).mean())
