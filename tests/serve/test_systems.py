"""The request-batching explainer behind the service."""

from __future__ import annotations

import threading
import time

import pytest

from whyrec.explain.decoding import Decoding
from whyrec.serve.systems import GREEDY, BatchingExplainer


def test_concurrent_requests_share_batches_and_get_their_own_texts():
    calls = []

    def generate(explainer, users, items, feature_word, decoding):
        calls.append(len(users))
        time.sleep(0.05)  # long enough for the other requests to queue up behind the first
        return [f"{explainer}:{u}:{i}" for u, i in zip(users, items)]

    batcher = BatchingExplainer(generate)
    results = {}

    def request(n):
        users, items = [f"u{n}"] * 3, [f"i{n}-{j}" for j in range(3)]
        results[n] = (batcher("pair", users, items), [f"pair:u{n}:i{n}-{j}" for j in range(3)])

    threads = [threading.Thread(target=request, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got == expected for got, expected in results.values()) and len(results) == 12
    assert sum(calls) == 36 and len(calls) < 12  # fewer model calls than requests
    assert batcher.jobs == 12 and batcher.batches == len(calls)


def test_explainers_are_batched_separately_and_errors_reach_the_caller():
    def generate(explainer, users, items, feature_word, decoding):
        if explainer == "broken":
            raise ValueError("decoder failed")
        return [f"{explainer}/{feature_word}"] * len(users)

    batcher = BatchingExplainer(generate)
    assert batcher("user", ["a", "b"], ["x", "y"]) == ["user/None", "user/None"]
    assert batcher("peter+", ["a"], ["x"], "sound") == ["peter+/sound"]  # PETER+'s feature word reaches the model
    with pytest.raises(ValueError, match="decoder failed"):
        batcher("broken", ["a"], ["x"])
    assert batcher("item", ["a"], ["x"]) == ["item/None"]  # still serving after a failure


def test_queued_jobs_with_other_feature_words_are_decoded_apart():
    from whyrec.serve.systems import _Job

    calls = []

    def generate(explainer, users, items, feature_word, decoding):
        calls.append((feature_word, users))
        return [f"{u} about {feature_word}" for u in users]

    jobs = [_Job("peter+", ["a"], ["x"], "sound", GREEDY), _Job("peter+", ["b"], ["y"], "price", GREEDY),
            _Job("peter+", ["c"], ["z"], "sound", GREEDY)]
    BatchingExplainer(generate)._run(jobs)
    assert calls == [("sound", ["a", "c"]), ("price", ["b"])]
    assert [job.result for job in jobs] == [["a about sound"], ["b about price"], ["c about sound"]]


def test_queued_jobs_share_a_batch_only_with_the_same_decoding():
    """Seeded sampling shares a batch too: each pair's draws are its own (pair_draws)."""
    from whyrec.serve.systems import _Job

    calls = []

    def generate(explainer, users, items, feature_word, decoding):
        calls.append((decoding.method, decoding.seed, users))
        return [f"{u} by {decoding.method}" for u in users]

    beam, seeded = Decoding.of("beam", {"beam": 2}), Decoding.of("sample", {"seed": 1})
    jobs = [_Job("pair", [u], ["x"], None, d) for u, d in
            [("a", GREEDY), ("b", beam), ("c", seeded), ("d", GREEDY), ("e", beam), ("f", seeded),
             ("g", Decoding.of("sample")), ("h", Decoding.of("sample"))]]
    BatchingExplainer(generate)._run(jobs)
    assert calls == [("greedy", None, ["a", "d"]), ("beam", None, ["b", "e"]), ("sample", 1, ["c", "f"]),
                     ("sample", None, ["g", "h"])]
    assert jobs[1].result == ["b by beam"] and jobs[5].result == ["f by sample"]


@pytest.mark.parametrize("cache_size", [20000, 0])
def test_item_scores_are_cached_per_user_unless_caching_is_off(peter_bundle, cache_size):
    from whyrec.serve.systems import ServedSystem

    system = ServedSystem.from_folder(peter_bundle, cache_size)
    user = system.user_ids[0]
    first = system.recommend(user, 5)
    again = system.recommend(user, 5)
    assert first[0] == again[0] and (first[1] == again[1]).all() and not first[2]
    expected = system.rating.predict([user] * len(first[0]), first[0])
    assert abs(first[1] - expected).max() < 1e-5  # cached float32 scores are the model's own
    assert system.score_cache.hits == (1 if cache_size else 0)
    system.recommend(system.user_ids[1], 5)
    assert system.score_cache.misses == (2 if cache_size else 3)


def test_recommendations_rank_by_score_and_show_clipped_ratings(served_bundles, peter_bundle):
    from whyrec.serve.systems import ServedSystem

    _, bias_folder, split = served_bundles
    system = ServedSystem.from_folder(bias_folder, history=split.train)
    model = system.rating
    model.item_bias = model.item_bias.copy()
    model.item_bias[:] = 0.0
    model.item_bias[:3] = 8.0, 9.0, 10.0  # three items past 5, the last the best
    user = next(u for u in system.user_ids
                if not set(system.history_items[model.user_map.index(u)].tolist()) & {0, 1, 2})
    items, ratings, cold = system.recommend(user, 3)
    assert items == list(reversed(model.item_map.ids[:3])) and not cold
    assert list(ratings) == [5.0, 5.0, 5.0]  # shown as predict() gives them
    peter = ServedSystem.from_folder(peter_bundle)
    items, ratings, _ = peter.recommend(peter.user_ids[0], 5)
    scores = peter.rating.predict_unclipped([peter.user_ids[0]] * 5, items)
    assert list(scores) == sorted(scores, reverse=True)
    assert list(ratings) == pytest.approx(list(peter.rating.predict([peter.user_ids[0]] * 5, items)), abs=1e-5)


def test_a_rating_bundles_history_must_be_read_on_its_scale(served_bundles):
    from whyrec.data import Corpus
    from whyrec.errors import ConfigError
    from whyrec.serve.systems import ServedSystem

    _, bias_folder, split = served_bundles
    with pytest.raises(ConfigError, match="give --min-rating 1 --max-rating 5"):
        ServedSystem.from_folder(bias_folder, history=Corpus(split.train.reviews, rating_scale=(0, 10)))


def test_searches_prepared_before_serving_answer_as_those_made_at_the_first_search(served_bundles):
    """``whyrec serve`` prepares them before it forks its workers (:meth:`ServedSystem.prepare_searches`)."""
    from whyrec.serve.systems import ServedSystem

    mt_folder, _, _ = served_bundles
    prepared, lazy = ServedSystem.from_folder(mt_folder), ServedSystem.from_folder(mt_folder)
    prepared.prepare_searches()
    assert prepared.id_search("users").prepared and prepared.id_search("items").prepared
    assert not lazy.id_search("users").prepared and not lazy.id_search("items").prepared
    for query in ("u1", "I1", "item 1", "", "u99"):
        assert prepared.search_users(query, 50) == lazy.search_users(query, 50)
        assert prepared.search_items(query, 50) == lazy.search_items(query, 50)


def test_the_title_hint_lists_items_in_the_item_boxs_order_ties_included(served_bundles):
    """Both say "the most rated first", each sorting by itself: the item box over the popularity
    array, the hint of an unknown item's title (:class:`~whyrec.explanations.TitledItems`) over
    the same counts. Ties (items of one count) must come in one order too."""
    from whyrec.serve.systems import ServedSystem

    mt_folder, _, _ = served_bundles
    served = ServedSystem.from_folder(mt_folder)
    box = served.search_items("planted item", 50)
    counts = [row["ratings"] for row in box]
    assert len(box) == 20 and len(set(counts)) < len(counts)  # the planted data has ties to order
    assert [item for item, _ in served.titled.holding("planted item", 50)] == [row["item"] for row in box]


def test_titles_several_items_share_are_told_apart_by_the_item_id():
    from whyrec.serve.systems import distinct_titles

    titles = {"m1": "Hearst Magazines (Women)", "m2": "Hearst Magazines (Women)", "m3": "Reason Magazine"}
    assert distinct_titles(titles) == {"m1": "Hearst Magazines (Women) · m1", "m2": "Hearst Magazines (Women) · m2",
                                       "m3": "Reason Magazine"}
    assert distinct_titles({}) == {}


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_a_request_whose_job_is_done_does_not_wait_for_the_next_pass():
    """Pass 1 decodes X and R; Y, queued during it, starts pass 2 when it ends, and pass 2 does not
    end before the test does: X and R must still get their texts."""
    gates = [threading.Event() for _ in range(3)]
    calls = []

    def generate(explainer, users, items, feature_word, decoding):
        calls.append(list(users))
        gates[len(calls) - 1].wait(10)
        return [f"{u}!" for u in users]

    batcher = BatchingExplainer(generate)
    results = {}

    def request(name):
        results[name] = batcher("pair", [name], ["i"])

    threads = {name: threading.Thread(target=request, args=(name,)) for name in "AXRY"}
    threads["A"].start()
    _wait_until(lambda: len(calls) == 1)  # pass 0: A alone
    threads["X"].start()
    threads["R"].start()
    _wait_until(lambda: len(batcher._queue) == 2)
    gates[0].set()
    _wait_until(lambda: len(calls) == 2)  # pass 1: X and R
    threads["Y"].start()
    _wait_until(lambda: len(batcher._queue) == 1)
    gates[1].set()
    _wait_until(lambda: len(calls) == 3)  # pass 2: Y, held open
    threads["X"].join(5)
    threads["R"].join(5)
    done = {name: results.get(name) for name in "AXR"}
    gates[2].set()
    threads["Y"].join(5)
    assert sorted(calls[1]) == ["R", "X"] and calls[2] == ["Y"]
    assert done == {"A": ["A!"], "X": ["X!"], "R": ["R!"]} and results["Y"] == ["Y!"]


def test_a_pass_stopped_by_an_uncaught_error_fails_its_jobs_and_the_batcher_goes_on():
    from whyrec.serve.systems import _Job

    class Stop(BaseException):
        pass

    batcher = BatchingExplainer(lambda explainer, users, items, feature_word, decoding: [u for u in users])
    waiting = _Job("pair", ["w"], ["x"], None, GREEDY)  # queued by another request, taken into the same pass
    batcher._queue.append(waiting)
    real_run = batcher._run
    batcher._run = lambda jobs: (_ for _ in ()).throw(Stop())  # as an interrupt inside the pass would
    with pytest.raises(Stop):
        batcher("pair", ["a"], ["x"])
    assert isinstance(waiting.error, RuntimeError) and waiting.result is None
    batcher._run = real_run
    assert batcher("pair", ["b"], ["y"]) == ["b"] and not batcher._running


def test_concurrent_users_share_scoring_passes_and_each_gets_its_own_row():
    import numpy as np

    from whyrec.serve.systems import BatchingScorer

    calls = []

    def score(users):
        calls.append(list(users))
        time.sleep(0.05)  # long enough for the other requests to queue up behind the first
        return np.array([[float(u[1:]) * 10 + i for i in range(4)] for u in users], dtype=np.float32)

    scorer = BatchingScorer(score)
    results = {}

    def request(n):
        results[n] = scorer(f"u{n % 6}")  # two requests for each user

    threads = [threading.Thread(target=request, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(list(results[n]) == [(n % 6) * 10 + i for i in range(4)] for n in range(12))
    assert len(calls) < 12 and all(len(users) == len(set(users)) for users in calls)  # a user once per pass
    assert scorer.jobs == 12 and scorer.batches == len(calls)


def test_a_scoring_error_reaches_every_request_of_its_pass_and_the_scorer_goes_on():
    from whyrec.serve.systems import BatchingScorer, _ScoreJob

    def score(users):
        if "broken" in users:
            raise ValueError("scoring failed")
        return [[1.0] for _ in users]

    scorer = BatchingScorer(score)
    jobs = [_ScoreJob("a"), _ScoreJob("broken")]
    scorer._run(jobs)
    assert all(isinstance(job.error, ValueError) and job.result is None for job in jobs)
    with pytest.raises(ValueError, match="scoring failed"):
        scorer("broken")
    assert scorer("b") == [1.0] and scorer.batches == 1 and not scorer._running


def test_a_served_system_scores_users_in_one_call_as_it_scores_each(peter_bundle):
    import numpy as np

    from whyrec.serve.systems import ServedSystem

    system = ServedSystem.from_folder(peter_bundle, 0)
    users = list(system.user_ids[:3])
    together = system._score_users(users)
    assert together.shape == (3, len(system.item_ids)) and together.dtype == np.float32
    for row, user in zip(together, users):
        alone = np.asarray(system.rating.predict_unclipped([user] * len(system.item_ids), system.item_ids))
        np.testing.assert_allclose(row, alone, atol=1e-4)  # a batch's products may sum in another order
    assert not np.allclose(together[0], together[1])  # each user's own scores


def test_a_scored_row_holds_no_reference_to_its_pass_table():
    """The score cache bounds its bytes by rows; a row that viewed its pass's table would keep all of it."""
    import numpy as np

    from whyrec.serve.systems import BatchingScorer, _ScoreJob

    table = np.arange(12, dtype=np.float32).reshape(3, 4)
    jobs = [_ScoreJob("a"), _ScoreJob("b"), _ScoreJob("c")]
    BatchingScorer(lambda users: table)._run(jobs)
    assert [list(job.result) for job in jobs] == table.tolist()
    assert all(job.result.base is None and not np.shares_memory(job.result, table) for job in jobs)


def test_concurrent_recommendations_are_those_asked_one_at_a_time(peter_bundle):
    """Users scored together in a pass get the items and ratings each gets alone."""
    from whyrec.serve.systems import ServedSystem

    system = ServedSystem.from_folder(peter_bundle, 0)  # no cache: every request is scored
    users = list(system.user_ids[:8])
    alone = {user: system.recommend(user, 5) for user in users}
    score = system.scorer.score
    system.scorer.score = lambda asked: (time.sleep(0.05), score(asked))[1]  # long enough for the others to queue
    together = {}
    start = threading.Barrier(len(users))

    def request(user):
        start.wait()
        together[user] = system.recommend(user, 5)

    threads = [threading.Thread(target=request, args=(user,)) for user in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for user in users:
        assert together[user][0] == alone[user][0], user
        assert abs(together[user][1] - alone[user][1]).max() < 1e-4
    assert system.scorer.jobs == 2 * len(users) and system.scorer.batches < 2 * len(users)  # some shared a pass


def test_the_cache_keeps_its_size_by_dropping_the_least_recently_used():
    """A served system's texts and item scores are cached up to ``--cache-size`` entries: past it, the
    entry used longest ago goes, a read counting as a use; size 0 keeps nothing."""
    from whyrec.serve.systems import LRUCache

    cache = LRUCache(size=3)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == "A"  # a is now the most recently used: b goes first
    cache.put("d", "D")
    assert [cache.get(k) for k in "abcd"] == ["A", None, "C", "D"]
    cache.put("c", "C2")  # a key put again is replaced and used, not added twice
    cache.put("e", "E")  # the least recently used now is a (read before c, d were)
    assert [cache.get(k) for k in "acde"] == [None, "C2", "D", "E"] and len(cache) == 3
    assert (cache.hits, cache.misses) == (7, 2)
    off = LRUCache(size=0)
    off.put("a", "A")
    assert off.get("a") is None and off.misses == 1 and len(off) == 0
