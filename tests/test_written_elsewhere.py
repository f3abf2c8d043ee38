"""Explanations written elsewhere (PETER's and PEPLER's generated.txt, tables), read and scored."""

from __future__ import annotations

import json
import math
import warnings

import pytest

from whyrec.errors import DataError
from whyrec.metrics.significance import randomization_test
from whyrec.metrics.text import explanation_quality
from whyrec.written_elsewhere import (GeneratedTexts, compare_with_first, read_generated_txt, read_table_file,
                                      score_texts)

REFERENCES = ["the sound is great", "the strap is too short", "nice price for the tone"]
GENERATED = ["the sound is great", "", "the price is nice"]  # PETER writes an empty line for an empty text


def test_peter_and_pepler_files_are_told_apart_by_their_empty_lines(tmp_path):
    peter, pepler = tmp_path / "peter.txt", tmp_path / "pepler.txt"
    peter.write_text("".join(f"{r}\nsound strap price\n{g}\n\n" for r, g in zip(REFERENCES, GENERATED)))
    pepler.write_text("".join(f"{r}\n{g}\n\n" for r, g in zip(REFERENCES, GENERATED)))
    for path, layout in ((peter, "peter"), (pepler, "pepler")):
        texts = read_generated_txt(path)
        assert texts.layout == layout and texts.references == REFERENCES
        assert texts.generated == {layout: GENERATED}
        assert read_generated_txt(path, layout).generated == texts.generated
    with pytest.raises(DataError, match="not PEPLER's generated.txt: line 3 should be the empty line that ends"):
        read_generated_txt(peter, "pepler")


def test_a_file_of_neither_layout_or_of_both_is_refused_with_what_to_give(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text("a ref\nctx\na gen\nnot empty\n")
    with pytest.raises(DataError, match=r"broken.txt: not told .* as PETER's: line 4 should be the empty line .*"
                                        r"give --layout peter or --layout pepler"):
        read_generated_txt(broken)
    both = tmp_path / "both.txt"  # 12 lines, every 3rd and every 4th one empty (empty texts do that)
    both.write_text("r1\nc1\n\n\nr2\n\ng2\n\n\nr3\nc3\n\n")
    with pytest.raises(DataError, match="it fits both"):
        read_generated_txt(both)
    assert read_generated_txt(both, "peter").references == ["r1", "r2", ""]
    assert read_generated_txt(both, "pepler").references == ["r1", "", "g2", "r3"]
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataError, match="file is empty"):
        read_generated_txt(tmp_path / "empty.txt")


def test_a_generated_txt_record_without_a_reference_keeps_its_place_but_is_not_scored(tmp_path):
    """As a table's row without a reference is: scored, its explanation would add words BLEU finds
    nothing to match, and a record ROUGE scores 0."""
    path = tmp_path / "generated.txt"
    references, generated = ["", *REFERENCES[:2]], ["stray words", *GENERATED[:2]]
    path.write_text("".join(f"{r}\nctx\n{g}\n\n" for r, g in zip(references, generated)))
    texts = read_generated_txt(path)
    assert texts.references == references and texts.generated == {"peter": [None, *GENERATED[:2]]}
    assert texts.left_out == 1 and texts.with_reference == 2
    scored = score_texts(texts)["peter"]
    expected = explanation_quality([r.split() for r in REFERENCES[:2]], [g.split() for g in GENERATED[:2]],
                                   ["", ""], set())
    assert scored["count"] == 2 and scored["rouge1"] == expected["rouge1"] and scored["bleu1"] == expected["bleu1"]


def test_a_table_leaves_out_rows_without_a_reference_and_finds_the_explanation_columns(tmp_path):
    rows = [{"user": "u1", "reference": REFERENCES[0], "feature": "sound", "rating": 5, "predicted": 4.5,
             "explanation_pair": GENERATED[0], "explanation_user": "great"},
            {"user": "u2", "reference": None, "feature": None, "rating": 3, "predicted": 3.0,
             "explanation_pair": None, "explanation_user": None},  # a record the system did not know
            {"user": "u3", "reference": REFERENCES[2], "feature": "price", "rating": 4, "predicted": 3.5,
             "explanation_pair": GENERATED[2], "explanation_user": None}]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    texts = read_table_file(path)
    assert texts.left_out == 1 and texts.references == [REFERENCES[0], REFERENCES[2]]
    assert texts.generated == {"pair": [GENERATED[0], GENERATED[2]], "user": ["great", None]}
    assert texts.features == ["sound", "price"] and texts.ratings == [5.0, 4.0] and texts.predicted == [4.5, 3.5]
    scores = score_texts(texts, {"sound", "price", "strap"})
    assert scores["pair"]["count"] == 2 and scores["user"]["count"] == 1  # a null is no explanation
    assert scores["pair"]["fmr"] == 1.0 and scores["pair"]["fcr"] == pytest.approx(2 / 3)
    assert scores["pair"]["rmse"] == pytest.approx(0.5) and scores["user"]["mae"] == pytest.approx(0.5)
    assert read_table_file(path, ["explanation_user"]).generated == {"user": ["great", None]}


