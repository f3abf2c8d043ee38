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


def _sentences(text):
    return [s.strip().lower() for s in text.rstrip(".").split(". ")]


def test_without_noise_each_rating_is_the_rounded_clipped_true_rating():
    """rating = clip(round(μ + b_u + b_i + p_uᵀq_i + ε), 1, 5), with ε = 0."""
    planted = make_planted_corpus(n_users=60, n_items=30, noise=0.0, seed=4)
    frame = planted.corpus.reviews
    truth = planted.true_rating(frame["user"].tolist(), frame["item"].tolist())
    assert (frame["rating"].to_numpy() == np.clip(np.rint(truth), 1, 5)).all()
    u, i = int(frame["user"].iloc[0][1:]), int(frame["item"].iloc[0][1:])
    assert truth[0] == planted.global_mean + planted.user_bias[u] + planted.item_bias[i] + \
        planted.user_factors[u] @ planted.item_factors[i]
    flat = make_planted_corpus(n_users=20, n_items=10, noise=0.0, factor_scale=0.0, bias_scale=0.0,
                               global_mean=2.4, seed=4)
    assert set(flat.corpus.reviews["rating"]) == {2.0}


def test_the_truth_has_the_asked_shapes_and_scales():
    planted = make_planted_corpus(n_users=400, n_items=300, n_factors=3, factor_scale=0.5, bias_scale=0.2,
                                  features_per_item=4, seed=5)
    assert planted.user_factors.shape == (400, 3) and planted.item_factors.shape == (300, 3)
    assert abs(planted.user_factors.std() - 0.5) < 0.05 and abs(planted.item_bias.std() - 0.2) < 0.03
    assert abs(planted.user_bias.std() - 0.2) < 0.03 and abs(planted.item_factors.std() - 0.5) < 0.05
    assert abs(planted.user_factors.mean()) < 0.05 and abs(planted.item_factors.mean()) < 0.05  # centred
    assert abs(planted.user_bias.mean()) < 0.03 and abs(planted.item_bias.mean()) < 0.03
    assert all(len(set(f)) == 4 for f in planted.item_features.values()) and len(planted.item_features) == 300
    assert planted.user_style["u9"] == "frankly"  # the style words in turn


def test_each_review_follows_the_generative_story():
    """1–3 sentences naming a true feature with an opinion of the rating's polarity; a filler at
    ``filler_rate``; the user's style word opening most reviews; positions and hourly times in order."""
    from whyrec.data.synthetic import FILLERS, OPINIONS

    planted = make_planted_corpus(n_users=150, n_items=60, reviews_per_user=8, filler_rate=0.5, seed=6)
    frame = planted.corpus.reviews
    fillers = styled = 0
    counts, fillers_per_review, filler_places = set(), set(), set()
    for row in frame.itertuples():
        sentences = _sentences(row.text)
        style = planted.user_style[row.user]
        styled += sentences[0].startswith(style + " ")
        sentences[0] = sentences[0].removeprefix(style + " ")
        filler = [s for s in sentences if s in FILLERS]
        fillers += len(filler)
        fillers_per_review.add(len(filler))
        filler_places.update(k for k, s in enumerate(sentences) if s in FILLERS)
        featured = [s for s in sentences if s not in FILLERS]
        counts.add(len(featured))
        for sentence in featured:
            assert any(f in sentence.split() for f in planted.item_features[row.item]), sentence
            assert any(o in sentence.split() for o in OPINIONS[int(row.rating)]), (sentence, row.rating)
    assert counts == {1, 2, 3} and fillers_per_review == {0, 1} and filler_places == {0, 1, 2, 3}
    assert 0.45 < fillers / len(frame) < 0.55 and 0.75 < styled / len(frame) < 0.85
    assert frame["position"].tolist() == list(range(len(frame)))
    assert frame["time"].tolist() == [1_500_000_000.0 + 3600 * k for k in range(len(frame))]
    per_user = frame.groupby("user").size()
    assert per_user.min() >= 5 and abs(per_user.mean() - 8.16) < 0.5  # E[max(5, Poisson(8))] = 8.16
    assert not frame.duplicated(["user", "item"]).any()
    assert planted.corpus.item_title("i7") == "Planted item 7" and planted.corpus.name == "planted"
    assert planted.corpus.report.kept == len(frame) == planted.corpus.report.read
    assert planted.corpus.rating_scale == (1.0, 5.0)


def test_popular_items_are_reviewed_more_often():
    frame = make_planted_corpus(n_users=300, n_items=120, seed=7).corpus.reviews
    counts = frame["item"].value_counts()
    assert counts.iloc[0] > 5 * counts.median()


def test_a_user_reviews_at_least_five_items():
    frame = make_planted_corpus(n_users=50, n_items=40, reviews_per_user=2, seed=8).corpus.reviews
    per_user = frame.groupby("user").size()
    assert per_user.min() == 5 and (per_user == 5).mean() > 0.9  # Poisson(2) is mostly below five
