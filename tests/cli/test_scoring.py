"""`whyrec score`: explanations written elsewhere, scored as whyrec scores its own."""

from __future__ import annotations

import json
import pickle

import pytest

from tests.cli.invoke import assert_one_line_error, run_cli


def test_scoring_evaluates_records_gives_what_evaluate_gave(tmp_path, planted):
    """The records `evaluate --records` writes, scored by `score` with the same data: the same
    BLEU, ROUGE, USR, FMR, FCR, DIV, RMSE, MAE and sentiment alignment, to the last digit."""
    data, bundle, rows = tmp_path / "planted.csv", tmp_path / "peter", tmp_path / "rows.jsonl"
    planted.corpus.reviews.to_csv(data, index=False)
    train = run_cli("train", "peter+", "--data", str(data), "--out", str(bundle), "--param", "emsize=16",
                    "--param", "ffn=32", "--param", "epochs=2")
    assert train.returncode == 0, train.stderr
    evaluated = run_cli("evaluate", str(bundle), "--data", str(data), "--records", str(rows), "--json", "--intervals")
    assert evaluated.returncode == 0, evaluated.stderr
    expected = json.loads(evaluated.stdout)
    for metric, (low, high) in expected["intervals"]["peter+"].items():  # each holds the score it surrounds
        assert low <= expected["explanations"]["peter+"][metric] <= high, metric
    assert set(expected["intervals"]["peter+"]) == {"bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "fmr", "acc5",
                                                    "acc3"}
    for metric in ("rmse", "mae"):  # and the ratings' errors, each system's
        low, high = expected["rating_intervals"][metric]
        assert low < expected[metric] < high, metric
    shown = run_cli("evaluate", str(bundle), "--data", str(data), "--intervals")  # the same intervals, printed
    assert shown.returncode == 0, shown.stderr
    bounds = expected["intervals"]["peter+"]
    assert (f"    95% bootstrap intervals: BLEU-1 {bounds['bleu1'][0]:.2f}–{bounds['bleu1'][1]:.2f}  BLEU-4 "
            f"{bounds['bleu4'][0]:.2f}–{bounds['bleu4'][1]:.2f}") in shown.stdout
    assert f"FMR {bounds['fmr'][0]:.3f}–{bounds['fmr'][1]:.3f}" in shown.stdout
    scored = run_cli("score", str(rows), "--data", str(data), "--json")
    assert scored.returncode == 0, scored.stderr
    got = json.loads(scored.stdout)
    assert got["files"][0]["records"] == expected["explained_records"] and got["feature_set"] > 0
    mine, theirs = got["files"][0]["scores"]["peter+"], expected["explanations"]["peter+"]
    for name in ("bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "usr", "fmr", "fcr", "div", "empty", "acc5", "acc3",
                 "base5", "base3"):
        assert mine[name] == pytest.approx(theirs[name], abs=1e-12), name
    known = [json.loads(line) for line in rows.read_text().splitlines() if json.loads(line)["known"]]
    assert mine["rmse"] == pytest.approx(
        (sum((r["rating"] - r["predicted"]) ** 2 for r in known) / len(known)) ** 0.5)
    printed = run_cli("score", str(rows))  # without --data: no feature set to look for
    assert printed.returncode == 0, printed.stderr
    assert f"peter+ on {got['files'][0]['records']:,} records: BLEU-1 {mine['bleu1']:.2f}" in printed.stdout
    assert "FMR, FCR, DIV n/a (give --data: the features they look for)" in printed.stdout
    assert "sentiment accuracy" not in printed.stdout  # no train reviews to train the judge on


def _pickle_and_split(tmp_path):
    """Six reviews of a PETER pickle, each with its own feature word, and a split whose test.index
    lists records 5 and 4 in that order."""
    features = ["sound", "strap", "price", "tone", "case", "cable"]
    records = [{"user": f"u{n % 2}", "item": f"i{n}", "rating": 4.0,
                "template": (word, "fine", f"the {word} is fine", 1)} for n, word in enumerate(features)]
    (tmp_path / "reviews.pickle").write_bytes(pickle.dumps(records, protocol=2))
    split = tmp_path / "1"
    split.mkdir()
    for part, positions in (("train", "0 1 2"), ("validation", "3"), ("test", "5 4")):
        (split / f"{part}.index").write_text(positions + "\n")
    return features, split


