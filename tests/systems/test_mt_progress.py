"""An MT epoch as a progress line."""

from __future__ import annotations

from whyrec.systems.mt_progress import mt_epoch_text


def test_an_mt_epoch_line_gives_rmse_nll_discriminator_accuracy_and_phase():
    record = {"epoch": 4, "valid_rmse": 0.65214, "valid_nll_user": 4.0, "valid_nll_pair": 5.0, "nll_pair": 9.0,
              "d_acc_pair": 0.625, "adversarial": 1}
    assert mt_epoch_text(record) == "valid RMSE 0.6521, valid NLL 4.500, D acc 0.62, adversarial"
    # without a validation part: the training NLL; before the adversarial phase: no accuracy, no mark
    record = {"epoch": 1, "valid_rmse": None, "nll_user": 5.0, "nll_item": 6.0, "adversarial": 0}
    assert mt_epoch_text(record) == "no validation part, train NLL 5.500"
