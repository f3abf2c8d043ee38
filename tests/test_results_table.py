"""Results tables: saved as strict JSON, charts wrapped into rows, n/a for what is undefined."""

import json

import numpy as np


def test_a_metric_without_data_is_saved_as_null(tmp_path):
    """FMR without a feature set is NaN; results.json stays JSON a strict parser reads."""
    import math

    import numpy as np

    from whyrec.results_table import ResultsTable, SystemResult

    row = SystemResult("MT-P", {}, [{"rmse": 0.9, "fmr": math.nan, "train_s": 1.0, "test_s": 0.1}], [np.ones(3)])
    folder = ResultsTable([row], ["rmse", "fmr"], None, ["1"]).save(tmp_path / "run")
    text = (folder / "results.json").read_text()
    saved = json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert saved["systems"][0]["folds"][0]["fmr"] is None and saved["systems"][0]["mean"]["rmse"] == 0.9


def test_charts_of_several_metrics_wrap_into_rows_and_say_what_is_undefined(tmp_path):
    """metrics.png has a chart per panel metric, four to a row; NaN is "n/a" in the tables."""
    import math

    import pytest
    from matplotlib.image import imread

    from whyrec.errors import ConfigError
    from whyrec.results_table import ResultsTable, SystemResult

    metrics = ["rmse", "bleu1", "rougeL", "usr", "fmr", "div", "acc5", "mi_rating"]
    folds = [{**{m: 0.5 + n / 10 for m in metrics}, "fmr": math.nan, "mi_rating": -0.2, "train_s": 1.0,
              "test_s": 0.1} for n in range(2)]
    rows = [SystemResult(name, {}, folds, [np.ones(3)]) for name in ("MT-U", "MT-I", "PETER+")]
    wide = ResultsTable(rows, metrics, None, ["1", "2"], metrics)
    assert wide.files == ["results.md", "results.csv", "results.json", "config.json", "rmse.png", "metrics.png"]
    folder = wide.save(tmp_path / "run")
    assert [name for name in wide.files if not (folder / name).exists()] == []
    assert "| n/a |" in wide.to_markdown() and ",n/a," in wide.to_csv()
    two_rows = imread(folder / "metrics.png").shape
    one_row = imread(ResultsTable(rows, metrics, None, ["1", "2"], metrics[:4]).plot_panels(tmp_path / "4.png")).shape
    assert two_rows[0] > 1.6 * one_row[0] and two_rows[1] == pytest.approx(one_row[1], abs=2)
    plain = ResultsTable(rows, metrics, None, ["1"])
    assert "metrics.png" not in plain.files and not (plain.save(tmp_path / "plain") / "metrics.png").exists()
    with pytest.raises(ConfigError, match=r"cannot plot \['ppl'\]: the table has rmse, bleu1"):
        plain.plot_panels(tmp_path / "x.png", ["ppl"])


def test_explanation_tests_against_the_reference_are_a_table_of_differences_and_p(tmp_path):
    from whyrec.metrics.significance import PairedDifference
    from whyrec.results_table import ResultsTable, SystemResult

    fold = {"rmse": 0.9, "bleu1": 10.0, "usr": 0.2, "train_s": 1.0, "test_s": 0.1}
    first, second = SystemResult("MT-U", {}, [fold], [np.ones(2)]), SystemResult("PETER", {}, [fold], [np.ones(2)])
    table = ResultsTable([first, second], ["rmse", "bleu1", "usr"], "MT-U", ["1"])
    assert table.text_significance_markdown() == ""  # nothing tested
    second.text_tests = {"bleu1": PairedDifference(-6.774, 0.000999, 1000),
                         "usr": PairedDifference(0.0423, 0.064, 1000), "acc5": PairedDifference(-21.94, 0.0009, 1000)}
    second.text_tested_records = 237
    # read together (Holm): 0.0009 × 3 = 0.0027; 0.000999 × 2 = 0.001998, raised to 0.0027; 0.064 × 1
    assert table.text_significance_markdown().splitlines() == [
        "| system | records | bleu1 | usr | acc5 |", "|---|---|---|---|---|",
        "| PETER | 237 | -6.77 (p 0.001) | +0.042 (p 0.064) | -21.9 (p 0.001) |", "",
        "Read together (Holm's adjustment of the table's 3 p-values), 2 of 3 differences keep an adjusted "
        "p ≤ 0.05: PETER: bleu1, acc5"]
    assert "1,000 random swaps" in table.text_significance_title()
    saved = json.loads((table.save(tmp_path / "run") / "results.json").read_text())["systems"]
    assert "text_tests" not in saved[0]
    assert saved[1]["text_tests"] == {"records": 237, "tests": {
        "bleu1": {"difference": -6.774, "p": 0.000999, "assignments": 1000, "exact": False, "p_holm": 0.0027},
        "usr": {"difference": 0.0423, "p": 0.064, "assignments": 1000, "exact": False, "p_holm": 0.064},
        "acc5": {"difference": -21.94, "p": 0.0009, "assignments": 1000, "exact": False, "p_holm": 0.0027}}}
    assert table.text_significance_title() in (tmp_path / "run" / "results.md").read_text()


def test_the_note_under_tested_differences_says_when_none_can_keep_a_low_adjusted_p():
    from whyrec.metrics.significance import PairedDifference
    from whyrec.results_table import holm_note, randomization_holm_note

    sixty = {f"m{n}": PairedDifference(1.0, 1 / 1001, 1000) for n in range(60)}  # each at the smallest p of 1,000
    assert randomization_holm_note([("A", sixty)]) == (
        "Read together (Holm's adjustment of the table's 60 p-values), no difference can keep an adjusted p ≤ 0.05: "
        "the smallest p these tests give is 0.000999, and 60 × 0.000999 is above 0.05 (more --trials lower it)")
    exact = {m: PairedDifference(1.0, 0.5, 4, exact=True) for m in ("bleu1", "usr")}  # 2 records: 2 / 2² at least
    assert randomization_holm_note([("A", exact)]).endswith("(an exact test of so few records gives none lower)")
    assert randomization_holm_note([("A", {}), ("B", {})]) == ""
    weak = {"bleu1": 0.03, "usr": 0.04}
    assert holm_note([("A", weak)], str.upper) == (
        "Read together (Holm's adjustment of the table's 2 p-values), no difference keeps an adjusted p ≤ 0.05")
    assert holm_note([("A", {"usr": 0.001}), ("B", {})]) == ""  # one test: nothing to adjust
    assert holm_note([("A", {"usr": 0.001, "fmr": float("nan")})]) == ""  # an untested metric is no test
    both = {"bleu1": 0.01, "usr": 0.02}
    assert holm_note([("A", both), ("B", {"fcr": 0.5})], str.upper).endswith(
        "2 of 3 differences keep an adjusted p ≤ 0.05: A: BLEU1, USR")  # 0.01 × 3, 0.02 × 2, 0.5 × 1