def test_a_peter_generated_txt_is_scored_with_its_test_index_features(tmp_path):
    features, split = _pickle_and_split(tmp_path)
    generated = tmp_path / "generated.txt"  # the test records in test.index's order: 5, then 4
    generated.write_text("the cable is fine\ncable case\nthe cable is fine\n\n"
                         "the case is fine\ncase cable\nthe price is good\n\n")
    pepler = tmp_path / "pepler.txt"  # PEPLER's, scored beside it: the same records, other texts
    pepler.write_text("the cable is fine\nthe case is fine\n\nthe case is fine\nthe case is fine\n\n")
    args = ("--data", str(tmp_path / "reviews.pickle"), "--split", str(split))
    scored = run_cli("score", str(generated), str(pepler), *args, "--json")
    assert scored.returncode == 0, scored.stderr
    got = json.loads(scored.stdout)
    assert [f["layout"] for f in got["files"]] == ["peter", "pepler"] and got["feature_set"] == len(features)
    assert got["files"][0]["records"] == 2
    peter, other = got["files"][0]["scores"]["peter"], got["files"][1]["scores"]["pepler"]
    assert peter["fmr"] == 0.5  # cable matches record 5's; price is not record 4's (case)
    assert peter["fcr"] == pytest.approx(2 / 6) and peter["div"] == 0.0 and peter["usr"] == 1.0
    assert other["fmr"] == 0.5 and other["div"] == 1.0 and other["usr"] == 0.5  # "case" twice
    printed = run_cli("score", str(generated), str(pepler), *args)
    assert "generated.txt (peter): 2 records" in printed.stdout and "pepler.txt (pepler): 2 records" in printed.stdout
    table = [line for line in printed.stdout.splitlines() if line.startswith("|")]  # the two side by side
    assert table[0] == "| output | records | BLEU-1 | BLEU-4 | ROUGE-1 | ROUGE-2 | ROUGE-L | USR | FMR | FCR | DIV |"
    assert table[2].startswith("| generated.txt · peter | 2 | ") and table[2].endswith(" | 0.500 | 0.333 | 0.000 |")
    assert table[3].startswith("| pepler.txt · pepler | 2 | ") and table[3].endswith(" | 0.500 | 0.167 | 1.000 |")
    # pepler's against peter's: the differences of the scores above, each with its p (all 4 swaps counted)
    tested = got["against_first"]
    assert tested["output"] == "generated.txt · peter" and tested["trials"] == 1000
    assert tested["outputs"][0]["paired_by"] == "position"  # generated.txt names no users or items
    usr = tested["outputs"][0]["tests"]["usr"]
    assert usr["difference"] == pytest.approx(-0.5) and usr["exact"] and 0 < usr["p"] <= 1
    assert tested["outputs"][0]["tests"]["div"]["difference"] == pytest.approx(1.0)
    assert "Against generated.txt · peter: each metric's difference and its p-value" in printed.stdout
    assert table[6] == "| pepler.txt · pepler | 2 | " + " | ".join(
        f"{tested['outputs'][0]['tests'][m]['difference']:+{spec}} (p {tested['outputs'][0]['tests'][m]['p']:.3f})"
        for m, spec in (("bleu1", ".2f"), ("bleu4", ".2f"), ("rouge1", ".2f"), ("rouge2", ".2f"), ("rougeL", ".2f"),
                        ("usr", ".3f"), ("fmr", ".3f"), ("fcr", ".3f"), ("div", ".3f"))) + " |"
    assert "every one of the 4 ways to swap its 2 records counted" in printed.stdout
    # each p adjusted by Holm's method over the table's 9; with 2 records none can keep 0.05: 2 / 2² × 9
    assert all(t["p"] <= t["p_holm"] <= 1 for t in tested["outputs"][0]["tests"].values())
    assert ("Read together (Holm's adjustment of the table's 9 p-values), no difference can keep an adjusted "
            "p ≤ 0.05: the smallest p these tests give is 0.5, and 9 × 0.5 is above 0.05 (an exact test of so few "
            "records gives none lower)") in printed.stdout
    untested = json.loads(run_cli("score", str(generated), str(pepler), *args, "--json", "--trials", "0").stdout)
    assert "against_first" not in untested and untested["files"] == got["files"]
    (split / "train.index").write_text("0 1\n")
    (split / "test.index").write_text("5 4 2\n")
    assert_one_line_error(run_cli("score", str(generated), *args),
                          "lists 3 test records, and the file 2: is it the split the explanations were generated on?")
    assert_one_line_error(run_cli("score", str(generated), "--data", str(tmp_path / "reviews.pickle"), "--seed", "1"),
                          "a generated.txt holds the records of a fixed split's test.index, in its order")


