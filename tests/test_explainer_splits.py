"""Keeping each split's part of `experiment explain --splits` and reading it back."""

import json
import math

import numpy as np
import pytest

from tests.conftest import traded_split
from whyrec.data.split import Split
from whyrec.explainer_experiment import combine_splits
from whyrec.explainer_splits import flattened, kept_or_why_not, save_split_result, split_result_path
from whyrec.results_table import ResultsTable, SystemResult

SETTINGS = {"systems": ["mt"], "mt": {"epochs": 2, "variants": ("pair",)}, "decoding": None}


def _table(split: Split, shift: float) -> ResultsTable:
    groups = np.array(["0", "1–2", "1–2"])
    rows = [SystemResult(name, {"epochs": 2}, [{"rmse": 1.0 + shift + k, "fmr": math.nan, "train_s": 3.0, "test_s": 0.5}],
                         [np.array([0.25, 1.0, 2.25]) * (k + 1) + shift],
                         by_activity={"0": {"count": 1, "rmse": 0.5}, "1–2": {"count": 2, "rmse": 1.5}},
                         activity_groups=[groups])
            for k, name in enumerate(("MT-U", "MT-P"))]
    return ResultsTable(rows, ["rmse", "fmr"], "MT-U", [split.name], ["rmse"], "a note")


def test_a_kept_split_reads_back_as_it_was_and_combines_the_same(tmp_path, tiny_split):
    splits = [Split(tiny_split.train, tiny_split.valid, tiny_split.test, f"toys/{n}") for n in (1, 2)]
    tables = [_table(split, 0.1 * n) for n, split in enumerate(splits)]
    records = [{"user": "u1", "item": "i1", "explanation_MT-P": "great", "predicted": 4.5}]
    for split, table in zip(splits, tables):
        save_split_result(split_result_path(tmp_path, split), table, records, split, SETTINGS)
    assert sorted(p.name for p in (tmp_path / "splits").iterdir()) == ["1.json", "2.json"]  # no partial file left
    back = [kept_or_why_not(split_result_path(tmp_path, split), split, SETTINGS)[0] for split in splits]
    assert all(b is not None and b[1] == records for b in back)
    first = back[0][0].results[1]
    assert first.per_fold[0]["rmse"] == 2.0 and math.isnan(first.per_fold[0]["fmr"])  # NaN, written null
    assert back[0][0].note == "a note" and back[0][0].reference == "MT-U"
    original, again = combine_splits(tables, splits), combine_splits([b[0] for b in back], splits)
    assert json.dumps(again.to_dict(), default=str) == json.dumps(original.to_dict(), default=str)
    assert again.results[1].p_value_over_splits == original.results[1].p_value_over_splits is not None
    assert again.activity_markdown() == original.activity_markdown()


def test_a_kept_single_split_keeps_its_explanation_tests(tmp_path, tiny_split):
    """`--splits 1 --resume`: the one split's table is the run's, its tests against the first row with it."""
    from whyrec.metrics.significance import PairedDifference

    split = Split(tiny_split.train, tiny_split.valid, tiny_split.test, "toys/1")
    table = _table(split, 0.0)
    table.results[1].text_tests = {"bleu1": PairedDifference(-1.5, 0.02, 1000),
                                   "acc5": PairedDifference(3.0, 1.0, 8, True)}
    table.results[1].text_tested_records = 3
    table.results[1].text_as_reference = True
    table.results[0].text_repeats = "a row before"  # as a table of three rows would mark its third
    save_split_result(split_result_path(tmp_path, split), table, [], split, SETTINGS)
    back = kept_or_why_not(split_result_path(tmp_path, split), split, SETTINGS)[0][0]
    assert back.results[1].text_tests == table.results[1].text_tests and back.results[1].text_tested_records == 3
    assert back.results[1].text_as_reference and not back.results[0].text_as_reference
    assert back.results[0].text_repeats == "a row before" and back.results[1].text_repeats is None
    assert back.text_significance_markdown() == table.text_significance_markdown() != ""
    assert back.results[0].text_tests == {}


