"""The CLI's shared helpers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from whyrec.cli.common import (EpochProgress, check_relevant_at, console, duration_text, mi_encoder, print_error,
                               print_warning, status, strangers_warning)
from whyrec.errors import ConfigError


def test_a_status_line_away_from_a_terminal_prints_each_update_on_stderr(capsys):
    results = io.StringIO()
    with status(Console(file=results, force_terminal=False), "extracting features") as line:
        line.update("extracting features")  # the work's first update says it again: not printed twice
        line.update("training MT: epoch 1/2")
        line.update("training MT: epoch 2/2")
        line.update("training MT: epoch 2/2")
        line.update("extracting features")
    assert capsys.readouterr().err.splitlines() == ["extracting features", "training MT: epoch 1/2",
                                                    "training MT: epoch 2/2", "extracting features"]
    assert results.getvalue() == ""  # stdout keeps the results
    with status(Console(file=results, force_terminal=False, quiet=True), "a torchrun worker") as line:
        line.update("epoch 1")
    assert capsys.readouterr().err == ""



def test_text_is_printed_as_it_is_not_read_as_rich_markup(capsys):
    """Ids, titles, review words and paths reach the consoles: in rich's markup ``[mess]`` vanished,
    ``[/x]`` raised MarkupError, and ``:thumbs_up:`` became an emoji."""
    said = "item [/x] of user [mess], rated :thumbs_up:"
    print_warning(said)
    print_error(said)
    assert capsys.readouterr().err.splitlines() == [f"warning: {said}", f"error: {said}"]
    console().print(said)
    assert capsys.readouterr().out == said + "\n"


def test_a_status_line_on_a_terminal_shows_its_messages_as_they_are():
    with status(Console(file=io.StringIO(), force_terminal=True), "reading [/x]") as line:  # [/x] raised here
        assert line.spinner.renderable.text.plain == "reading [/x]"
        line.update("user [mess] :thumbs_up:")
        assert line.spinner.renderable.text.plain == "user [mess] :thumbs_up:"


def test_throttled_updates_pass_at_most_once_per_interval():
    from whyrec.cli.common import Throttled

    seen, now = [], [0.0]
    throttled = Throttled(seen.append, 30.0, clock=lambda: now[0])
    for t, message in ((1.0, "a"), (29.9, "b"), (30.0, "c"), (45.0, "d"), (61.0, "e")):
        now[0] = t
        throttled(message)
    assert seen == ["c", "e"]
    assert Throttled.every_for(Console(file=io.StringIO(), force_terminal=True)) == 1.0
    assert Throttled.every_for(Console(file=io.StringIO(), force_terminal=False)) == 30.0


def test_counted_work_is_told_its_time_left_at_its_pace_so_far():
    """Timed from the first message of a piece of work (named by the text before its count); a new
    name or a count that went down (the next epoch's) starts anew; nothing for the first 5 s."""
    from whyrec.cli.common import TimeLeft

    now = [0.0]
    left = TimeLeft(clock=lambda: now[0])
    said = []
    for t, message in ((0.0, "MT epoch 1: teacher forcing 0/1,000"), (4.0, "MT epoch 1: teacher forcing 200/1,000"),
                       (10.0, "MT epoch 1: teacher forcing 500/1,000"), (11.0, "MT epoch 1: validation"),
                       (20.0, "MT epoch 2: teacher forcing 0/1,000"), (30.0, "MT epoch 2: teacher forcing 100/1,000"),
                       (40.0, "batch 900/1,000"), (50.0, "batch 950/1,000"), (51.0, "batch 10/1,000"),
                       (57.0, "batch 40/1,000")):
        now[0] = t
        said.append(left(message))
    assert said == ["MT epoch 1: teacher forcing 0/1,000", "MT epoch 1: teacher forcing 200/1,000",
                    "MT epoch 1: teacher forcing 500/1,000 (about 10s more)", "MT epoch 1: validation",
                    "MT epoch 2: teacher forcing 0/1,000", "MT epoch 2: teacher forcing 100/1,000 (about 1m30s more)",
                    "batch 900/1,000", "batch 950/1,000 (about 10s more)", "batch 10/1,000",
                    "batch 40/1,000 (about 3m12s more)"]


def test_training_progress_says_the_epoch_and_the_time_left_at_most():

    assert (duration_text(5), duration_text(125), duration_text(3725)) == ("5s", "2m05s", "1h02m")
    lines = []

    class Status:
        def update(self, message):
            lines.append(message)

    progress = EpochProgress(Status(), "training MT", 10)
    ticks = iter([100.0, 130.0, 400.0])  # started at 100 s; epoch 4 (resumed after 3) ends at 130 s
    progress.started, progress.clock = next(ticks), lambda: next(ticks)
    progress({"epoch": 4}, "valid RMSE 0.9000")
    progress({"epoch": 10}, "valid RMSE 0.8000")  # the last epoch leaves no time to tell
    assert lines == ["training MT: epoch 4/10, valid RMSE 0.9000, at most 3m00s left",
                     "training MT: epoch 10/10, valid RMSE 0.8000"]


def test_work_within_an_epoch_is_shown_at_most_once_per_interval():
    """On data where one epoch takes an hour the line used to say only 'training MT' until it ended."""

    lines, now = [], [0.0]

    class Status:
        def update(self, message):
            lines.append(message)

    progress = EpochProgress(Status(), "training MT", 3, step_every=30.0, clock=lambda: now[0])
    for t, what in ((10.0, "teacher forcing 5/100"), (31.0, "teacher forcing 40/100"), (50.0, "teacher forcing 70/100"),
                    (62.0, "validation")):
        now[0] = t
        progress.step(1, what)
    # 35 steps in 21 s since the phase was first seen: the other 60 take 36 s at that pace
    assert lines == ["training MT: epoch 1/3, teacher forcing 40/100 (about 36s more)",
                     "training MT: epoch 1/3, validation"]
    progress({"epoch": 1}, "valid RMSE 0.9000")
    now[0] = 100.0
    progress.step(2, "ALS update")
    assert lines[-1] == "training MT: epoch 2/3, ALS update (last epoch: valid RMSE 0.9000)"
    for t, what in ((131.0, "batch 1,000/13,000"), (133.0, "batch 2,000/13,000"), (200.0, "batch 4,000/13,000")):
        now[0] = t
        progress.step(2, what)  # a new phase, timed from its own start: 3,000 in 69 s, 9,000 to go
    assert lines[-2:] == ["training MT: epoch 2/3, batch 1,000/13,000 (last epoch: valid RMSE 0.9000)",
                          "training MT: epoch 2/3, batch 4,000/13,000 (about 3m27s more) (last epoch: valid RMSE "
                          "0.9000)"]


def test_a_run_timed_from_its_first_step_leaves_out_the_work_before_its_epochs():
    """`align` pre-trains its estimators before MMI's first epoch: that time is not an epoch's."""
    lines, now = [], [0.0]

    class Status:
        def update(self, message):
            lines.append(message)

    progress = EpochProgress(Status(), "MMI(rating) on MT-P", 4, clock=lambda: now[0], from_first_step=True)
    now[0] = 300.0  # five minutes of pre-training
    progress.step(1, "generator batch 0/10")
    now[0] = 360.0
    progress({"epoch": 1}, "generator")
    assert lines[-1] == "MMI(rating) on MT-P: epoch 1/4, generator, at most 3m00s left"  # not 18m00s


def test_an_output_that_could_not_be_written_is_refused_before_the_work(tmp_path, monkeypatch):
    """An output under a path that is a file, or in a folder without write permission, used to
    fail only when the trained model or the results were written: the work was lost."""
    from whyrec.cli.common import check_checkpoint, check_out, check_writable
    from whyrec.errors import ConfigError

    note = tmp_path / "notes.txt"
    note.write_text("keep me", encoding="utf-8")
    for out in (note / "run", note / "deep" / "run"):
        with pytest.raises(ConfigError, match=rf"--out {out}: {note} is a file, so no folder can be made in it"):
            check_out(out, None)
    with pytest.raises(ConfigError, match="--records .*notes.txt is a file"):
        check_out(note / "rows.csv", None, folder=False, option="--records")
    with pytest.raises(ConfigError, match="--checkpoint .*notes.txt is a file"):
        check_checkpoint(note / "ck", tmp_path / "bundle", None)
    check_out(tmp_path / "new" / "nested" / "run", None)  # folders still to be made: fine
    check_out(note, None, folder=False, option="--records")  # a file output that exists is overwritten
    check_out(tmp_path, None)  # an existing folder
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != locked)  # as for a user without the right
    with pytest.raises(ConfigError, match=rf"--out {locked / 'run'}: no permission to write in {locked}"):
        check_writable(locked / "run", "--out")
    check_writable(tmp_path / "run", "--out")


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