def test_options_that_do_not_fit_the_file_are_refused(tmp_path):
    generated, table = tmp_path / "generated.txt", tmp_path / "rows.csv"
    generated.write_text("the sound\nthe sound\n\n")
    table.write_text("reference,generated\nthe sound,the sound\n")
    assert_one_line_error(run_cli("score", str(table), "--layout", "peter"),
                          "--layout tells a generated.txt's layout; a table's columns have names")
    assert_one_line_error(run_cli("score", str(generated), "--generated", "x"),
                          "--generated and --reference name a table's columns; a generated.txt has none")
    assert_one_line_error(run_cli("score", str(table), "--split", str(tmp_path)),
                          "--split says how to read --data, which is not given")
    assert_one_line_error(run_cli("score", str(table), "--max-rating", "10", "--seed", "2"),
                          "--seed and --max-rating say how to read --data, which is not given")
    assert_one_line_error(run_cli("score", str(tmp_path / "none.csv")), "none.csv: no such file")
    assert_one_line_error(run_cli("score", str(generated), "--layout", "peter"),
                          "not PETER's generated.txt: 3 lines are not groups of 4")
    one_line = tmp_path / "one_line.txt"
    one_line.write_text("a reference alone\n")
    assert_one_line_error(run_cli("score", str(one_line)), "as PETER's: 1 line is not a group of 4; as PEPLER's: "
                                                           "1 line is not a group of 3")
    scored = run_cli("score", str(generated))
    assert scored.returncode == 0 and "(pepler)" in scored.stdout and "BLEU-1 100.00" in scored.stdout, scored.stderr


def test_a_generated_txt_record_without_a_reference_is_counted_as_left_out(tmp_path):
    generated = tmp_path / "generated.txt"  # PEPLER's layout; the second record's reference is empty
    generated.write_text("the sound is great\nthe sound is great\n\n\nstray words\n\n")
    printed = run_cli("score", str(generated))
    assert printed.returncode == 0, printed.stderr
    assert "generated.txt (pepler): 1 record with a reference (1 record without one left out)" in printed.stdout
    assert "pepler on 1 record: BLEU-1 100.00" in printed.stdout
    assert json.loads(run_cli("score", str(generated), "--json").stdout)["files"][0]["records"] == 1


def test_a_windows_1252_table_is_scored_with_one_warning_line(tmp_path):
    table = tmp_path / "excel.csv"
    table.write_bytes("reference,generated\ngreat café gift,great café gift\n".encode("cp1252"))
    printed = run_cli("score", str(table))
    assert printed.returncode == 0, printed.stderr
    assert printed.stderr.splitlines() == [f"warning: {table}: 2 byte sequences not UTF-8, read as Windows-1252 "
                                           "(é, ’); if the file is in another encoding, convert it to UTF-8 first"]
    assert "generated on 1 record: BLEU-1 100.00" in printed.stdout
    assert "USR 1.000 (1 distinct sentence)" in printed.stdout