def test_a_kept_split_is_not_read_back_for_other_settings_another_split_or_a_torn_file(tmp_path, tiny_split):
    split = Split(tiny_split.train, tiny_split.valid, tiny_split.test, "toys/1")
    path = split_result_path(tmp_path, split)
    assert kept_or_why_not(path, split, SETTINGS)[0] is None  # nothing kept yet
    save_split_result(path, _table(split, 0.0), [], split, SETTINGS)
    assert kept_or_why_not(path, split, {**SETTINGS, "mt": {"epochs": 3}})[0] is None
    assert kept_or_why_not(path, Split(split.train, split.valid, split.test, "toys/2"), SETTINGS)[0] is None
    fewer = Split(split.train, split.valid, split.test.take(np.arange(len(split.test) - 1)), "toys/1")
    assert kept_or_why_not(path, fewer, SETTINGS)[0] is None  # the same name, other records
    # the same name and sizes, other records (as from a data file changed in place): one train and
    # one test record traded
    assert kept_or_why_not(path, traded_split(split), SETTINGS)[0] is None
    assert kept_or_why_not(path, split, SETTINGS)[0] is not None
    kept = json.loads(path.read_text())
    for edit in ({"metrics": ["rmse", "bleu"]},  # a value changed by hand, which parses
                 {"rows": [{**kept["rows"][0], "per_fold": [{"rmse": "1.0"}]}]},  # was a traceback on combining
                 {"rows": [{**kept["rows"][0], "by_activity": []}]},  # AttributeError, uncaught, before the digest
                 {"sha256": "0" * 64}):
        path.write_text(json.dumps({**kept, **edit}))
        assert kept_or_why_not(path, split, SETTINGS)[0] is None, edit
    path.write_text(json.dumps(kept))  # re-spaced, as an editor might save it: the content is what is digested
    assert kept_or_why_not(path, split, SETTINGS)[0] is not None
    del kept["sha256"]  # kept before the digest was: read as it is
    path.write_text(json.dumps(kept))
    assert kept_or_why_not(path, split, SETTINGS)[0][0].metrics == ["rmse", "fmr"]
    path.write_text(path.read_text()[:100])
    assert kept_or_why_not(path, split, SETTINGS)[0] is None


def test_a_kept_split_not_read_back_says_why(tmp_path, tiny_split):
    split = Split(tiny_split.train, tiny_split.valid, tiny_split.test, "toys/1")
    path = split_result_path(tmp_path, split)
    assert kept_or_why_not(path, split, SETTINGS) == (None, None)  # nothing kept: nothing to tell
    save_split_result(path, _table(split, 0.0), [], split, SETTINGS)
    assert kept_or_why_not(path, split, SETTINGS)[1] is None
    for other_split, settings, why in (
            (split, {**SETTINGS, "mt": {"epochs": 3, "variants": ("pair",)}},
             "was made with other settings (mt.epochs: 2 there, 3 now)"),
            (split, {**SETTINGS, "decoding": "beam search (beam 4)", "mi": True},
             "was made with other settings (decoding: None there, 'beam search (beam 4)' now; mi: unset there, True "
             "now)"),
            (Split(split.train, split.valid, split.test, "toys/2"), SETTINGS, "holds split toys/1, not toys/2"),
            (traded_split(split), SETTINGS, "holds other records under the name toys/1")):
        assert kept_or_why_not(path, other_split, settings) == (None, why)
    kept = json.loads(path.read_text())
    path.write_text(json.dumps({**kept, "note": "edited"}))
    assert kept_or_why_not(path, split, SETTINGS) == (None, "changed since it was written")
    del kept["sha256"], kept["rows"]  # kept before the digest was, and damaged
    path.write_text(json.dumps(kept))
    assert kept_or_why_not(path, split, SETTINGS) == (None, "holds no kept split (KeyError: 'rows')")
    for text, why in (("[1]", "holds no kept split"), ("{", "is not readable JSON")):
        path.write_text(text)
        assert kept_or_why_not(path, split, SETTINGS) == (None, why)
    assert kept_or_why_not(tmp_path, split, SETTINGS)[1].startswith("cannot be read (")  # a folder, say