def test_an_option_that_only_steers_another_is_refused_without_it():
    """--encoder is read by --mi only, --relevant-at by ranking only: alone, each was left unread."""
    assert mi_encoder(True, None) == "minilm" and mi_encoder(True, "words") == "words"
    assert mi_encoder(False, None) is None
    with pytest.raises(ConfigError, match="--encoder chooses what --mi's estimators read; give --mi too"):
        mi_encoder(False, "words")
    with pytest.raises(ConfigError, match="sentence encoder must be 'minilm' or 'words'"):
        mi_encoder(True, "wrds")
    check_relevant_at(None, None)
    check_relevant_at(3.0, 5)
    check_relevant_at(3.0, None, "ndcg@10")  # experiment rating: a ranking metric picks the settings
    with pytest.raises(ConfigError, match="give --top-k$"):
        check_relevant_at(3.0, None)
    with pytest.raises(ConfigError, match="give --top-k or a ranking --tune-on such as ndcg@10"):
        check_relevant_at(3.0, None, "mae")


def test_a_seed_given_draws_a_random_split_even_beside_fixed_splits(tmp_path):
    """--seed 3 on a data folder with fixed splits had read split 1 without a word."""
    from tests.cli.invoke import run_cli
    from whyrec.cli.common import split_of
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
