"""PETER's transformer parts by hand: positional encodings, the PETER mask, the context head, the
rating of the incremental path and the word shift. (The model in use is tested in
tests/systems/test_peter.py: teacher forcing against incremental steps, the rating alone.)"""

from __future__ import annotations

import math

import torch

from whyrec.explain.peter_model import PeterModel, PeterShape, peter_mask, sinusoidal_positions


def small_model(**shape) -> PeterModel:
    torch.manual_seed(0)
    settings = {"emsize": 16, "heads": 2, "ffn": 32, "layers": 2, "dropout": 0.0, **shape}
    return PeterModel(PeterShape(5, 4, 20, **settings), pad=2).eval()


USER, ITEM = torch.tensor([1, 3, 0]), torch.tensor([0, 2, 2])
TEXT = torch.tensor([[0, 5, 6, 8], [0, 11, 4, 13], [0, 7, 2, 2]])  # <bos> w1 w2 w3, the last padded


def test_positional_encodings_are_vaswanis_sines_and_cosines():
    """PE(p, 2k) = sin(p / 10000^{2k/d}), PE(p, 2k + 1) = cos(p / 10000^{2k/d})."""
    pe = sinusoidal_positions(60, 4)  # far enough that 10,000 against 10,001 shows
    by_hand = [[f(p / 10000 ** (2 * k / 4)) for k in range(2) for f in (math.sin, math.cos)] for p in range(60)]
    torch.testing.assert_close(pe, torch.tensor(by_hand), atol=1e-6, rtol=0)


def test_the_peter_mask_is_causal_and_lets_the_user_see_the_item():
    allowed = peter_mask(4)
    expected = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(allowed, expected)


def test_the_context_head_is_one_distribution_per_row():
    _, context, words = small_model()(USER, ITEM, TEXT)
    assert context.shape == (3, 20) and words.shape == (3, 4, 20)
    torch.testing.assert_close(context.exp().sum(-1), torch.ones(3))
    torch.testing.assert_close(words.exp().sum(-1), torch.ones(3, 4))


def test_the_incremental_paths_rating_is_the_full_forwards():
    for use_feature in (False, True):
        model = small_model(use_feature=use_feature)
        feature = torch.tensor([7, 9, 4]) if use_feature else None
        full, _, _ = model(USER, ITEM, TEXT, feature)
        started, _, _ = model.start(USER, ITEM, 0, feature)
        torch.testing.assert_close(started, full, atol=1e-5, rtol=1e-5)


def test_a_word_shift_is_added_to_every_word_embedding():
    """Shifting every row's word embeddings by s is the same as adding s to the word table (the
    same s for all rows); the rating, which never sees a word position, does not move."""
    model = small_model()
    shift = torch.randn(16)
    rating, context, words = model(USER, ITEM, TEXT, word_shift=shift.expand(3, 16))
    with torch.no_grad():
        model.words.weight += shift
    plain_rating, plain_context, shifted_table = model(USER, ITEM, TEXT)
    torch.testing.assert_close(words, shifted_table)
    torch.testing.assert_close(rating, plain_rating)
    torch.testing.assert_close(context, plain_context)
