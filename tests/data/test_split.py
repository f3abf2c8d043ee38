"""Every split: fixed index folders, ratio with warm-start repair, k-fold, leave-last-out."""

from __future__ import annotations

import warnings

import pytest

from tests.conftest import disk_full
from whyrec.data import DataWarning, fixed_index_split, iter_kfold_splits, kfold_splits, leave_last_out, ratio_split
from whyrec.errors import ConfigError, DataError


def _keys(corpus):
    return set(zip(corpus.users, corpus.items, corpus.positions))


def test_ratio_split_is_deterministic_disjoint_and_warm(planted):
    corpus = planted.corpus
    a, b = ratio_split(corpus, seed=7), ratio_split(corpus, seed=7)
    assert list(a.test.positions) == list(b.test.positions)
    assert list(ratio_split(corpus, seed=8).test.positions) != list(a.test.positions)
    parts = [set(p.positions) for p in (a.train, a.valid, a.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert sum(map(len, parts)) == len(corpus)
    train_users, train_items = set(a.train.users), set(a.train.items)
    for part in (a.valid, a.test):
        assert set(part.users) <= train_users and set(part.items) <= train_items
    assert abs(len(a.test) / len(corpus) - 0.1) < 0.03


def test_warm_start_repair_moves_cold_records(planted):
    corpus = planted.corpus
    # a 50/25/25 split of a sparse corpus has cold test records that must be moved
    cold = ratio_split(corpus, ratios=(0.5, 0.25, 0.25), seed=1, warm_start=False)
    warm = ratio_split(corpus, ratios=(0.5, 0.25, 0.25), seed=1)
    assert len(warm.train) >= len(cold.train)
    assert set(warm.test.users) <= set(warm.train.users)
    # the split counts what it moved, so that the smaller validation and test parts are explained
    assert warm.moved_to_train == len(warm.train) - len(cold.train) > 0 and cold.moved_to_train == 0
    folds = kfold_splits(corpus, k=5, seed=0, valid_share=0.1)
    unrepaired = kfold_splits(corpus, k=5, seed=0, valid_share=0.1, warm_start=False)
    assert [f.moved_to_train for f in folds] == [len(f.train) - len(u.train) for f, u in zip(folds, unrepaired)]


def test_kfold_partitions_the_corpus(planted):
    corpus = planted.corpus
    folds = kfold_splits(corpus, k=5, seed=0, warm_start=False)
    tests = [set(f.test.positions) for f in folds]
    assert set().union(*tests) == set(corpus.positions)
    assert sum(map(len, tests)) == len(corpus)
    with_valid = kfold_splits(corpus, k=5, seed=0, valid_share=0.1)
    assert all(len(f.valid) > 0 for f in with_valid)
    for f in with_valid:
        assert set(f.test.users) <= set(f.train.users)


def test_folds_drawn_one_at_a_time_are_the_listed_folds_and_a_bad_k_is_refused_at_the_call(planted):
    corpus = planted.corpus
    listed = kfold_splits(corpus, k=4, seed=3, valid_share=0.1)
    drawn = iter_kfold_splits(corpus, k=4, seed=3, valid_share=0.1)
    assert not isinstance(drawn, list)  # a fold at a time: `data split --kfold` writes each and lets it go
    for one, other in zip(listed, drawn, strict=True):
        for part in ("train", "valid", "test"):
            assert getattr(one, part).reviews.equals(getattr(other, part).reviews)
        assert one.moved_to_train == other.moved_to_train
    with pytest.raises(ConfigError, match="k must be between 2 and the number of records"):
        iter_kfold_splits(corpus, k=len(corpus) + 1)  # at the call, before any fold is asked for


def test_leave_last_out_takes_latest_per_user(planted):
    corpus = planted.corpus
    split = leave_last_out(corpus)
    frame = corpus.reviews
    latest = frame.sort_values("time").groupby("user").tail(1)
    assert set(split.test.positions) == set(latest["position"])
    for user in list(set(split.valid.users))[:20]:
        assert split.valid.reviews.set_index("user").loc[user, "time"] < split.test.reviews.set_index("user").loc[user, "time"]


def test_fixed_index_split(tmp_path, planted):
    corpus = planted.corpus
    (tmp_path / "train.index").write_text(" ".join(map(str, range(0, 100))))
    (tmp_path / "validation.index").write_text("100 101 102")
    (tmp_path / "test.index").write_text("103 104")
    # 105 of the file's records: as another (smaller) dataset's split would fit this one
    told = f"the split indexes 105 of the {len(corpus):,} valid records of planted; is it"
    with pytest.warns(DataWarning, match=told) as caught:
        split = fixed_index_split(corpus, tmp_path)
    assert caught[0].filename == __file__  # shown under the caller's line
    assert split.sizes() == {"train": 100, "valid": 3, "test": 2}
    assert list(split.test.positions) == [103, 104]
    (tmp_path / "train.index").write_text(" ".join(map(str, range(105, len(corpus)))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a split of the whole file: no warning
        fixed_index_split(corpus, tmp_path)
    # a record in two parts (trained on and tested on) or twice in one is refused
    (tmp_path / "train.index").write_text(" ".join(map(str, range(0, len(corpus) - 5))))
    with pytest.raises(DataError, match=r"validation.index: record 100 is listed in train.index too"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "train.index").write_text("1 2 2")
    with pytest.raises(DataError, match=r"train.index: record 2 is listed twice"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "train.index").write_text(" ".join(map(str, range(0, 100))))
    (tmp_path / "test.index").write_text(f"103 {len(corpus) + 5}")
    with pytest.raises(DataError, match=rf"test\.index: index {len(corpus) + 5} is outside the {len(corpus):,} records "
                       rf"of planted \(0 to {len(corpus) - 1:,}\)"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "test.index").write_text(f"103 {len(corpus)}")  # one past the last record
    with pytest.raises(DataError, match=rf"test\.index: index {len(corpus)} is outside"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "test.index").write_text("103 -1 104")  # was reported as index 104, the largest
    with pytest.raises(DataError, match=r"test\.index: index -1 is outside"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "test.index").write_text("103 104")
    (tmp_path / "train.index").write_text("\n")
    with pytest.raises(DataError, match=r"train\.index: the split's train part holds no record of the file "
                       r"\(the index file is empty\)"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "train.index").write_text(" ".join(map(str, range(0, 100))))
    (tmp_path / "test.index").write_text("1 two")
    with pytest.raises(DataError, match=r"test\.index: index files hold record positions, whole numbers separated "
                       r"by spaces; line 1 holds 'two'"):
        fixed_index_split(corpus, tmp_path)
    (tmp_path / "test.index").write_text("101 102\n103 104.0\n")  # the bad token's line is named
    with pytest.raises(DataError, match=r"line 2 holds '104\.0'"):
        fixed_index_split(corpus, tmp_path)
    with pytest.raises(DataError, match="a split is a folder of index files, not a file"):
        fixed_index_split(corpus, tmp_path / "train.index")
    (tmp_path / "test.index").unlink()
    (tmp_path / "test.index").mkdir()
    with pytest.raises(DataError, match=r"test\.index: cannot read the index file"):
        fixed_index_split(corpus, tmp_path)


def test_shared_split_one_matches_index_files(shared_data):
    import warnings

    from whyrec.data import load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(shared_data / "amazon-gift-cards", duplicates="keep-all")
    split = fixed_index_split(corpus, shared_data / "amazon-gift-cards" / "1")
    assert split.sizes() == {"train": 2372, "valid": 297, "test": 297}
    assert split.dropped == 0


def test_split_folders_are_found_in_numeric_order_and_chosen_by_name(tmp_path):
    from whyrec.data import split_folders

    for name in ("10", "2", "1", "extra"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.index").write_text("0 1")
    (tmp_path / "3").mkdir()  # no index files: not a split
    assert [p.name for p in split_folders(tmp_path)] == ["1", "2", "10", "extra"]
    assert [p.name for p in split_folders(tmp_path, "10,1")] == ["10", "1"]
    with pytest.raises(DataError, match=r"no split folder 3, 4 with a train.index; found: 1, 2, 10, extra"):
        split_folders(tmp_path, "1,3,4")
    assert split_folders(tmp_path / "1" / "train.index") == []  # a file holds no split folders
    with pytest.raises(DataError, match=r"split 1 is named twice in '1, 10,1'"):
        split_folders(tmp_path, "1, 10,1")


def test_a_written_split_reads_back_as_the_same_records(planted, tmp_path):
    from whyrec.data import write_index_split

    split = ratio_split(planted.corpus, seed=4)
    write_index_split(split, tmp_path / "1")
    again = fixed_index_split(planted.corpus, tmp_path / "1")
    assert again.folder == tmp_path / "1" and split.folder is None  # where a fixed split was read from
    for a, b in ((split.train, again.train), (split.valid, again.valid), (split.test, again.test)):
        assert a.reviews.equals(b.reviews)
    with pytest.raises(DataError, match="already holds a split"):
        write_index_split(split, tmp_path / "1")


def test_a_split_the_disk_refuses_partway_leaves_no_part_and_can_be_written_again(planted, tmp_path, monkeypatch):
    """The parts were written one by one: a disk that filled at the test part left train and
    validation, a folder the next try refused as already holding a split."""
    import os
    from pathlib import Path

    from whyrec.data import write_index_split

    real = Path.write_text

    def full_at_test(path, text, *args, **kwargs):
        if path.name.startswith("test.index"):
            raise disk_full()
        return real(path, text, *args, **kwargs)

    split = ratio_split(planted.corpus, seed=4)
    with monkeypatch.context() as patched:
        patched.setattr(Path, "write_text", full_at_test)
        with pytest.raises(OSError) as refused:
            write_index_split(split, tmp_path / "1")
    assert refused.value.filename == str(tmp_path / "1" / "test.index") and os.listdir(tmp_path / "1") == []
    write_index_split(split, tmp_path / "1")  # room again: the same split, written
    assert fixed_index_split(planted.corpus, tmp_path / "1").test.reviews.equals(split.test.reviews)


def test_a_written_split_of_a_file_with_duplicate_pairs_reads_back_without_a_warning(tmp_path):
    """`whyrec data split` lists one record of each user–item pair, and the commands read a split's
    file with every duplicate kept: a file with many duplicates (100 of 160 records here) was once
    warned about as if the split were another dataset's."""
    import pandas as pd

    from whyrec.data import load_corpus, write_index_split

    rows = [(f"u{n % 12}", f"i{n % 10}", 1 + n % 5, f"review number {n} of the file") for n in range(160)]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows, columns=["user", "item", "rating", "text"]).to_csv(path, index=False)
    with pytest.warns(DataWarning, match="160 records read, 60 kept, 100 duplicate"):  # said when read
        deduplicated = load_corpus(path)
    assert deduplicated.report.read == 160 and len(deduplicated) == 60
    write_index_split(ratio_split(deduplicated, seed=0), tmp_path / "1")
    everything = load_corpus(path, duplicates="keep-all")
    for corpus in (deduplicated, everything):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            again = fixed_index_split(corpus, tmp_path / "1")
        assert sum(again.sizes().values()) == 60 and again.dropped == 0
    # a split of every record, read with the duplicates dropped: their positions are counted
    write_index_split(ratio_split(everything, seed=0), tmp_path / "2")
    assert fixed_index_split(deduplicated, tmp_path / "2").dropped == 100
    (tmp_path / "1" / "train.index").write_text(" ".join(map(str, again.train.positions[:5])))
    left = 5 + len(again.valid) + len(again.test)
    with pytest.warns(DataWarning, match=f"indexes {left} of the 60 valid records of .*reviews.csv; is it"):
        fixed_index_split(deduplicated, tmp_path / "1")
    with pytest.warns(DataWarning, match=f"indexes {left} of the 160 valid records \\(60 user–item pairs\\) of"):
        fixed_index_split(everything, tmp_path / "1")


def test_split_label_is_the_split_folder_name():
    from whyrec.data.split import split_label

    assert split_label("amazon-gift-cards/3") == "3" and split_label("split") == "split"


def test_ratios_are_three_non_negative_numbers_normalised_to_sum_one(planted):
    corpus = planted.corpus
    for bad in ((0.8, -0.1, 0.3), (0.0, 0.0, 0.0), (0.5, 0.5), (0.8, 0.1, 0.05, 0.05)):
        with pytest.raises(ConfigError, match=r"ratios must be three non-negative numbers, not \("):
            ratio_split(corpus, ratios=bad)
    # weights, not shares: 8 : 1 : 1 is the default 0.8 / 0.1 / 0.1
    for part in ("train", "valid", "test"):
        assert getattr(ratio_split(corpus, ratios=(8, 1, 1)), part).reviews.equals(
            getattr(ratio_split(corpus), part).reviews)
    assert len(ratio_split(corpus, ratios=(1, 0, 0), warm_start=False).train) == len(corpus)


def test_k_may_be_anything_from_2_to_the_number_of_records(planted):
    corpus = planted.corpus.take(range(12))
    assert len(kfold_splits(corpus, k=2, warm_start=False)) == 2
    each = kfold_splits(corpus, k=12, warm_start=False)
    assert [len(fold.test) for fold in each] == [1] * 12  # leave one out
    for k in (1, 13):
        with pytest.raises(ConfigError, match=rf"between 2 and the number of records \(12\), not {k}$"):
            kfold_splits(corpus, k=k)


def test_leave_last_out_at_two_and_three_records_of_a_user():
    """Two records: the later is the test record and the earlier stays in train; three: the one
    before the last is the validation record."""
    from whyrec.data.corpus import RawRecord, build_corpus

    rows = [("one", "a", 1), ("two", "a", 1), ("two", "b", 2), ("three", "a", 1), ("three", "b", 2), ("three", "c", 3)]
    corpus = build_corpus([RawRecord(user=u, item=i, rating=4, text="fine", time=t, position=n, line=n + 1)
                           for n, (u, i, t) in enumerate(rows)], source="r.csv")
    split = leave_last_out(corpus)
    assert sorted(zip(split.test.users, split.test.items)) == [("three", "c"), ("two", "b")]
    assert list(zip(split.valid.users, split.valid.items)) == [("three", "b")]
    assert sorted(zip(split.train.users, split.train.items)) == [("one", "a"), ("three", "a"), ("two", "a")]


def test_a_recorded_k_core_is_a_whole_number_of_at_least_one(tmp_path):
    """What ``data split --k-core K`` writes in run.json, read back; anything else (hand-edited) is no record."""
    import json

    from whyrec.data.split import recorded_k_core

    for value, read in ((5, 5), (1, 1), (0, None), (True, None), (2.5, None), ("5", None)):
        (tmp_path / "run.json").write_text(json.dumps({"k_core": value}))
        assert recorded_k_core(tmp_path) == read, value
    (tmp_path / "run.json").unlink()
    assert recorded_k_core(tmp_path) is None


@pytest.mark.parametrize("valid_share, warm_start", [(0.0, False), (0.2, False), (0.2, True)])
def test_each_folds_train_valid_and_test_are_disjoint_and_the_whole_corpus(planted, valid_share, warm_start):
    """No record of a fold's test part is trained on (or validated on) in that fold."""
    corpus = planted.corpus
    folds = kfold_splits(corpus, k=4, seed=2, valid_share=valid_share, warm_start=warm_start)
    assert [fold.name for fold in folds] == [f"planted/fold-{f}of4" for f in range(1, 5)]
    for fold in folds:
        parts = [set(part.positions) for part in (fold.train, fold.valid, fold.test)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert set().union(*parts) == set(corpus.positions)


def test_ratio_split_sizes_follow_each_ratio(planted):
    corpus = planted.corpus
    split = ratio_split(corpus, ratios=(0.6, 0.3, 0.1), seed=4, warm_start=False)
    assert split.sizes() == {"train": round(0.6 * len(corpus)), "valid": round(0.3 * len(corpus)),
                             "test": len(corpus) - round(0.6 * len(corpus)) - round(0.3 * len(corpus))}
