"""Properties every split must have on any corpus, drawn by Hypothesis (hand-made cases are in
test_split.py): the parts are disjoint and hold every record; after warm-start repair every user
and item of validation and test is in train, and the count of records moved is what train gained;
k folds' test parts partition the records; leave-last-out tests each user's latest review; and a
written split reads back as the same records."""

import tempfile

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.data import corpus_from_frame, fixed_index_split, kfold_splits, leave_last_out, ratio_split, \
    write_index_split

FUZZ = fuzz(100)
records = st.lists(st.tuples(st.integers(0, 8), st.integers(0, 6), st.integers(1, 5), st.integers(0, 5)),
                   min_size=3, max_size=60, unique_by=lambda r: (r[0], r[1]))


def corpus_of(rows):
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "time"]).astype({"user": str, "item": str})
    frame["user"], frame["item"] = "u" + frame["user"], "i" + frame["item"]
    return corpus_from_frame(frame.assign(text="fine", time=frame["time"] * 86400 + 10**9))


def parts_of(split) -> list[set]:
    return [set(part.positions) for part in (split.train, split.valid, split.test)]


@FUZZ
@given(rows=records, seed=st.integers(0, 2**31), ratios=st.sampled_from([(0.8, 0.1, 0.1), (0.5, 0.25, 0.25),
                                                                         (1, 0, 1), (0.9, 0.1, 0)]))
def test_a_ratio_split_holds_every_record_once_and_is_warm(rows, seed, ratios):
    corpus = corpus_of(rows)
    split, cold = ratio_split(corpus, ratios, seed=seed), ratio_split(corpus, ratios, seed=seed, warm_start=False)
    train, valid, test = parts_of(split)
    assert not (train & valid or train & test or valid & test) and train | valid | test == set(corpus.positions)
    for part in (split.valid, split.test):
        assert set(part.users) <= set(split.train.users) and set(part.items) <= set(split.train.items)
    assert split.moved_to_train == len(split.train) - len(cold.train) >= 0
    assert train >= parts_of(cold)[0]  # repair only adds to train


@FUZZ
@given(rows=records, seed=st.integers(0, 2**31), k=st.integers(2, 5))
def test_k_folds_test_parts_partition_the_records(rows, seed, k):
    corpus = corpus_of(rows)
    k = min(k, len(corpus))  # more folds than records is refused (tested in test_split.py)
    folds = kfold_splits(corpus, k=k, seed=seed, warm_start=False)
    tests = [set(f.test.positions) for f in folds]
    assert sum(map(len, tests)) == len(corpus) and set().union(*tests) == set(corpus.positions)
    for warm, fold in zip(kfold_splits(corpus, k=k, seed=seed, valid_share=0.2), folds):
        assert set(warm.test.positions) <= set(fold.test.positions)
        assert len(fold.test) - len(warm.test) <= warm.moved_to_train
        assert set(warm.test.users) <= set(warm.train.users) and set(warm.test.items) <= set(warm.train.items)


@FUZZ
@given(rows=records)
def test_leave_last_out_tests_each_users_latest_review(rows):
    corpus = corpus_of(rows)
    split = leave_last_out(corpus)
    frame = corpus.reviews
    for user, reviews in frame.groupby("user"):
        ordered = reviews.sort_values(["time", "position"], kind="mergesort")
        tested = split.test.reviews[split.test.reviews["user"] == user]
        validated = split.valid.reviews[split.valid.reviews["user"] == user]
        if len(reviews) == 1:
            assert tested.empty and validated.empty
            continue
        assert list(tested["position"]) == [ordered["position"].iloc[-1]]
        assert list(validated["position"]) == ([ordered["position"].iloc[-2]] if len(reviews) >= 3 else [])


@FUZZ
@given(rows=records, seed=st.integers(0, 1000))
def test_a_written_split_reads_back_as_the_same_records(rows, seed):
    corpus = corpus_of(rows)
    split = ratio_split(corpus, seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        write_index_split(split, folder)
        read = fixed_index_split(corpus, folder)
    assert [np.array_equal(a.positions, b.positions) for a, b in
            zip((split.train, split.valid, split.test), (read.train, read.valid, read.test))] == [True] * 3