def test_nested_settings_are_flattened_to_name_the_one_that_differs():
    assert flattened({"mt": {"epochs": 3, "lr": {"d": 1}}, "peter": {}, "mi": None}) == \
        {"mt.epochs": 3, "mt.lr.d": 1, "peter": {}, "mi": None}


def test_compare_over_splits_keeps_each_split_and_a_resumed_run_trains_none_again(tmp_path, tiny_split):
    from whyrec.explainer_splits import compare_over_splits
    from whyrec.systems.peter import Peter, PeterConfig

    splits = [Split(tiny_split.train, tiny_split.valid, tiny_split.test, f"toys/{n}") for n in (1, 2)]
    built = []

    def unfitted() -> dict:
        built.append(1)
        return {"PETER": Peter(PeterConfig(epochs=1, emsize=16, ffn=32, seed=len(built))),
                "PETER+": Peter(PeterConfig(epochs=1, emsize=16, ffn=32, seed=len(built), use_feature=True))}

    settings = {"systems": ["peter", "peter+"], "peter": {"epochs": 1}}
    progress, steps, logged = [], [], []
    table, records = compare_over_splits(splits, unfitted, keep_in=tmp_path, settings=settings,
                                         on_progress=progress.append, on_step=steps.append, log=logged.append,
                                         trials=200)
    assert len(built) == 2 and table.splits == ["toys/1", "toys/2"]
    # PETER+ against PETER over the two splits: the mean of the splits' differences, records swapped within a split
    first, second = table.results
    assert second.text_tested_records > len(tiny_split.test) and "Explanations against PETER" in \
        table.text_significance_title()
    for metric in ("bleu1", "bleu4", "rougeL", "usr", "fmr", "fcr", "acc5"):
        assert second.text_tests[metric].difference == pytest.approx(second.mean(metric) - first.mean(metric)), metric
        assert second.text_tests[metric].assignments == 200
    assert "training PETER (split 2/2)" in progress and "extracting features (split 1/2)" in progress
    assert steps and all(step.endswith(("(split 1/2)", "(split 2/2)")) for step in steps)
    assert logged[0].startswith("split toys/1: train ") and not any("read back" in m for m in logged)
    assert [r["split"] for r in records].count("toys/2") == len(tiny_split.test)
    assert sorted(p.name for p in (tmp_path / "splits").iterdir()) == ["1.json", "2.json"]

    again, again_records = compare_over_splits(splits, unfitted, keep_in=tmp_path, settings=settings, resume=True,
                                               log=logged.append, trials=200)
    assert len(built) == 2  # both splits read back, no system built or trained
    assert f"split toys/2: read back from {tmp_path / 'splits' / '2.json'}" in logged
    assert json.dumps(again.to_dict(), default=str) == json.dumps(table.to_dict(), default=str)
    assert again_records == records

    logged.clear()
    compare_over_splits(splits[1:], unfitted, keep_in=tmp_path, settings={**settings, "peter": {"epochs": 2}},
                        resume=True, log=logged.append)
    assert len(built) == 3  # other settings: that split trains again, and the log says why
    assert logged[1] == (f"split toys/2: {tmp_path / 'splits' / '2.json'} was made with other settings "
                         "(peter.epochs: 1 there, 2 now); trained again")
    logged.clear()
    compare_over_splits(splits[1:], unfitted, keep_in=tmp_path, settings={**settings, "peter": {"epochs": 2}},
                        trials=20, log=logged.append)
    assert len(built) == 4  # kept with these settings just above, but not asked to resume: trained again
    assert logged[1] == (f"split toys/2: {tmp_path / 'splits' / '2.json'} holds this split's part with these "
                         "settings (--resume reads it back); trained again")
    one_progress = []
    one, one_records = compare_over_splits(splits[:1], unfitted, on_progress=one_progress.append,
                                           trials=50)  # nothing kept without keep_in
    assert one.splits == ["toys/1"] and "split" not in one_records[0]
    assert one_progress and not any("(split" in line for line in one_progress)  # one split: no place to say
    assert one.results[1].text_tests["bleu1"].assignments == 50  # one split: tested on its own records

