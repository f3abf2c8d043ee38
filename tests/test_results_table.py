"""Results tables: saved as strict JSON, charts wrapped into rows, n/a for what is undefined."""

import json

import numpy as np
import pytest

from tests.conftest import disk_full, strict_loads


def test_a_metric_without_data_is_saved_as_null(tmp_path):
    """FMR without a feature set is NaN; results.json stays JSON a strict parser reads."""
    import math

    import numpy as np

    from whyrec.results_table import ResultsTable, SystemResult

    row = SystemResult("MT-P", {}, [{"rmse": 0.9, "fmr": math.nan, "train_s": 1.0, "test_s": 0.1}], [np.ones(3)])
    folder = ResultsTable([row], ["rmse", "fmr"], None, ["1"]).save(tmp_path / "run")
    text = (folder / "results.json").read_text()
    saved = strict_loads(text)
    assert saved["systems"][0]["folds"][0]["fmr"] is None and saved["systems"][0]["mean"]["rmse"] == 0.9


def test_a_save_the_disk_refuses_partway_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """The tables were written one by one: a disk full at the chart left this run's tables beside
    the last run's chart and config. Now they are renamed into place together; and the charts
    are PNGs, drawn under a temporary name."""
    from whyrec.results_table import ResultsTable, SystemResult

    rows = [SystemResult(name, {"k": k}, [{"rmse": rmse, "train_s": 1.0, "test_s": 0.1}], [np.ones(3)])
            for name, k, rmse in (("pmf", 8, 0.95), ("bias", 0, 0.97))]
    table = ResultsTable(rows, ["rmse"], None, ["1"])
    folder = table.save(tmp_path / "run", title="last run")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(before) == sorted(table.files) and before["rmse.png"].startswith(b"\x89PNG")

    def refused(self, path, metric="rmse", format=None):
        path.write_bytes(b"half")
        raise disk_full()

    monkeypatch.setattr(ResultsTable, "plot", refused)
    rows[0].per_fold[0]["rmse"] = 0.90
    with pytest.raises(OSError, match="No space left") as error:
        table.save(folder, title="this run")
    assert error.value.filename == str(folder / "rmse.png")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_printed_table_and_a_notebooks_view_of_it_are_the_report_results_md_holds(tmp_path):
    """print(table) had given the dataclass' fields, per-fold floats and all, not the table."""
    from whyrec.results_table import ResultsTable, SystemResult

    rows = [SystemResult(name, {}, [{"rmse": rmse, "train_s": 1.0, "test_s": 0.1}], [np.ones(3)])
            for name, rmse in (("bias", 0.97), ("pmf", 0.95))]
    table = ResultsTable(rows, ["rmse"], None, ["1"], note="Measured on split 1.")
    saved = (table.save(tmp_path / "run") / "results.md").read_text()
    assert str(table) + "\n" == table._repr_markdown_() == saved
    assert str(table).splitlines()[2].startswith("| bias | 0.9700 |") and str(table).endswith("Measured on split 1.")


