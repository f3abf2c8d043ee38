"""What the commands print: consoles, status lines, progress with the time left."""

from __future__ import annotations

import io

from rich.console import Console

from whyrec.cli.output import EpochProgress, console, duration_text, print_error, print_warning, status


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
    from whyrec.cli.output import Throttled

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
    from whyrec.cli.output import TimeLeft

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


def test_a_results_table_is_boxed_on_a_terminal_and_markdown_elsewhere(monkeypatch, capsys):
    import numpy as np

    import whyrec.cli.output as output
    from whyrec.cli.output import print_table
    from whyrec.results_table import ResultsTable, SystemResult

    fold = {"rmse": 0.91234, "mae": 0.7, "train_s": 1.0, "test_s": 0.1}
    table = ResultsTable([SystemResult("MT [mess]", {}, [fold], [np.ones(2)])], ["rmse", "mae"], "MT [mess]", ["1"])
    print_table(table, "rating prediction")  # captured: not a terminal
    assert capsys.readouterr().out == f"rating prediction\n{table.to_markdown()}\n"
    screen = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None, markup=False)
    monkeypatch.setattr(output, "console", lambda: screen)
    print_table(table, "rating prediction")
    lines = screen.file.getvalue().splitlines()
    assert lines[0].strip() == "rating prediction" and "|---" not in screen.file.getvalue()
    header = next(line for line in lines if "system" in line)
    row = next(line for line in lines if line.startswith("│ MT [mess]"))  # an id with brackets, shown as it is
    assert header.startswith("┃") and [c.strip() for c in header.strip("┃").split("┃")][:2] == ["system", "rmse"]
    assert [c.strip() for c in row.strip("│").split("│")][:3] == ["MT [mess]", "0.9123", "0.7000"]


def test_the_lines_reading_the_rating_p_values_together_follow_the_table(monkeypatch, capsys):
    import numpy as np

    import whyrec.cli.output as output
    from whyrec.cli.output import print_table
    from whyrec.results_table import ResultsTable, SystemResult

    fold = {"rmse": 0.9, "train_s": 1.0, "test_s": 0.1}
    rows = [SystemResult(name, {}, [fold], [np.full(2, errors)], p)
            for name, p, errors in [("ALS", None, 1.0), ("PMF", 0.001, 2.0), ("mean", 0.04, 3.0)]]
    table = ResultsTable(rows, ["rmse"], "ALS", ["1"])
    head = "Read together (Holm's adjustment of the 2 p-values in “p vs ALS”), "
    print_table(table, "rating prediction")  # 0.001 × 2 and 0.04 × 1: both at most 0.05
    assert capsys.readouterr().out == (f"rating prediction\n{table.to_markdown()}\n\n"  # an empty line ends the table
                                       f"{head}2 of 2 differences keep an adjusted p ≤ 0.05: PMF; mean\n")
    rows[2].p_value = 0.06
    table.note = "Ranking: every item is in every list."
    screen = Console(file=io.StringIO(), force_terminal=True, width=300, color_system=None, markup=False)
    monkeypatch.setattr(output, "console", lambda: screen)
    print_table(table, "rating prediction")
    assert screen.file.getvalue().splitlines()[-3:] == [
        f"{head}1 of 2 differences keeps an adjusted p ≤ 0.05: PMF", "", "Ranking: every item is in every list."]
