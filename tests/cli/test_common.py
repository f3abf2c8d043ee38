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