def test_errors_are_dots_on_an_axis_that_holds_their_whiskers_and_other_metrics_bars_from_zero():
    """RMSE was a bar on an axis from 0.9 × the lowest mean: a bar twice another's height for an
    error a fifth larger, and the whiskers cut off below the axis."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from whyrec.results_table import ResultsTable, SystemResult

    rmse = {"mean": [0.5249, 0.4051, 0.4388], "sd": [0.1154, 0.1095, 0.1112]}
    rows = [SystemResult(name, {}, [{"rmse": mean + sign * sd, "bleu1": 10.0 + sign + n, "train_s": 1.0,
                                     "test_s": 0.1} for sign in (-1, 1)], [np.ones(3)])
            for n, (name, mean, sd) in enumerate(zip(["average", "mf", "als"], rmse["mean"], rmse["sd"]))]
    figure = ResultsTable(rows, ["rmse", "bleu1"], None, ["1", "2"])._figure(["rmse", "bleu1"], "compared")
    dots, bars = figure.axes
    sds = [row.std("rmse") for row in rows]
    assert not [p for p in dots.patches if isinstance(p, Rectangle)]  # no bar
    low, high = dots.get_ylim()
    whiskers = [(m - sd, m + sd) for m, sd in zip(rmse["mean"], sds)]
    assert low < min(w[0] for w in whiskers) and high > max(w[1] for w in whiskers)
    assert [t.get_text() for t in dots.texts] == ["0.5249", "0.4051", "0.4388"]
    assert len([p for p in bars.patches if isinstance(p, Rectangle)]) == 3 and bars.get_ylim()[0] == 0.0
    plt.close(figure)


def test_a_cell_that_rounds_to_zero_is_not_printed_as_minus_zero():
    """A MINE estimate of I(R;E)/H(R) just below 0 (it is a lower bound) shows as 0.0000; a clearly
    negative one keeps its sign."""
    from whyrec.results_table import ResultsTable, SystemResult

    rows = [SystemResult("tiny", {}, [{"mi_rating": -4e-6, "train_s": 1.0, "test_s": 0.1}], [np.ones(3)]),
            SystemResult("below", {}, [{"mi_rating": -0.0123, "train_s": 1.0, "test_s": 0.1}], [np.ones(3)])]
    shown = ResultsTable(rows, ["mi_rating"], None, ["1"]).rows()
    assert [row[1] for row in shown] == ["0.0000", "-0.0123"]


def test_charts_of_several_metrics_wrap_into_rows_and_say_what_is_undefined(tmp_path):
    """metrics.png has a chart per panel metric, four to a row; NaN is "n/a" in the tables."""
    import math

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
    # config.json is strict JSON too: a NaN setting is null, not a bare NaN
    config = strict_loads(wide.save(tmp_path / "nan", config={"MT": {"lambda_u": math.nan}}).joinpath("config.json")
                          .read_text())
    assert config == {"MT": {"lambda_u": None}}
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
    # a row writing as the reference does (an aligned bundle's untouched MT-U): its tests (p 1) are no tests
    third = SystemResult("MT-U aligned", {}, [fold], [np.ones(2)], text_tested_records=237, text_as_reference=True,
                         text_tests={m: PairedDifference(0.0, 1.0, 1000) for m in ("bleu1", "usr", "acc5")})
    table.results.append(third)
    assert table.text_significance_markdown().splitlines()[-1] == (
        "Read together (Holm's adjustment of the table's 3 p-values; MT-U aligned writes as MT-U does: no test), "
        "2 of 3 differences keep an adjusted p ≤ 0.05: PETER: bleu1, acc5")  # as before: 3 tests, not 6
    saved = table.to_dict()["systems"]
    assert saved[2]["text_tests"]["as_reference"] is True and "as_reference" not in saved[1]["text_tests"]
    assert {m: t["p_holm"] for m, t in saved[2]["text_tests"]["tests"].items()} == dict.fromkeys(
        ("bleu1", "usr", "acc5"))
    assert saved[1]["text_tests"]["tests"]["bleu1"]["p_holm"] == pytest.approx(0.0027)
    # a row writing as PETER does, not as the reference (PETER in a second bundle): PETER's tests, counted once
    fourth = SystemResult("PETER again", {}, [fold], [np.ones(2)], text_tested_records=237, text_repeats="PETER",
                          text_tests=dict(second.text_tests))
    table.results.append(fourth)
    assert table.text_significance_markdown().splitlines()[-1] == (
        "Read together (Holm's adjustment of the table's 3 p-values; MT-U aligned writes as MT-U does: no test; "
        "PETER again writes as PETER does: PETER's tests, counted once), 2 of 3 differences keep an adjusted "
        "p ≤ 0.05: PETER: bleu1, acc5")
    saved = table.to_dict()["systems"]
    assert saved[3]["text_tests"]["repeats"] == "PETER" and "repeats" not in saved[1]["text_tests"]
    assert saved[3]["text_tests"]["tests"] == saved[1]["text_tests"]["tests"]  # p_holm too: 0.0027, not 0.0036


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
    assert holm_note([("", both)], str.upper, family="the {count} p-values of every metric tested") == (
        "Read together (Holm's adjustment of the 2 p-values of every metric tested), 2 of 2 differences keep an "
        "adjusted p ≤ 0.05: BLEU1, USR")  # one unnamed row (align's change): its tests alone


def test_the_rating_p_values_are_read_together_per_column(tmp_path):
    """Each column of rating p-values against the reference is a family of its own (the pooled
    test and the test over splits are two tests of the same differences): a line under the table
    per column, and each row's adjusted p in results.json."""
    from whyrec.results_table import ResultsTable, SystemResult

    def row(name: str, pooled: float | None, over_splits: float | None, errors: float = 1.0) -> SystemResult:
        folds = [{"rmse": 0.9, "train_s": 1.0, "test_s": 0.1}] * 2
        return SystemResult(name, {}, folds, [np.full(2, errors), np.full(3, errors)], pooled, over_splits)

    rows = [row("ALS", None, None), row("PMF", 0.01, 0.04, 2.0), row("SVD", 0.02, 0.2, 3.0),
            row("mean", 0.3, float("nan"), 4.0)]
    table = ResultsTable(rows, ["rmse"], "ALS", ["1", "2"])
    # pooled: 0.01 × 3 = 0.03, 0.02 × 2 = 0.04, 0.3 × 1; over splits (the NaN is no test): 0.04 × 2, 0.2 × 1
    assert table.rating_holm_notes() == [
        "Read together (Holm's adjustment of the 3 p-values in “p vs ALS”), 2 of 3 differences keep an adjusted "
        "p ≤ 0.05: PMF; SVD",
        "Read together (Holm's adjustment of the 2 p-values in “p vs ALS over splits”), no difference keeps an "
        "adjusted p ≤ 0.05"]
    folder = table.save(tmp_path / "run")
    saved = json.loads((folder / "results.json").read_text())["systems"]
    assert [(s["p_holm"], s["p_holm_over_splits"]) for s in saved] == [
        (None, None), (pytest.approx(0.03), pytest.approx(0.08)), (pytest.approx(0.04), pytest.approx(0.2)),
        (pytest.approx(0.3), None)]
    assert (folder / "results.md").read_text().rstrip("\n").split("\n\n")[1:3] == table.rating_holm_notes()
    one_split = ResultsTable(rows[:2] + [row("SVD", 0.5, None, 3.0)], ["rmse"], "ALS", ["1"])
    assert one_split.rating_holm_notes() == [
        "Read together (Holm's adjustment of the 2 p-values in “p vs ALS”), 1 of 2 differences keeps an adjusted "
        "p ≤ 0.05: PMF"]  # 0.01 × 2; no column over splits
    assert "p_holm_over_splits" not in one_split.to_dict()["systems"][1]
    assert ResultsTable(rows[:2], ["rmse"], "ALS", ["1", "2"]).rating_holm_notes() == []  # one test each
    no_reference = ResultsTable(rows, ["rmse"], None, ["1", "2"])
    assert no_reference.rating_holm_notes() == [] and "p_holm" not in no_reference.to_dict()["systems"][1]
    # MT-I predicts as MT-U does (one rating model): its p of 1 tests nothing, and is left out of the family
    same = ResultsTable([row("MT-U", None, None), row("MT-I", 1.0, 1.0), row("PETER", 0.03, 0.2, 2.0),
                         row("PMF", 0.02, 0.4, 3.0)], ["rmse"], "MT-U", ["1", "2"])
    assert same.rating_holm_notes()[0] == (
        "Read together (Holm's adjustment of the 2 p-values in “p vs MT-U”; MT-I predicts as MT-U does: no test), "
        "2 of 2 differences keep an adjusted p ≤ 0.05: PETER; PMF")  # with MT-I's 1 in the family: 0.06 and 0.06
    # 0.02 × 2 = 0.04; 0.03 × 1, raised to the 0.04 before it
    adjusted = [s.get("p_holm") for s in same.to_dict()["systems"]]
    assert adjusted[:2] == [None, None] and adjusted[2:] == pytest.approx([0.04, 0.04])
    assert [r[-2:] for r in same.rows()] == [["—", "—"], ["no test", "no test"], ["0.03", "0.2"], ["0.02", "0.4"]]
    same.results[1].squared_errors[1] = np.full(3, 1.5)  # one split's errors differ: another model
    assert "no test" not in same.rating_holm_notes()[0] and same.to_dict()["systems"][1]["p_holm"] == 1.0
    assert same.rows()[1][-2:] == ["1", "1"]
    for r in same.results:  # a table whose rows kept no squared errors cannot tell: every row is tested
        r.squared_errors = []
    assert "no test" not in same.rating_holm_notes()[0] and "3 p-values" in same.rating_holm_notes()[0]

    # MT-U, MT-I and MT-P share one rating model, tested against PETER: one test, counted once, its
    # adjusted p theirs (counted three times it made 0.01 × 4 = 0.04, and PMF's 0.02 × 3 = 0.06)
    repeats = ResultsTable([row("PETER", None, None), row("MT-U", 0.01, 0.3, 2.0), row("MT-I", 0.01, 0.3, 2.0),
                            row("PMF", 0.02, 0.4, 3.0), row("MT-P", 0.01, 0.3, 2.0)], ["rmse"], "PETER", ["1", "2"])
    assert repeats.rating_holm_notes()[0] == (
        "Read together (Holm's adjustment of the 2 p-values in “p vs PETER”; MT-I, MT-P predict as MT-U does: "
        "MT-U's test, counted once), 2 of 2 differences keep an adjusted p ≤ 0.05: MT-U; PMF")
    adjusted = [(s.get("p_holm"), s.get("p_holm_over_splits")) for s in repeats.to_dict()["systems"]]
    assert adjusted[0] == (None, None) and adjusted[1] == adjusted[2] == adjusted[4]
    assert [a[0] for a in adjusted[1:4]] == pytest.approx([0.02, 0.02, 0.02])  # 0.01 × 2; 0.02 × 1
    assert [a[1] for a in adjusted[1:4]] == pytest.approx([0.6, 0.6, 0.6])  # 0.3 × 2; 0.4 × 1, raised to 0.6
    repeats.results[4].squared_errors[0] = np.full(2, 2.5)  # MT-P's own model after all: a test of its own
    assert "3 p-values" in repeats.rating_holm_notes()[0] and "MT-I predicts as MT-U does" in \
        repeats.rating_holm_notes()[0]


