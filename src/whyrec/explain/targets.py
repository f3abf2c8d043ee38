"""What explainers learn to write, as token ids.

The explanation target of a review is its extracted feature sentence (``whyrec.data.features``,
the benchmark convention) when it has one, else its first sentence; both tokenized and cut to
``max_words``. Sequences end with ``<eos>``, which is scored like any other token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from whyrec.data.text import Vocabulary, split_sentences, tokenize

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    import pandas as pd

    from whyrec.data.corpus import Corpus


def explanation_targets(corpus: Corpus, features: pd.DataFrame | None = None, max_words: int = 20) -> list[list[str]]:
    """One token list per record of ``corpus`` (in its row order)."""
    corpus.require_text("an explainer")
    sentence_of = {}
    if features is not None and len(features):
        sentence_of = dict(zip(features["position"].tolist(), features["sentence"].tolist()))
    out = []
    for position, text in zip(corpus.positions.tolist(), corpus.texts):
        sentence = sentence_of.get(position)
        if sentence is None:
            sentences = split_sentences(text)
            sentence = sentences[0] if sentences else text
        tokens = tokenize(sentence)[:max_words]
        out.append(tokens if tokens else ["<unk>"])
    return out


def pad_batch(sequences: list[list[int]], pad: int) -> torch.Tensor:
    """Right-pad id lists into a (B, max length) LongTensor."""
    width = max((len(s) for s in sequences), default=1) or 1
    out = torch.full((len(sequences), width), pad, dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            out[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    return out


def teacher_forcing_batch(token_lists: list[list[str]], vocab: Vocabulary) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets): ``<bos> w_1 … w_n`` and ``w_1 … w_n <eos>``, padded."""
    ids = [vocab.encode(t) for t in token_lists]
    inputs = pad_batch([[vocab.bos] + s for s in ids], vocab.pad)
    targets = pad_batch([s + [vocab.eos] for s in ids], vocab.pad)
    return inputs, targets
