"""What explainers learn to write (whyrec.explain.targets): a sentence of each review (its end
mark cut with the split), and the teacher-forcing tensors made of it."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from whyrec.data import DataWarning, corpus_from_frame
from whyrec.data.text import Vocabulary
from whyrec.errors import DataError
from whyrec.explain.targets import explanation_targets, pad_batch, teacher_forcing_batch


def _corpus(texts):
    return corpus_from_frame(pd.DataFrame({"user": [f"u{n}" for n in range(len(texts))], "item": "i", "rating": 4,
                                           "text": texts}))


def test_a_target_is_the_feature_sentence_else_the_first_sentence_cut_to_max_words():
    corpus = _corpus(["Great sound. The strings broke fast!", "Too pricey.It's loud", "''", "a b c d e f"])
    features = pd.DataFrame({"position": [1], "sentence": ["it's loud and clear"]})  # record 1's feature sentence
    assert explanation_targets(corpus, features, max_words=5) == [
        ["great", "sound"], ["it", "'s", "loud", "and", "clear"], ["<unk>"], ["a", "b", "c", "d", "e"]]
    assert explanation_targets(corpus, features, max_words=2)[1] == ["it", "'s"]
    # without features (or with none found) every record gives its first sentence
    assert explanation_targets(corpus, None)[1] == explanation_targets(corpus, features.iloc[:0])[1] == \
        ["too", "pricey"]


def test_a_corpus_of_ratings_alone_has_no_targets():
    with pytest.warns(DataWarning, match="read as ratings only"):
        ratings = corpus_from_frame(pd.DataFrame({"user": ["u", "v"], "item": ["i", "i"], "rating": [4, 2]}))
    with pytest.raises(DataError, match="holds ratings only .* and an explainer needs review text"):
        explanation_targets(ratings)


def test_teacher_forcing_shifts_by_one_with_bos_in_front_and_eos_behind():
    vocab = Vocabulary(["good", "sound", "bad"])
    good, sound, bad = vocab.id("good"), vocab.id("sound"), vocab.id("bad")
    inputs, targets = teacher_forcing_batch([["good", "sound"], ["bad"], ["loud"]], vocab)
    p = vocab.pad
    assert inputs.tolist() == [[vocab.bos, good, sound], [vocab.bos, bad, p], [vocab.bos, vocab.unk, p]]
    assert targets.tolist() == [[good, sound, vocab.eos], [bad, vocab.eos, p], [vocab.unk, vocab.eos, p]]


def test_pad_batch_pads_on_the_right_to_the_longest():
    assert pad_batch([[5, 6, 7], [8], []], pad=0).tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert pad_batch([[], []], pad=2).tolist() == [[2], [2]]  # a column even when every list is empty
    assert pad_batch([], pad=2).shape == (0, 1) and pad_batch([[1]], pad=0).dtype == torch.long