def test_the_p_values_by_activity_group_are_read_together_per_kind():
    """RMSE by activity: the first p of each cell (paired t-tests) is a family over every system's
    every group, the second (over splits) another; a group without a test is none of either."""
    from whyrec.results_table import ResultsTable, SystemResult

    def row(name: str, tests: dict[str, tuple]) -> SystemResult:
        kinds = ("p_vs_reference", "p_over_splits")
        groups = {g: {"rmse": 1.0, "count": 9, **({} if p is None else dict(zip(kinds, p)))} for g, p in tests.items()}
        errors = [np.full(4, float(ord(name[0])))] * 2  # each row's own model
        return SystemResult(name, {}, [{"rmse": 1.0, "train_s": 1.0, "test_s": 0.1}] * 2, errors, by_activity=groups)

    rows = [row("ALS", dict.fromkeys(["0", "1–2", "3+"])),
            row("PMF", {"0": (0.004, 0.3), "1–2": (0.02, None), "3+": (None, None)}),
            row("mean", {"0": (0.01, 0.02), "1–2": (0.5, 0.9), "3+": (0.011, 0.04)})]
    table = ResultsTable(rows, ["rmse"], "ALS", ["1", "2"])
    # first p: 0.004 × 5 = 0.02, 0.01 × 4 = 0.04, 0.011 × 3 = 0.033 → 0.04, 0.02 × 2 = 0.04, 0.5;
    # second p: 0.02 × 4 = 0.08 and the rest higher
    assert table.activity_markdown().split("\n\n")[1:] == [
        "Read together (Holm's adjustment of the first p of each cell, 5 paired t-tests), 4 of 5 differences keep "
        "an adjusted p ≤ 0.05: PMF: 0 ratings, 1–2 ratings; mean: 0 ratings, 3+ ratings",
        "Read together (Holm's adjustment of the second p of each cell, 4 tests over the splits), no difference "
        "keeps an adjusted p ≤ 0.05"]
    saved = [s.get("rmse_by_activity") for s in table.to_dict()["systems"]]
    assert all("p_holm" not in entry for entry in saved[0].values())  # the reference's own row
    assert saved[1]["0"]["p_holm"] == pytest.approx(0.02) and saved[1]["1–2"]["p_holm_over_splits"] is None
    assert saved[2]["3+"]["p_holm"] == pytest.approx(0.04)
    assert saved[2]["0"]["p_holm_over_splits"] == pytest.approx(0.08)
    assert saved[1]["3+"]["p_holm"] is None  # a group of too few records: no test
    assert "p_holm" not in rows[2].by_activity["0"]  # the table's rows are left as they were
    # a row predicting as the reference does (an aligned bundle keeping its ratings): its groups' p of 1 are no tests
    table.results.append(row("Aligned ALS", {"0": (1.0, 1.0), "1–2": (1.0, 1.0), "3+": (1.0, 1.0)}))
    assert table.activity_markdown().split("\n\n")[1] == (
        "Read together (Holm's adjustment of the first p of each cell, 5 paired t-tests; Aligned ALS predicts as ALS "
        "does: no test), 4 of 5 differences keep an adjusted p ≤ 0.05: PMF: 0 ratings, 1–2 ratings; mean: 0 ratings, "
        "3+ ratings")
    assert table.to_dict()["systems"][3]["rmse_by_activity"]["0"]["p_holm"] is None
    # a row repeating another's tests (the same rating model): its groups count once, with that row's adjusted p
    table.results.append(row("PMF again", {"0": (0.004, 0.3), "1–2": (0.02, None), "3+": (None, None)}))
    table.results[-1].squared_errors = table.results[1].squared_errors
    assert table.activity_markdown().split("\n\n")[1].startswith(
        "Read together (Holm's adjustment of the first p of each cell, 5 paired t-tests; Aligned ALS predicts as ALS "
        "does: no test; PMF again predicts as PMF does: PMF's test, counted once), 4 of 5 differences keep")
    saved = [s.get("rmse_by_activity") for s in table.to_dict()["systems"]]
    assert saved[4] == saved[1] and saved[4]["0"]["p_holm"] == pytest.approx(0.02)


