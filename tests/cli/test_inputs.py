"""What the commands read: the split they work on, and a model's test records it does not know."""

from __future__ import annotations

import pytest

from whyrec.cli.inputs import strangers_warning
from whyrec.errors import ConfigError


def test_a_system_trained_on_other_data_is_warned_of_by_how_few_test_records_it_knows():
    """Known users but new items (a model of another catalogue) are mostly its cold-start fallback."""
    from whyrec.data import ratio_split
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.rating import BiasBaseline

    split = ratio_split(make_planted_corpus(n_users=30, n_items=12, reviews_per_user=6, seed=1).corpus, seed=0)
    model = BiasBaseline().fit(split.train)
    assert strangers_warning("m", model, split.test) is None  # warm-start repair: every test user and item known
    test = split.test.reviews
    new_items = type(split.test)(test.assign(item=[f"new-{i}" if k % 3 else i for k, i in enumerate(test["item"])]))
    known = sum(1 for k in range(len(test)) if k % 3 == 0)
    assert strangers_warning("m", model, new_items) == (
        f"warning: m knows both the user and the item of {known:,} of the {len(test):,} test records: "
        "is this the data it was trained on?")
    half_new = type(split.test)(test.assign(item=[f"new-{i}" if k % 2 else i for k, i in enumerate(test["item"])]))
    assert strangers_warning("m", model, half_new) is None  # half or more known: a split of the same data
    new_users = type(split.test)(test.assign(user="new-" + test["user"]))
    assert "m knows none of these test users" in strangers_warning("m", model, new_users)


def test_a_seed_given_draws_a_random_split_even_beside_fixed_splits(tmp_path):
    """--seed 3 on a data folder with fixed splits had read split 1 without a word."""
    from tests.cli.invoke import run_cli
    from whyrec.cli.inputs import split_of
    from whyrec.data.synthetic import make_planted_corpus

    folder = tmp_path / "data"
    folder.mkdir()
    make_planted_corpus(n_users=30, n_items=12, reviews_per_user=6, seed=1).corpus.reviews.to_csv(
        folder / "reviews.csv", index=False)
    assert run_cli("data", "split", "--data", str(folder / "reviews.csv"), "--out", str(folder)).returncode == 0
    fixed, drawn = split_of(folder, None, None), split_of(folder, None, 3)
    assert fixed.name.endswith("/1") and drawn.name.endswith("ratio-3")
    assert list(drawn.test.reviews["position"]) != list(fixed.test.reviews["position"])
    assert list(split_of(folder, None, 3).test.reviews["position"]) == list(drawn.test.reviews["position"])
    with pytest.raises(ConfigError, match="--split names a fixed split and --seed draws a random one"):
        split_of(folder, folder / "1", 3)


def test_a_split_folder_that_is_not_there_is_refused_before_reading_and_pointed_at_the_data_folders(tmp_path):
    """--split 1 given from another folder had read the whole review file, then said '1/train.index:
    split index file not found' (experiment rating alike, which does not go through split_of)."""
    from pathlib import Path

    from tests.cli.invoke import run_cli
    from whyrec.cli.inputs import chosen_split_dir
    from whyrec.errors import DataError

    data = tmp_path / "data"
    (data / "1").mkdir(parents=True)
    (data / "1" / "train.index").write_text("0\n")
    (data / "reviews.csv").write_text("not read")
    with pytest.raises(DataError, match=rf"^1: no such split folder; the data folder has a split of that name: "
                                        rf"--split {data / '1'}$"):
        chosen_split_dir(data, Path("1"), None)
    with pytest.raises(DataError, match=r"^9: no such split folder$"):
        chosen_split_dir(data / "reviews.csv", Path("9"), None)  # a file's folder is looked in, as --data's
    assert chosen_split_dir(data, data / "1", None) == data / "1" and chosen_split_dir(data, None, None) == data / "1"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in (("train", "bias-baseline", "--out", "b"), ("experiment", "rating", "--out", "r")):
        proc = run_cli(*command, "--data", str(data), "--split", "1", cwd=elsewhere)
        assert proc.returncode == 2 and proc.stderr == (f"error: 1: no such split folder; the data folder has a "
                                                        f"split of that name: --split {data / '1'}\n"), proc.stderr


def test_around_training_data_warnings_are_lines_and_others_are_shown_as_python_shows_them(capsys, monkeypatch):
    """A library's warning raised every step stays one warning (Python's filters hold), while
    whyrec's DataWarning becomes a ``warning:`` line after the block."""
    import warnings

    from whyrec.cli.inputs import data_warnings_as_lines
    from whyrec.errors import DataWarning

    shown = []
    monkeypatch.setattr(warnings, "showwarning", lambda message, category, *where: shown.append((category, message)))
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # Python's own filter for a UserWarning, as the command line has it
        with data_warnings_as_lines():
            warnings.warn(DataWarning("PETER: 4 of 44 validation records ..."))
            for _ in range(5):  # one place, five times
                warnings.warn("a library's own notice", UserWarning)
            assert capsys.readouterr().err == "" and shown == []  # after the block, not over a status line
    assert capsys.readouterr().err == "warning: PETER: 4 of 44 validation records ...\n"
    assert [(category, str(message)) for category, message in shown] == [(UserWarning, "a library's own notice")]


def test_an_unknown_duplicates_policy_is_refused_naming_the_known_ones(tmp_path):
    from tests.cli.invoke import assert_one_line_error, run_cli

    data = tmp_path / "reviews.csv"
    data.write_text("user,item,rating,text\nu1,i1,5,great strap\n", encoding="utf-8")
    assert_one_line_error(run_cli("data", "stats", str(data), "--duplicates", "keep-al"),
                          "--duplicates must be one of keep-last, keep-first, keep-all, error, not 'keep-al' "
                          "(did you mean 'keep-all'?)")


def test_a_file_of_which_no_review_is_kept_is_refused_before_any_work(tmp_path):
    """A file whose every record is skipped (ratings out of scale) had gone on to a 0/0/0 split,
    feature extraction and "the training data is empty", and `data split` wrote five empty
    splits; it is refused as read, with what reading it skipped. `data stats` still reports it."""
    from tests.cli.invoke import assert_one_line_error, run_cli
    from whyrec.cli.inputs import load_reviews
    from whyrec.errors import DataError

    skipped = tmp_path / "ten.csv"
    skipped.write_text("user,item,rating,text\nu1,i1,9,great strap\nu2,i1,10,fine\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("user,item,rating,text\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ten\.csv: no review left to work on \(2 records read, 0 kept, 2 skipped "
                                        r"\(rating out of scale: 9 to 10, outside 1 to 5"):
        load_reviews(skipped, None, None, False, "keep-last")
    with pytest.raises(DataError, match=r"empty\.csv: no review left to work on \(0 records read, 0 kept\)"):
        load_reviews(empty, None, None, False, "keep-last")
    assert len(load_reviews(skipped, None, None, False, "keep-last", scale=(1.0, 10.0))) == 2  # in its scale
    assert len(load_reviews(skipped, None, None, False, "keep-last", summary_shown=True)) == 0  # data stats reports it
    proc = run_cli("data", "split", str(skipped), "--out", str(tmp_path / "splits"))
    assert_one_line_error(proc, "ten.csv: no review left to work on")
    assert not (tmp_path / "splits").exists()
