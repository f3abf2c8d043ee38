"""One row per test record (`whyrec evaluate --records`): the rows hold what the scores were
computed from, unknown records get no explanation, and the files read back."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.systems.test_mt import TINY
from tests.conftest import disk_full
from whyrec.data import Corpus
from whyrec.errors import ConfigError
from whyrec.explanation_scores import score_explanations, sentiment_judge, write_explanations
from whyrec.data.scale import five_point
from whyrec.metrics.alignment import sentiment_accuracy
from whyrec.metrics.text import explanation_quality
from whyrec.prediction_records import check_records_path, prediction_records, save_records
from whyrec.rating import BiasBaseline
from whyrec.systems.mt import MultiTask


@pytest.fixture(scope="module")
def fitted(tiny_split):
    from whyrec.data.features import FeatureExtractor

    mt = MultiTask(epochs=2, **TINY).fit(tiny_split.train, tiny_split.valid)
    return mt, FeatureExtractor(min_df=2).extract(tiny_split.train)


def _with_a_stranger(test: Corpus) -> Corpus:
    """The test records and one more (a record of its own) by a user the system never saw."""
    import pandas as pd

    stranger = test.reviews.iloc[[0]].assign(user="someone-new", position=int(test.positions.max()) + 1)
    return Corpus(pd.concat([test.reviews, stranger], ignore_index=True), rating_scale=test.rating_scale)


def test_rows_hold_what_the_scores_were_computed_from(fitted, tiny_split):
    mt, features = fitted
    test = tiny_split.test
    written = write_explanations(mt, test, features)
    judge = sentiment_judge(tiny_split.train)
    _, scores = score_explanations(mt, test, features, judge=judge, written=written)
    predicted = mt.predict_corpus(test)
    rows = prediction_records(mt, test, predicted, written, judge)
    assert len(rows) == len(test) and [r["user"] for r in rows] == list(test.users)
    known = [r for r in rows if r["known"]]
    assert len(known) == len(written.known) > 0
    for name in ("user", "item", "pair"):
        texts = [r[f"explanation_{name}"] for r in known]
        again = explanation_quality([r["reference"].split() for r in known], [t.split() for t in texts],
                                    [r["feature"] for r in known], set(features["feature"]))
        assert {k: scores[name][k] for k in again} == pytest.approx(again, nan_ok=True)
        accuracy = sentiment_accuracy(np.array([r[f"judged_{name}"] for r in known]),
                                      five_point(np.array([r["predicted"] for r in known]), test.rating_scale))
        assert accuracy["acc5"] == pytest.approx(scores[name]["acc5"])
    np.testing.assert_allclose([r["predicted"] for r in rows], predicted)
    assert all(r["rating"] == pytest.approx(x) for r, x in zip(rows, test.ratings))


def test_a_record_the_system_does_not_know_has_no_explanation(fitted, tiny_split, tmp_path):
    mt, features = fitted
    test = _with_a_stranger(tiny_split.test)
    written = write_explanations(mt, test, features)
    rows = prediction_records(mt, test, mt.predict_corpus(test), written, None)
    stranger = rows[-1]
    assert stranger["user"] == "someone-new" and stranger["known"] is False
    assert stranger["explanation_pair"] is None and stranger["reference"] is None
    assert not any(key.startswith("judged_") for key in stranger)  # no judge, no judged field
    save_records(rows, tmp_path / "rows.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert lines == rows
    save_records(rows, tmp_path / "rows.csv")
    with (tmp_path / "rows.csv").open(newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(rows) and table[-1]["explanation_pair"] == "" and table[0]["known"] == "True"
    assert table[0]["explanation_pair"] == rows[0]["explanation_pair"]


def test_a_rating_model_gives_its_predictions_and_which_pairs_it_knows(tiny_split):
    model = BiasBaseline().fit(tiny_split.train)
    test = _with_a_stranger(tiny_split.test)
    rows = prediction_records(model, test, model.predict_corpus(test))
    assert set(rows[0]) == {"user", "item", "rating", "predicted", "known"}
    assert rows[-1]["known"] is False and all(r["known"] for r in rows[:-1])


def test_the_file_name_must_tell_the_format(tmp_path):
    for name in ("rows.txt", "rows", "rows.json"):
        with pytest.raises(ConfigError, match=r"\.jsonl \(JSON lines\) or \.csv"):
            check_records_path(tmp_path / name)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        check_records_path(tmp_path / "folder.csv")
    check_records_path(tmp_path / "ROWS.CSV")



def test_an_existing_file_is_replaced_only_when_it_holds_records(tmp_path, tiny_split):
    """A re-run replaces its own records; a file of anything else named by mistake is kept."""
    model = BiasBaseline().fit(tiny_split.train)
    rows = prediction_records(model, tiny_split.test, model.predict_corpus(tiny_split.test))
    for name in ("rows.csv", "rows.jsonl"):
        save_records(rows, tmp_path / name)
        save_records(rows[:2], tmp_path / name)  # an earlier run's records: replaced
        check_records_path(tmp_path / name)
        (tmp_path / "empty" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "empty" / name).write_text("")
        check_records_path(tmp_path / "empty" / name)
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 2
    for name, text in (("reviews.csv", "user,item,rating,text\nu1,i1,5,fine\n"),
                       ("notes.jsonl", '{"user": "u1", "item": "i1", "rating": 5}\n'), ("words.jsonl", "not json\n")):
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError, match=f"--records .*{name} is a file that holds no prediction records; it is "
                                              "kept: choose another name"):
            check_records_path(tmp_path / name)
        assert (tmp_path / name).read_text() == text


def test_side_by_side_keeps_each_systems_fields_and_the_first_known_reference():
    from whyrec.prediction_records import relabel, side_by_side

    record = {"user": "u", "item": "i", "rating": 4.0}
    peter = [{**record, "predicted": 3.5, "known": False, "reference": None, "feature": None,
              "explanation_peter": None, "judged_peter": None}]
    mt = [{**record, "predicted": 4.2, "known": True, "reference": "great price", "feature": "price",
           "explanation_pair": "good price", "judged_pair": 4}]
    merged = side_by_side([relabel(peter, "PETER", {"peter": "PETER"}),
                           relabel(mt, "MT", {"pair": "MT-P"})])
    assert merged == [{**record, "predicted_PETER": 3.5, "known_PETER": False, "reference": "great price",
                       "feature": "price", "explanation_PETER": None, "judged_PETER": None, "predicted_MT": 4.2,
                       "known_MT": True, "explanation_MT-P": "good price", "judged_MT-P": 4}]
    with pytest.raises(ValueError):  # systems scored on other test records cannot be merged
        side_by_side([mt, mt + mt])


def test_records_a_full_disk_refuses_leave_the_file_as_it_was(tmp_path, monkeypatch):
    """They were written in place: a disk that filled partway left half of the rows, the earlier
    run's gone."""
    import os

    import whyrec.prediction_records as prediction_records_module

    path = tmp_path / "records.jsonl"
    save_records([{"user": "u", "item": "i", "rating": 4.0, "predicted": 3.5}], path)
    before = path.read_bytes()
    real = prediction_records_module._write_rows

    def half_then_full(rows, staged, jsonl):
        real(rows[:1], staged, jsonl)
        raise disk_full()  # a write's error names no file

    monkeypatch.setattr(prediction_records_module, "_write_rows", half_then_full)
    rows = [{"user": f"u{n}", "item": "i", "rating": 5.0, "predicted": 4.0} for n in range(3)]
    with pytest.raises(OSError) as refused:
        save_records(rows, path)
    assert refused.value.filename == str(path) and path.read_bytes() == before
    assert os.listdir(tmp_path) == ["records.jsonl"]