def test_record_files_are_paired_by_user_and_item_whatever_their_order(tmp_path):
    """``evaluate --records`` files name each record's user and item: a second file listing the
    same records in another order, and one the first lacks, is paired record for record."""
    rows = [("u1", "i1", "the sound is great", "the sound is great"), ("u2", "i2", "a short strap", "bad strap"),
            ("u3", "i3", "nice tone", "nice tone indeed")]
    header = "user,item,reference,generated\n"
    (tmp_path / "a.csv").write_text(header + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    other = [rows[2], ("u9", "i9", "never seen", "never seen"), rows[0], rows[1]]
    (tmp_path / "b.csv").write_text(header + "".join(",".join(row) + "\n" for row in other), encoding="utf-8")
    scored = run_cli("score", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--json")
    assert scored.returncode == 0, scored.stderr
    tested = json.loads(scored.stdout)["against_first"]["outputs"][0]
    assert (tested["paired_by"], tested["records"], tested["unmatched"]) == ("user and item", 3, 1)
    assert tested["references_differ"] == 0  # by position, all three would differ
    assert all(t["difference"] == 0.0 and t["p"] == 1.0 for t in tested["tests"].values())  # the same texts
    assert tested["as_first"] is True and all(t["p_holm"] is None for t in tested["tests"].values())  # no tests
    printed = run_cli("score", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")).stdout
    assert "b.csv · generated: paired with the first by user and item; 1 of its records has no match there" in printed


def test_the_printed_scores_say_what_is_empty_missing_or_not_tested(tmp_path, planted):
    """Printed, not as JSON: the sentiment accuracy (as --json gives it), the share of empty
    explanations, FMR's missing feature column, and a second file whose records cannot be paired
    with the first's, named in the tests' table."""
    data, first, second = tmp_path / "planted.csv", tmp_path / "rows1.jsonl", tmp_path / "rows2.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    rows = [{"reference": "the sound is great", "generated": "the sound is great", "rating": 5, "predicted": 4.6},
            {"reference": "the strap is short", "generated": "", "rating": 2, "predicted": 2.4},  # written, but empty
            {"reference": "nice price", "generated": "the price is nice", "rating": 4, "predicted": 3.9}]
    first.write_text("".join(json.dumps(row) + "\n" for row in rows))
    second.write_text("reference,generated\nthe sound is great,the sound\nthe strap is short,the strap\n")
    printed = run_cli("score", str(first), str(second), "--data", str(data))
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    scores = json.loads(run_cli("score", str(first), str(second), "--data", str(data), "--json").stdout)
    sc = scores["files"][0]["scores"]["generated"]  # the judge, trained on the data's reviews, read the texts
    assert (f"sentiment accuracy {sc['acc5']:.1f}% / {sc['acc3']:.1f}% (5 / 3 classes; one sentence for all "
            f"would score {sc['base5']:.1f}% / {sc['base3']:.1f}%)") in lines[1]  # the first file's scores
    assert "sentiment accuracy" not in printed.stdout.split("rows2.csv")[1]  # no ratings in the second file
    assert "    33.3% of these explanations have no words" in lines  # the first file's one empty text of 3
    assert sum("have no words" in line for line in lines) == 1  # the second file has none
    assert "  FMR n/a: no true feature word per record (a table's 'feature' column)" in lines
    assert "| rows2.csv · generated | 0 |" in lines  # 2 records against 3, and no user or item to pair them by
    assert "rows2.csv · generated: not tested, 2 records, the first file 3 (files with user and item columns are " \
           "paired by them)" in lines


def test_an_output_repeating_another_is_counted_once_with_its_adjusted_p(tmp_path):
    """b.csv and c.csv hold the same explanations, not a.csv's: c's tests are b's, counted once."""
    header = "user,item,reference,generated\n"
    first = [("u1", "i1", "the sound is great", "the sound is great"), ("u2", "i2", "a short strap", "bad strap"),
             ("u3", "i3", "nice tone", "nice tone indeed"), ("u4", "i4", "light and warm", "warm")]
    other = [(u, i, reference, "the strap") for u, i, reference, _ in first]
    for name, rows in (("a", first), ("b", other), ("c", other)):
        (tmp_path / f"{name}.csv").write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    scored = run_cli("score", *(str(tmp_path / f"{name}.csv") for name in "abc"), "--json", "--trials", "50")
    assert scored.returncode == 0, scored.stderr
    b, c = json.loads(scored.stdout)["against_first"]["outputs"]
    assert c["repeats"] == b["output"] == "b.csv · generated" and "repeats" not in b
    assert {m: t["p_holm"] for m, t in c["tests"].items()} == {m: t["p_holm"] for m, t in b["tests"].items()}
    assert b["tests"]["bleu1"]["p_holm"] is not None
    printed = run_cli("score", *(str(tmp_path / f"{name}.csv") for name in "abc"), "--trials", "50").stdout
    assert "c.csv · generated writes as b.csv · generated does: b.csv · generated's tests, counted once" in printed
