"""The CLI's shared helpers."""

from __future__ import annotations

import io

from rich.console import Console
from rich.status import Status

from whyrec.cli.common import mt_epoch_text, status


def test_an_mt_epoch_line_gives_rmse_nll_discriminator_accuracy_and_phase():
    record = {"epoch": 4, "valid_rmse": 0.65214, "valid_nll_user": 4.0, "valid_nll_pair": 5.0, "nll_pair": 9.0,
              "d_acc_pair": 0.625, "adversarial": 1}
    assert mt_epoch_text(record) == "valid RMSE 0.6521, valid NLL 4.500, D acc 0.62, adversarial"
    # without a validation part: the training NLL; before the adversarial phase: no accuracy, no mark
    record = {"epoch": 1, "valid_rmse": None, "nll_user": 5.0, "nll_item": 6.0, "adversarial": 0}
    assert mt_epoch_text(record) == "no validation part, train NLL 5.500"


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

