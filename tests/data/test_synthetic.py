import numpy as np

from whyrec.data.synthetic import make_planted_corpus


def test_planted_corpus_is_seeded_and_consistent():
    a, b = make_planted_corpus(n_users=40, n_items=20, seed=1), make_planted_corpus(n_users=40, n_items=20, seed=1)
    assert a.corpus.reviews.equals(b.corpus.reviews)
    assert not make_planted_corpus(n_users=40, n_items=20, seed=2).corpus.reviews.equals(a.corpus.reviews)
    frame = a.corpus.reviews
    assert frame.groupby("user").size().min() >= 5
    assert frame["rating"].between(1, 5).all()
    truth = a.true_rating(frame["user"].tolist(), frame["item"].tolist())
    assert np.corrcoef(truth, frame["rating"])[0, 1] > 0.8
    # each review names a true feature of its item
    for row in frame.head(50).itertuples():
        assert any(f in row.text.lower() for f in a.item_features[row.item])
