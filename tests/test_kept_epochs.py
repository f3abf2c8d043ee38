"""The epoch whose state a trained system holds, read back from its history."""

from __future__ import annotations

from whyrec.kept_epochs import NO_VALIDATION, first_lowest_epoch, kept_part, kept_text


def test_the_first_lowest_score_wins_and_unscored_records_are_skipped():
    history = [{"epoch": 1, "v": 3.0}, {"epoch": 2, "v": None}, {"epoch": 3, "v": 2.0}, {"epoch": 4, "v": 2.0}]
    assert first_lowest_epoch(history, lambda r: r["v"]) == 3  # a tie later is not an improvement
    assert first_lowest_epoch(history, lambda r: None) is None
    assert first_lowest_epoch([{"v": 2.0}, {"v": 1.0}], lambda r: r["v"]) == 2  # no epoch key: its place
    assert first_lowest_epoch([], lambda r: 1.0) is None
    nan_first = [{"epoch": 1, "v": float("nan")}, {"epoch": 2, "v": 4.0}]
    assert first_lowest_epoch(nan_first, lambda r: r["v"]) == 2
    gains = [{"epoch": 1, "v": 1.0}, {"epoch": 2, "v": 1.0 - 5e-7}, {"epoch": 3, "v": 0.9}]
    assert first_lowest_epoch(gains, lambda r: r["v"], min_gain=1e-6) == 3
    assert first_lowest_epoch(gains[:2], lambda r: r["v"], min_gain=1e-6) == 1


def test_without_scores_the_last_epoch_is_kept():
    history = [{"epoch": 5}, {"epoch": 6}]  # as resumed: epochs need not start at 1
    assert kept_part("transformer", history, lambda r: r.get("v"), "lowest v") == \
        {"part": "transformer", "epoch": 6, "by": NO_VALIDATION}
    assert kept_part("transformer", [*history, {"epoch": 9}], lambda r: r.get("v"), "lowest v")["epoch"] == 9
    assert kept_part("transformer", history + [{"epoch": 7, "v": 1.0}], lambda r: r.get("v"), "lowest v") == \
        {"part": "transformer", "epoch": 7, "by": "lowest v"}


def test_parts_kept_from_one_epoch_by_one_rule_are_named_together():
    a = {"part": "rating model", "epoch": 2, "by": "lowest validation RMSE"}
    b = {"part": "generators", "epoch": 3, "by": "lowest validation NLL"}
    assert kept_text([a, b]) == ("the rating model of epoch 2 (lowest validation RMSE), "
                                 "the generators of epoch 3 (lowest validation NLL)")
    same = [dict(a, by=NO_VALIDATION), dict(b, epoch=2, by=NO_VALIDATION)]
    assert kept_text(same) == f"the rating model and the generators of epoch 2 ({NO_VALIDATION})"
    assert kept_text([]) == ""