def _refused(path, text: str, error: str, read=read_table_file) -> None:
    """``path``, holding ``text``, is refused by ``read`` with an error that matches ``error``."""
    path.write_text(text)
    with pytest.raises(DataError, match=error):
        read(path)


def test_a_tables_missing_columns_and_bad_numbers_are_named(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("ref,generated\nthe sound,the sound\n")
    with pytest.raises(DataError, match=r"rows.csv: no column 'reference' of reference texts; columns are "
                                        r"\['ref', 'generated'\] \(--reference NAME names it\)"):
        read_table_file(path)
    assert read_table_file(path, reference="ref").generated == {"generated": ["the sound"]}
    with pytest.raises(DataError, match="no column 'explanation_pair'"):
        read_table_file(path, ["explanation_pair"], reference="ref")
    path.write_text("reference,text\nthe sound,the sound\n")
    with pytest.raises(DataError, match=r"no column of generated explanations \('generated' or 'explanation_…'\)"):
        read_table_file(path)
    _refused(path, "reference,generated,rating,predicted\nthe sound,the sound,5,high\n",
             r"rows.csv: field 'predicted': row 1: 'high' is not a number")
    _refused(tmp_path / "rows.xlsx", "x", "a table is .csv, .tsv, .jsonl, .json")
    for line, kind in (("[1, 2]", "a JSON array"), ('"a"', "a JSON string"), ("7.5", "a JSON number"),
                       ("false", "JSON false"), ("null", "JSON null")):
        _refused(tmp_path / "rows.jsonl", '{"reference": "a", "generated": "a"}\n' + line + "\n",
                 f"rows.jsonl:2: each line of a JSON lines table must be an object; this one is {kind}$")


def test_a_json_array_table_and_blank_lines_read_as_rows(tmp_path):
    rows = [{"reference": "the sound", "generated": "the sound", "feature": "sound"},
            {"reference": "the strap", "generated": None}]  # a null: this system wrote nothing for it
    (tmp_path / "rows.json").write_text(" \n" + json.dumps(rows, indent=1))
    texts = read_table_file(tmp_path / "rows.json")
    assert texts.references == ["the sound", "the strap"] and texts.generated == {"generated": ["the sound", None]}
    assert texts.features == ["sound", ""]
    lines = tmp_path / "rows.jsonl"  # JSON lines, one blank between them
    lines.write_text("\n".join(json.dumps(row) for row in rows[:1]) + "\n\n" + json.dumps(rows[1]) + "\n")
    assert read_table_file(lines).references == texts.references
    csv = tmp_path / "rows.csv"  # a blank line in a CSV is no row
    csv.write_text("reference,generated\nthe sound,the sound\n\nthe strap,the strap\n")
    assert read_table_file(csv).references == texts.references


def test_a_table_without_rows_an_unknown_layout_a_bad_json_line_or_an_infinite_rating_is_refused(tmp_path):
    _refused(tmp_path / "empty.csv", "", "empty.csv: file is empty")
    _refused(tmp_path / "header.csv", "reference,generated\n", "header.csv: the table has no rows")
    _refused(tmp_path / "generated.txt", "r1\ng1\n\n", "generated.txt: unknown layout 'peterr': peter or pepler",
             lambda path: read_generated_txt(path, "peterr"))
    _refused(tmp_path / "rows.jsonl", '{"reference": "a", "generated": "a"}\n{"reference": "b",\n',
             r"rows.jsonl:2: not JSON: ")
    _refused(tmp_path / "rated.csv", "reference,generated,rating,predicted\nthe sound,the sound,5,inf\n",
             r"field 'predicted': row 1: 'inf' is not a finite number")


def test_an_output_that_wrote_for_none_of_the_first_files_records_is_not_tested():
    first = GeneratedTexts("a/peter.csv", REFERENCES, {"peter": GENERATED})
    silent = GeneratedTexts("b/mine.csv", REFERENCES, {"mine": [None, None, None]})
    tested, = compare_with_first([first, silent], {"sound"}, trials=10)
    assert tested.unpaired == "no record both wrote for" and tested.records == 0 and not tested.tests


def test_scores_are_the_benchmark_metrics_of_the_texts_split_on_spaces_or_tokenized():
    texts = GeneratedTexts("memory", REFERENCES, {"peter": GENERATED}, features=["sound", "strap", "tone"])
    feature_set = {"sound", "strap", "price", "tone"}
    scores = score_texts(texts, feature_set)["peter"]
    expected = explanation_quality([r.split() for r in REFERENCES], [g.split() for g in GENERATED],
                                   ["sound", "strap", "tone"], feature_set)
    assert {k: scores[k] for k in expected} == expected
    assert scores["count"] == 3 and scores["empty"] == pytest.approx(100 / 3) and "rmse" not in scores
    raw = GeneratedTexts("memory", ["The sound's GREAT!"], {"x": ["the sound 's great !"]})
    assert score_texts(raw, tokenize=True)["x"]["bleu1"] == pytest.approx(100.0)
    assert score_texts(raw)["x"]["bleu1"] < 100.0  # split on spaces, "The" is not "the"
    unfeatured = score_texts(GeneratedTexts("memory", REFERENCES, {"p": GENERATED}), feature_set)["p"]
    assert math.isnan(unfeatured["fmr"]) and not math.isnan(unfeatured["fcr"])  # no true features: no FMR
    with pytest.raises(DataError, match="'p' holds no explanation to score"):
        score_texts(GeneratedTexts("memory", ["a"], {"p": [None]}))


def test_alignment_is_the_judges_reading_against_each_predicted_rating_on_the_datas_scale():
    """A judge that reads every explanation as class 5: right for the predictions that round to 5 on
    the 1–10 scale read as 1–5 (10 → 5, 9 → 4.6 → 5), wrong for 2 (→ 1.4 → 1), and a prediction past
    the scale (11) is clamped to it first."""

    class AlwaysFive:
        def predict(self, texts):
            return [5] * len(texts)

    texts = GeneratedTexts("memory", ["a b", "c d", "e f", "g h"], {"x": ["a b", "c", "e", "g"]},
                           ratings=[10.0, 9.0, 2.0, 10.0], predicted=[10.0, 9.0, 2.0, 11.0])
    scores = score_texts(texts, scale=(1.0, 10.0), judge=AlwaysFive())["x"]
    assert scores["acc5"] == 75.0 and scores["base5"] == 75.0 and scores["acc3"] == 75.0
    assert scores["rmse"] == 0.0  # 11 clamped to 10
    with pytest.raises(ValueError, match="give scale"):
        score_texts(texts, judge=AlwaysFive())


def test_a_spreadsheets_windows_1252_or_utf16_export_is_read_as_the_review_readers_read_it(tmp_path):
    """Both had been refused ("not UTF-8 text (byte 18): write it as UTF-8"), while --pairs and the
    review files read them: a table of explanations exported from a spreadsheet is scored too."""
    from whyrec.errors import DataWarning

    table = "reference,generated\r\ngreat café gift,great café\r\nnice card,nice gift\r\n"
    (tmp_path / "cp1252.csv").write_bytes(table.encode("cp1252"))
    (tmp_path / "utf16.csv").write_bytes(table.encode("utf-16"))
    (tmp_path / "utf8.csv").write_bytes(table.encode("utf-8-sig"))
    with pytest.warns(DataWarning, match="cp1252.csv: 2 byte sequences not UTF-8, read as Windows-1252"):
        windows = read_table_file(tmp_path / "cp1252.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        unicode, utf8 = read_table_file(tmp_path / "utf16.csv"), read_table_file(tmp_path / "utf8.csv")
    for texts in (windows, unicode, utf8):
        assert texts.references == ["great café gift", "nice card"]
        assert texts.generated == {"generated": ["great café", "nice gift"]}
    (tmp_path / "generated.txt").write_bytes("café\r\n<context>\r\ngreat café\r\n\r\n".encode("cp1252"))
    with pytest.warns(DataWarning, match="generated.txt: 2 byte sequences not UTF-8"):
        peter = read_generated_txt(tmp_path / "generated.txt")
    assert peter.references == ["café"] and peter.generated == {"peter": ["great café"]}


def test_files_whose_rows_do_not_fit_the_header_are_refused_at_their_line(tmp_path):
    (tmp_path / "short.csv").write_text('reference,generated\nthe sound,the sound\n"unclosed,x\n')
    with pytest.raises(DataError, match=r"short.csv:3: 1 cell under a header of 2: an unclosed quote, or a short row"):
        read_table_file(tmp_path / "short.csv")
    (tmp_path / "long.tsv").write_text("reference\tgenerated\na\tb\tc\n")
    with pytest.raises(DataError, match=r"long.tsv:2: 3 cells under a header of 2: a tab in a cell not quoted\?"):
        read_table_file(tmp_path / "long.tsv")
    (tmp_path / "marked.csv").write_bytes("\ufeffreference,generated\nthe sound,the sound\n".encode())
    assert read_table_file(tmp_path / "marked.csv").references == ["the sound"]  # Excel's byte-order mark


def test_each_output_is_tested_against_the_first_on_the_records_both_wrote_for():
    first = GeneratedTexts("a/peter.csv", REFERENCES, {"peter": GENERATED, "mine": [None, "the strap", "nice tone"]},
                           features=["sound", "strap", "price"])
    unk = [r.replace("tone", "<unk>") for r in REFERENCES]  # the same records, written with another vocabulary
    second = GeneratedTexts("b/generated.txt", unk, {"pepler": ["the sound", "the strap is short", "nice"]})
    other = GeneratedTexts("c/other.txt", REFERENCES[:2], {"x": GENERATED[:2]})
    tested = compare_with_first([first, second, other], {"sound", "strap", "price", "tone"}, trials=100)
    assert [t.output for t in tested] == ["peter.csv · mine", "generated.txt · pepler", "other.txt · x"]
    assert all(t.against == "peter.csv · peter" for t in tested)
    mine, pepler, unpaired = tested
    assert mine.records == 2 and mine.references_differ == 0  # record 0: "mine" wrote nothing
    expected = randomization_test([r.split() for r in REFERENCES[1:]], ["the strap".split(), "nice tone".split()],
                                  [g.split() for g in GENERATED[1:]], ["strap", "price"],
                                  {"sound", "strap", "price", "tone"}, trials=100)
    assert mine.tests == expected and mine.tests["fmr"].difference == 0.0  # "strap" found, "price" missed
    assert pepler.records == 3 and pepler.references_differ == 1 and pepler.tests["bleu1"].exact
    # each output against its own file's references: pepler's third record is scored on "<unk>"
    scored = score_texts(second, {"sound", "strap", "price", "tone"})["pepler"]
    assert pepler.tests["rouge1"].difference == pytest.approx(
        scored["rouge1"] - explanation_quality([r.split() for r in REFERENCES], [g.split() for g in GENERATED],
                                               first.features, set())["rouge1"])
    assert unpaired.unpaired.startswith("2 records, the first file 3") and not unpaired.tests
    assert {t.paired_by for t in tested} == {"position"} and not any(t.unmatched for t in tested)
    assert not any(t.as_first for t in tested)


def test_an_output_that_wrote_as_the_first_did_is_marked_and_left_out_of_the_holm_line():
    from whyrec.cli.scoring import tested_table

    first = GeneratedTexts("a/peter.csv", REFERENCES, {"peter": GENERATED, "again": list(GENERATED),
                                                      "other": ["the strap", "the strap", "the strap"]})
    again, other = compare_with_first([first], {"sound", "strap", "price", "tone"}, trials=100)
    assert again.as_first and all(t.difference == 0.0 and t.p == 1.0 for t in again.tests.values())
    assert not other.as_first
    together = tested_table([again, other]).splitlines()[-1]
    assert together.startswith(f"Read together (Holm's adjustment of the table's {len(other.tests)} p-values; "
                               "peter.csv · again writes as the first does: no test), ")
    # an output that wrote as another output did, not as the first: that output's tests, counted once
    twice = GeneratedTexts("a/peter.csv", REFERENCES, {"peter": GENERATED, "other": ["the strap"] * 3,
                                                      "copy": ["the strap"] * 3, "third": ["nice"] * 3})
    other, copy, third = compare_with_first([twice], {"sound", "strap", "price", "tone"}, trials=100)
    assert (other.repeats, copy.repeats, third.repeats) == (None, "peter.csv · other", None)
    assert copy.tests == other.tests and copy.family_tests == {} and not copy.as_first
    together = tested_table([other, copy, third]).splitlines()[-1]
    assert together.startswith(f"Read together (Holm's adjustment of the table's {2 * len(other.tests)} p-values; "
                               "peter.csv · copy writes as peter.csv · other does: peter.csv · other's tests, "
                               "counted once), ")


def test_files_that_name_users_and_items_are_paired_by_them_not_by_position():
    """Two files of as many records, of test sets that share two (user, item) pairs, listed in
    another order: paired by position, the references would differ; by key, each record meets its
    own. A (user, item) twice in both is paired in order; one only in the second file is left out."""
    keys = [("u1", "i1"), ("u2", "i2"), ("u3", "i3")]
    first = GeneratedTexts("a.csv", REFERENCES, {"x": GENERATED}, keys=keys)
    second = GeneratedTexts("b.csv", [REFERENCES[2], "other text", REFERENCES[0]],
                            {"y": ["nice tone", "never seen", "the sound"]}, keys=[keys[2], ("u9", "i9"), keys[0]])
    tested = compare_with_first([first, second], trials=100)[0]
    assert (tested.paired_by, tested.records, tested.unmatched, tested.references_differ) == ("user and item", 2, 1, 0)

    expected = randomization_test([REFERENCES[2].split(), REFERENCES[0].split()],
                                  ["nice tone".split(), "the sound".split()],
                                  [GENERATED[2].split(), GENERATED[0].split()], trials=100)
    assert tested.tests == expected
    twice = GeneratedTexts("c.csv", ["a b", "c d"], {"z": ["a b", "c d"]}, keys=[("u1", "i1")] * 2)
    again = GeneratedTexts("d.csv", ["a b", "c d", "e f"], {"w": ["a b", "c d", "e f"]}, keys=[("u1", "i1")] * 3)
    repeated = compare_with_first([twice, again], trials=10)[0]
    assert (repeated.records, repeated.unmatched, repeated.references_differ) == (2, 1, 0)  # 1st with 1st, 2nd with 2nd
    none = GeneratedTexts("e.csv", REFERENCES, {"v": GENERATED}, keys=[("u7", "i7")] * 3)
    assert compare_with_first([first, none], trials=10)[0].unpaired == "no (user, item) of the first file's records"


def test_a_table_with_user_and_item_columns_keeps_them_as_keys(tmp_path):
    (tmp_path / "records.csv").write_text("user,item,reference,explanation_x\nu1,i1,the sound,great\n"
                                          "u2,i2,,none\nu3,i3,the strap,short\n", encoding="utf-8")
    assert read_table_file(tmp_path / "records.csv").keys == [("u1", "i1"), ("u3", "i3")]  # the row without one: out
    (tmp_path / "plain.csv").write_text("reference,generated\nthe sound,great\n", encoding="utf-8")
    assert read_table_file(tmp_path / "plain.csv").keys is None


class _ReadsGreatAsFive:
    """A sentiment judge that reads an explanation with "great" as 5 stars, any other as 2."""

    def predict(self, texts):
        return [5 if "great" in (text or "") else 2 for text in texts]


def test_the_sentiment_alignment_is_tested_when_both_files_hold_predicted_ratings():
    first = GeneratedTexts("a.jsonl", REFERENCES, {"x": ["great sound", "great strap", "a fine tone"]},
                           ratings=[5.0, 2.0, 2.0], predicted=[5.2, 2.4, 2.1])  # 5.2: clamped to 5
    second = GeneratedTexts("b.jsonl", REFERENCES, {"y": ["great sound", "short strap", "poor tone"]},
                            ratings=[5.0, 2.0, 2.0], predicted=[5.0, 2.2, 1.9])
    judge = _ReadsGreatAsFive()
    tested = compare_with_first([first, second], trials=100, judge=judge, scale=(1.0, 5.0))[0]
    scores = [score_texts(texts, judge=judge, scale=(1.0, 5.0)) for texts in (first, second)]
    assert tested.tests["acc5"].difference == pytest.approx(scores[1]["y"]["acc5"] - scores[0]["x"]["acc5"])
    assert tested.tests["acc5"].difference == pytest.approx(100.0 - 200.0 / 3)  # 3 of 3 read right against 2 of 3
    assert "acc3" in tested.tests
    without = GeneratedTexts("c.jsonl", REFERENCES, {"z": ["great", "great", "great"]})  # no predicted ratings
    assert "acc5" not in compare_with_first([first, without], trials=10, judge=judge, scale=(1.0, 5.0))[0].tests