def test_a_rows_cells_are_the_mean_and_over_several_folds_its_sample_sd():
    from whyrec.results_table import ResultsTable, SystemResult

    one = SystemResult("one", {}, [{"rmse": 0.9, "train_s": 1.234, "test_s": 0.1234}])
    two = SystemResult("two", {}, [{"rmse": 1.0, "train_s": 1.0, "test_s": 0.1},
                                   {"rmse": 3.0, "train_s": 3.0, "test_s": 0.3}])
    assert one.std("rmse") == 0.0 and two.std("rmse") == pytest.approx(2 ** 0.5)  # ddof 1: √((1 + 1) / 1)
    table = ResultsTable([one, two], ["rmse"], None, ["1", "2"])
    assert table.rows() == [["one", "0.9000", "1.23", "0.123"],
                            ["two", "2.0000 ± 1.4142", "2.00 ± 1.41", "0.200 ± 0.141"]]
    assert table.best("rmse").system == "one" and table.best("train_s").system == "one"


def test_holms_note_at_exactly_the_level():
    """A floor whose product with the count is exactly 0.05 still lets a test keep p ≤ 0.05, and
    an adjusted p of exactly 0.05 keeps it (0.025 × 2 tests)."""
    from whyrec.results_table import holm_note

    assert holm_note([("A", {"a": 0.025, "b": 0.5})], floor=0.025).endswith(
        "1 of 2 differences keeps an adjusted p ≤ 0.05: A: a")


def test_the_activity_tables_title_says_what_its_p_values_are():
    from whyrec.results_table import ACTIVITY_TITLE, ResultsTable, SystemResult

    def table(entry: dict) -> ResultsTable:
        row = SystemResult("MT", {}, [{"rmse": 1.0, "train_s": 1.0, "test_s": 0.1}],
                           by_activity={"1–2": {"count": 4, "rmse": 1.1, **entry}})
        return ResultsTable([row], ["rmse"], "PMF", ["1"])

    pooled = "; p: paired t-test against PMF on the group's records"
    assert table({}).activity_title() == ACTIVITY_TITLE
    assert table({"p_vs_reference": 0.2}).activity_title() == ACTIVITY_TITLE + pooled
    assert table({"p_vs_reference": 0.2, "p_over_splits": 0.4}).activity_title().startswith(
        ACTIVITY_TITLE + pooled + " of all splits / corrected resampled t-test over the splits' group MSEs")
