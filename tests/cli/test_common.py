"""The CLI's shared helpers."""

from __future__ import annotations

import io

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
