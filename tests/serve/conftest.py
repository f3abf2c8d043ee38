"""A tiny trained MT bundle and a rating-model bundle shared by the serving tests."""

import threading

import pytest

from tests.systems.test_mt import TINY


@pytest.fixture(scope="session")
def served_bundles(tmp_path_factory):
    from whyrec.bundle import save_bundle
    from whyrec.data import ratio_split
    from whyrec.data.features import FeatureExtractor
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.rating import BiasBaseline
    from whyrec.systems.mt import MultiTask

    corpus = make_planted_corpus(n_users=40, n_items=20, reviews_per_user=8, seed=2).corpus
    split = ratio_split(corpus, seed=0)
    features = FeatureExtractor(min_df=2).extract(corpus)
    root = tmp_path_factory.mktemp("bundles")
    mt = MultiTask(epochs=2, **TINY).fit(split.train, split.valid, features)
    mt.save(root / "planted")
    save_bundle(BiasBaseline().fit(split.train), root / "planted-bias")
    return root / "planted", root / "planted-bias", split


@pytest.fixture(scope="session")
def peter_bundle(served_bundles, tmp_path_factory):
    """A tiny PETER+ trained on the same split."""
    from whyrec.data.features import FeatureExtractor
    from whyrec.systems.peter import Peter

    _, _, split = served_bundles
    features = FeatureExtractor(min_df=2).extract(split.train)
    folder = tmp_path_factory.mktemp("peter") / "planted-peter"
    Peter(use_feature=True, emsize=32, ffn=64, max_words=8, epochs=3).fit(split.train, split.valid, features).save(folder)
    return folder


def hold_recommendations(system, monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Make ``system.recommend`` wait, once entered, until the test lets it go: (entered, release).
    A request held so keeps its place under ``--max-in-flight``."""
    entered, release = threading.Event(), threading.Event()
    recommend = system.recommend

    def held(user, k):
        entered.set()
        assert release.wait(30)
        return recommend(user, k)

    monkeypatch.setattr(system, "recommend", held)
    return entered, release
