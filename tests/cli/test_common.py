"""The CLI's shared helpers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.status import Status

from whyrec.cli.common import status


def test_a_status_line_away_from_a_terminal_prints_each_update_on_stderr(capsys):
    assert isinstance(status(Console(file=io.StringIO(), force_terminal=True), "working"), Status)
    results = io.StringIO()
    with status(Console(file=results, force_terminal=False), "extracting features") as line:
        line.update("training MT: epoch 1/2")
        line.update("training MT: epoch 2/2")
    assert capsys.readouterr().err.splitlines() == ["extracting features", "training MT: epoch 1/2",
                                                    "training MT: epoch 2/2"]
    assert results.getvalue() == ""  # stdout keeps the results
    with status(Console(file=results, force_terminal=False, quiet=True), "a torchrun worker") as line:
        line.update("epoch 1")
    assert capsys.readouterr().err == ""



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
        check_checkpoint(note / "ck", tmp_path / "bundle")
    check_out(tmp_path / "new" / "nested" / "run", None)  # folders still to be made: fine
    check_out(note, None, folder=False, option="--records")  # a file output that exists is overwritten
    check_out(tmp_path, None)  # an existing folder
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != locked)  # as for a user without the right
    with pytest.raises(ConfigError, match=rf"--out {locked / 'run'}: no permission to write in {locked}"):
        check_writable(locked / "run", "--out")
    check_writable(tmp_path / "run", "--out")
