"""Explanation systems side by side: one row per explainer, the scores of score_explanations."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from tests.cli.invoke import assert_one_line_error, run_cli, unreadable_data
from tests.systems.test_mt import TINY as MT_TINY
from tests.systems.test_peter import TINY as PETER_TINY
from whyrec.data import Corpus
from whyrec.data.features import FeatureExtractor
from whyrec.explainer_experiment import EXPLANATION_METRICS, compare_explainers, compare_trained
from whyrec.explanation_scores import score_explanations
from whyrec.metrics.rating import rmse
from whyrec.prediction_records import side_by_side
from whyrec.systems.mt import MultiTask
from whyrec.systems.peter import Peter


def test_one_row_per_explainer_with_the_scores_of_each(tiny_split, tmp_path):
    split = tiny_split
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([split.train, split.valid, split.test]))
    systems = {"MT": MultiTask(epochs=2, **MT_TINY), "PETER+": Peter(**{**PETER_TINY, "epochs": 3, "use_feature": True})}
    steps, records = [], {}
    began = time.perf_counter()
    table = compare_explainers(split, systems, features, on_step=steps.append,
                               on_records=lambda name, rows: records.update({name: rows}))
    elapsed = time.perf_counter() - began
    assert "training MT: epoch 1, teacher forcing 0/" in steps[0] and "training PETER+: epoch 3, validation" in steps
    rows = {r.system: r.per_fold[0] for r in table.results}
    assert list(rows) == ["MT-U", "MT-I", "MT-P", "PETER+"] and table.reference == "MT-U"
    fits = [rows["MT-U"]["train_s"], rows["PETER+"]["train_s"]]  # each system's fit, timed within the call
    assert min(fits) > 0.0 and sum(fits) < elapsed
    assert rows["MT-U"]["rmse"] == rows["MT-P"]["rmse"] != rows["PETER+"]["rmse"]  # one rating model per system
    expected_rmse = rmse(np.clip(systems["PETER+"].predict_corpus(split.test), 1, 5), split.test.ratings)
    assert rows["PETER+"]["rmse"] == pytest.approx(expected_rmse)
    _, scores = score_explanations(systems["MT"], split.test, features, train=split.train)
    assert {m: rows["MT-P"][m] for m in EXPLANATION_METRICS} == pytest.approx(scores["pair"], nan_ok=True)
    assert table.results[1].p_value == pytest.approx(1.0) and table.results[3].p_value < 1.0
    # each explainer's text metrics against MT-U's on the records both explain: MT's decoders know the same
    # records, so each difference is that of the scores, from one randomization test per row
    assert not table.results[0].text_tests and table.results[2].text_tested_records == len(split.test)
    tested = table.results[2].text_tests
    assert list(tested) == ["bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "usr", "fmr", "fcr", "div", "acc5", "acc3"]
    for metric, paired in tested.items():
        assert paired.difference == pytest.approx(scores["pair"][metric] - scores["user"][metric], abs=1e-9)
        assert 0.0 < paired.p <= 1.0
    assert table.results[3].text_tests and 0 < table.results[3].text_tested_records <= len(split.test)
    assert not any(r.text_as_reference for r in table.results)  # MT-I, MT-P and PETER+ each write their own
    assert "Explanations against MT-U, on the test records both explain" in table.save(tmp_path / "t").joinpath(
        "results.md").read_text()
    untested = compare_trained(split, systems, features, trials=0)
    assert not any(r.text_tests for r in untested.results)
    # PETER+ first, and MT twice (a bundle and its copy): the copy's rows repeat the first MT's tests, text
    # and rating, and Holm's families count each once; MT-I and MT-P repeat MT-U's rating test only
    again = compare_trained(split, {"PETER+": systems["PETER+"], "MT": systems["MT"], "copy": systems["MT"]},
                            features, trials=20)
    names = [r.system for r in again.results]
    assert [r.text_repeats for r in again.results] == [None] * 4 + names[1:4]
    assert not any(r.text_as_reference for r in again.results)
    holm = again.to_dict()["systems"]
    assert [s["p_holm"] for s in holm[4:]] == [s["p_holm"] for s in holm[1:4]] and holm[1]["p_holm"] is not None
    first, copy = holm[1]["text_tests"], holm[4]["text_tests"]
    assert copy["repeats"] == names[1] and "repeats" not in first
    assert {m: (t["difference"], t["p_holm"]) for m, t in copy["tests"].items()} == \
        {m: (t["difference"], t["p_holm"]) for m, t in first["tests"].items()}
    note = again.text_significance_markdown().splitlines()[-1]
    assert f"; {names[4]} writes as {names[1]} does: {names[1]}'s tests, counted once" in note, note
    # one rating model under six rows: one test against PETER+, so no Holm line (it needs two), and every
    # MT row's adjusted p is that one test's p
    assert again.rating_holm_notes() == [] and holm[1]["p_holm"] == pytest.approx(holm[1]["p_value"])
    assert again._untested_rows() == f"; {', '.join(names[2:])} predict as {names[1]} does: {names[1]}'s test, " \
        "counted once"
    assert [r.per_fold[0]["bleu1"] for r in untested.results] == [rows[r.system]["bleu1"] for r in untested.results]
    assert table.panels == ["rmse", "bleu1", "rougeL", "usr", "fmr", "div", "acc5"]  # no MI without an encoder
    saved = json.loads((table.save(tmp_path / "run") / "results.json").read_text())
    assert (tmp_path / "run" / "metrics.png").stat().st_size > 1000
    assert [s["system"] for s in saved["systems"]] == list(rows) and saved["systems"][0]["params"]["epochs"] == 2
    # each system's rows of the test records, its fields named as the table's rows, and merged
    assert list(records) == ["MT", "PETER+"] and len(records["MT"]) == len(split.test)
    merged = side_by_side(list(records.values()))
    assert {"predicted_MT", "explanation_MT-U", "judged_MT-P", "predicted_PETER+", "explanation_PETER+"} <= set(merged[0])
    known = [n for n, r in enumerate(merged) if r["known_MT"]]
    texts = systems["MT"].explain(split.test.users[known], split.test.items[known], variant="pair")
    assert [merged[n]["explanation_MT-P"] for n in known] == texts
    np.testing.assert_allclose([r["predicted_PETER+"] for r in merged],
                               np.clip(systems["PETER+"].predict_corpus(split.test), 1, 5))


def test_the_command_compares_the_systems_it_is_given(tmp_path, tiny_split):
    data = tmp_path / "reviews.csv"
    Corpus.concat([tiny_split.train, tiny_split.valid, tiny_split.test]).reviews.to_csv(data, index=False)
    mt = [f"--mt={k}={v}" for k, v in {**MT_TINY, "epochs": 1}.items() if k != "d_widths"]  # tuples are not JSON
    proc = run_cli("experiment", "explain", "--data", str(data), "--system", "mt", "--system", "peter",
                   *mt, "--peter", "epochs=1", "--peter", "emsize=16", "--peter", "ffn=32", "--out", str(tmp_path / "x"))
    assert proc.returncode == 0, proc.stderr
    assert "| MT-P |" in proc.stdout and "| PETER |" in proc.stdout and (tmp_path / "x" / "results.md").exists()
    assert "Explanations against MT-U, on the test records both explain" in proc.stdout
    tested = json.loads((tmp_path / "x" / "results.json").read_text())["systems"][3]
    assert tested["system"] == "PETER"
    assert set(tested["text_tests"]["tests"]["rouge1"]) == {"difference", "p", "assignments", "exact", "p_holm"}
    assert "Read together (Holm's adjustment of the table's " in proc.stdout  # MT-I, MT-P and PETER against MT-U
    assert "mi_rating" not in proc.stdout
    rows = [json.loads(line) for line in (tmp_path / "x" / "explanations.jsonl").read_text().splitlines()]
    assert len(rows) == len(tiny_split.test) and {"explanation_MT-P", "explanation_PETER", "reference"} <= set(rows[0])
    with_mi = run_cli("experiment", "explain", "--data", str(data), "--system", "peter", "--peter", "epochs=1",
                      "--mi", "--encoder", "words", "--out", str(tmp_path / "y"), "--by-activity",
                      "--method", "sample", "--decode", "seed=2")
    assert with_mi.returncode == 0 and "| mi_rating | mi_feature |" in with_mi.stdout, with_mi.stderr
    assert "Explanations against" not in with_mi.stdout  # one explainer: nothing to test against
    assert "Explanations decoded by sampling (seed 2)" in (tmp_path / "y" / "results.md").read_text()
    assert "Explanations decoded" not in (tmp_path / "x" / "results.md").read_text()  # the plain greedy default
    assert "RMSE by the user's number of training ratings" not in proc.stdout  # only when asked for
    activity = json.loads((tmp_path / "y" / "results.json").read_text())["systems"][0]["rmse_by_activity"]
    assert sum(g["count"] for g in activity.values()) == len(tiny_split.test)
    assert "RMSE by the user's number of training ratings" in (tmp_path / "y" / "results.md").read_text()
    assert "rmse.png, metrics.png, explanations.jsonl, run.json)" in with_mi.stdout
    assert (tmp_path / "y" / "metrics.png").exists() and (tmp_path / "y" / "run.json").exists()
    assert_one_line_error(run_cli("experiment", "explain", "--data", str(data), "--system", "gpt"),
                          "unknown system(s) ['gpt']")
    assert_one_line_error(run_cli("experiment", "explain", "--data", unreadable_data(tmp_path), "--peter",
                                  "dropout=2"), "PETER: dropout must be in [0, 1), got 2")
    assert_one_line_error(run_cli("experiment", "explain", "--data", unreadable_data(tmp_path), "--system", "peter",
                                  "--method", "beam", "--decode", "top_p=0.5"),
                          "decoding: top_p is a setting of sample decoding, not of beam")


def test_compare_scores_saved_bundles_side_by_side(tmp_path, tiny_split):
    """`whyrec compare`: trained bundles as they are, nothing fitted — one row per explainer, one for
    a rating bundle (its text scores n/a), the same scores `evaluate` gives, and the explanations
    of every bundle for each test record; bundles that read texts differently are refused."""
    data = tmp_path / "reviews.csv"
    Corpus.concat([tiny_split.train, tiny_split.valid, tiny_split.test]).reviews.to_csv(data, index=False)
    tiny = ["--param", "epochs=1", "--param", "decoder_hidden=32", "--param", "vocab_size=500"]
    for name, model, extra in (("mt", "mt", tiny), ("bias", "bias-baseline", [])):
        proc = run_cli("train", model, "--data", str(data), "--out", str(tmp_path / name), *extra)
        assert proc.returncode == 0, proc.stderr
    shutil.copytree(tmp_path / "mt", tmp_path / "folded")  # as if trained with --fold-unicode
    header = json.loads((tmp_path / "folded" / "bundle.json").read_text())
    (tmp_path / "folded" / "bundle.json").write_text(json.dumps({**header, "unicode_folded": True}))
    proc = run_cli("compare", str(tmp_path / "mt"), str(tmp_path / "bias"), "--data", str(data),
                   "--out", str(tmp_path / "cmp"), "--by-activity")
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((tmp_path / "cmp" / "results.json").read_text())
    rows = {s["system"]: s["folds"][0] for s in saved["systems"]}
    assert list(rows) == ["mt MT-U", "mt MT-I", "mt MT-P", "bias"]
    # --by-activity: each row's RMSE over the test records grouped by their user's train ratings,
    # printed and saved; the groups partition the test records, so they make up the overall RMSE
    assert "RMSE by the user's number of training ratings" in proc.stdout
    for system in saved["systems"]:
        groups = system["rmse_by_activity"]
        assert sum(g["count"] for g in groups.values()) == len(tiny_split.test) and len(groups) >= 2
        pooled = sum(g["count"] * g["rmse"] ** 2 for g in groups.values()) / len(tiny_split.test)
        assert pooled ** 0.5 == pytest.approx(rows[system["system"]]["rmse"])
    assert saved["systems"][0]["rmse_by_activity"] != saved["systems"][3]["rmse_by_activity"]
    # each row after the first gets its paired t-test against the first on every group's records:
    # MT-I has MT-U's rating model, so its errors are the same (p 1); the first row has none
    first, same, _, bias = (s["rmse_by_activity"] for s in saved["systems"])
    assert all("p_vs_reference" not in g for g in first.values())
    assert all(g["p_vs_reference"] == 1.0 for g in same.values() if g["count"] >= 2)
    assert any(g["p_vs_reference"] is not None and g["p_vs_reference"] < 1.0 for g in bias.values())
    assert "p: paired t-test against mt MT-U on the group's records" in proc.stdout
    evaluated = json.loads(run_cli("evaluate", str(tmp_path / "mt"), "--data", str(data), "--json").stdout)
    assert rows["mt MT-P"]["bleu1"] == pytest.approx(evaluated["explanations"]["pair"]["bleu1"])
    assert rows["mt MT-P"]["rmse"] == pytest.approx(evaluated["rmse"]) and rows["mt MT-P"]["train_s"] is None
    assert rows["bias"]["rmse"] > 0 and rows["bias"]["bleu1"] is None  # NaN is null in the JSON
    lines = [json.loads(line) for line in (tmp_path / "cmp" / "explanations.jsonl").read_text().splitlines()]
    assert len(lines) == len(tiny_split.test) and {"explanation_mt MT-P", "predicted_bias"} <= set(lines[0])
    assert "knows none of these test users" not in proc.stdout
    strangers = tmp_path / "strangers.csv"  # the same reviews by users the bundles never saw
    Corpus.concat([tiny_split.train, tiny_split.valid, tiny_split.test]).reviews.assign(
        user=lambda f: "new-" + f["user"]).to_csv(strangers, index=False)
    elsewhere = run_cli("compare", str(tmp_path / "bias"), "--data", str(strangers), "--out", str(tmp_path / "c4"))
    assert elsewhere.returncode == 0 and "warning: bias knows none of these test users" in elsewhere.stdout
    assert_one_line_error(run_cli("compare", str(tmp_path / "mt"), str(tmp_path / "folded"), "--data", str(data),
                                  "--out", str(tmp_path / "c2")), "read their texts differently")
    assert_one_line_error(run_cli("compare", str(tmp_path / "mt"), str(tmp_path / "mt"), "--data", str(data),
                                  "--out", str(tmp_path / "c3")), "share a folder name")
    # --method/--decode: the explanations scored are decoded that way, as evaluate decodes them, and said so
    decoded = run_cli("compare", str(tmp_path / "mt"), str(tmp_path / "bias"), "--data", str(data), "--out",
                      str(tmp_path / "c5"), "--method", "beam", "--decode", "beam=2")
    assert decoded.returncode == 0, decoded.stderr
    note = "Explanations decoded by beam search (beam 2), as `whyrec explain` shows them"
    assert note in decoded.stdout and note in (tmp_path / "c5" / "results.md").read_text()
    saved = json.loads((tmp_path / "c5" / "results.json").read_text())
    assert saved["note"].startswith(note) and "note" not in json.loads((tmp_path / "cmp" / "results.json").read_text())
    beamed = json.loads(run_cli("evaluate", str(tmp_path / "mt"), "--data", str(data), "--json", "--method", "beam",
                                "--decode", "beam=2").stdout)
    assert beamed["decoding"] == "beam search (beam 2)" and "decoding" not in evaluated
    assert saved["systems"][2]["folds"][0]["bleu1"] == pytest.approx(beamed["explanations"]["pair"]["bleu1"])
    assert_one_line_error(run_cli("compare", str(tmp_path / "bias"), "--data", str(data), "--out", str(tmp_path / "c6"),
                                  "--method", "sample"), "these bundles write none")


def _row(name: str, rmse_value: float, errors, activity: dict):
    from whyrec.results_table import SystemResult

    return SystemResult(name, {"epochs": 1}, [{"rmse": rmse_value, "bleu1": 10 * rmse_value}],
                        [np.asarray(errors, dtype=float)], by_activity=activity)


def test_several_splits_combine_into_one_table_with_tests_over_them(tiny_split):
    from whyrec.results_table import ResultsTable
    from whyrec.explainer_experiment import combine_splits
    from whyrec.metrics.rating import corrected_resampled_t_test, paired_t_test

    errors_a = [[1.0, 0.0, 4.0], [0.0, 1.0, 1.0], [4.0, 1.0, 0.0]]
    errors_b = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    tables = [ResultsTable([_row("A", 1.0 + s, errors_a[s], {"0": {"count": 1, "rmse": 2.0}, "1–2": {"count": 2, "rmse": 1.0}}),
                            _row("B", 0.5 + s, errors_b[s], {"1–2": {"count": 3, "rmse": 0.5}})],
                           ["rmse", "bleu1"], "A", [f"s{s}"]) for s in range(3)]
    splits = [tiny_split] * 3
    table = combine_splits(tables, splits)
    a, b = table.results
    assert table.splits == [tiny_split.name] * 3 and table.columns[-2:] == ["p vs A", "p vs A over splits"]
    assert [f["rmse"] for f in b.per_fold] == [0.5, 1.5, 2.5] and b.mean("bleu1") == pytest.approx(15.0)
    assert b.p_value == pytest.approx(paired_t_test(np.concatenate(errors_b), np.concatenate(errors_a))[1])
    ratio = len(tiny_split.test) / len(tiny_split.train)
    assert b.p_value_over_splits == pytest.approx(corrected_resampled_t_test(
        [np.mean(e) for e in errors_b], [np.mean(e) for e in errors_a], ratio)[1])
    assert a.p_value is None
    # activity groups pooled over the splits: √(Σ n·RMSE² / Σ n), in the groups' own order
    assert list(a.by_activity) == ["0", "1–2"] and a.by_activity["1–2"] == {"count": 6, "rmse": 1.0}
    assert b.by_activity["1–2"]["count"] == 9 and b.by_activity["1–2"]["rmse"] == pytest.approx(0.5)
    assert "p_vs_reference" not in b.by_activity["1–2"]  # the rows know no record's group
    with pytest.raises(ValueError, match="same rows"):
        combine_splits([tables[0], ResultsTable([tables[1].results[1]], ["rmse"], None, ["x"])], splits[:2])
    with pytest.raises(ValueError, match="2 tables for 3 splits"):
        combine_splits(tables[:2], splits)


def test_the_command_runs_on_several_fixed_splits(tmp_path, tiny_split):
    corpus = Corpus.concat([tiny_split.train, tiny_split.valid, tiny_split.test])
    folder = tmp_path / "data"
    folder.mkdir()
    corpus.reviews.to_csv(folder / "reviews.csv", index=False)
    n = len(corpus)
    for name, seed in (("1", 0), ("2", 1)):
        order = np.random.default_rng(seed).permutation(n)
        parts = {"train": order[: int(0.8 * n)], "valid": order[int(0.8 * n): int(0.9 * n)], "test": order[int(0.9 * n):]}
        (folder / name).mkdir()
        for part, file in (("train", "train"), ("valid", "validation"), ("test", "test")):
            (folder / name / f"{file}.index").write_text(" ".join(map(str, sorted(parts[part]))) + "\n")
    peter = ["--peter", "epochs=1", "--peter", "emsize=16", "--peter", "ffn=32"]
    proc = run_cli("experiment", "explain", "--data", str(folder), "--splits", "all", "--system", "peter",
                   "--system", "peter+", *peter, "--out", str(tmp_path / "x"))
    assert proc.returncode == 0, proc.stderr
    assert "(mean ± sd over 2 splits)" in proc.stdout and "| PETER+ |" in proc.stdout and " ± " in proc.stdout
    saved = json.loads((tmp_path / "x" / "results.json").read_text())
    assert saved["splits"] == ["data/1", "data/2"] and len(saved["systems"][1]["folds"]) == 2
    assert saved["systems"][1]["p_value_over_splits"] is not None
    rows = [json.loads(line) for line in (tmp_path / "x" / "explanations.jsonl").read_text().splitlines()]
    assert [r["split"] for r in rows].count("data/2") == len(rows) - [r["split"] for r in rows].count("data/1") > 0
    assert {"explanation_PETER", "explanation_PETER+"} <= set(rows[0])
    # each split was kept as it ended: run again with --resume, both are read back, nothing trains
    assert sorted(p.name for p in (tmp_path / "x" / "splits").iterdir()) == ["1.json", "2.json"]
    first = {name: (tmp_path / "x" / name).read_text() for name in ("results.json", "explanations.jsonl")}
    again = run_cli("experiment", "explain", "--data", str(folder), "--splits", "all", "--system", "peter",
                    "--system", "peter+", *peter, "--out", str(tmp_path / "x"), "--resume")
    assert again.returncode == 0, again.stderr
    assert f"split data/1: read back from {tmp_path / 'x' / 'splits' / '1.json'}" in again.stdout
    assert "split data/2: read back from" in again.stdout
    # the same files, training seconds included: nothing was trained again
    assert {name: (tmp_path / "x" / name).read_text() for name in first} == first
    # other settings: split 2 is trained again (and kept anew)
    other = run_cli("experiment", "explain", "--data", str(folder), "--splits", "2", "--system", "peter",
                    "--peter", "epochs=1", "--peter", "emsize=8", "--peter", "ffn=32", "--out", str(tmp_path / "x"),
                    "--resume")
    assert other.returncode == 0 and "read back" not in other.stdout
    assert_one_line_error(run_cli("experiment", "explain", "--data", str(folder), "--resume"), "give --splits")
    assert_one_line_error(run_cli("experiment", "explain", "--data", str(folder), "--splits", "1", "--split",
                                  str(folder / "1")), "give either --split")
    assert_one_line_error(run_cli("experiment", "explain", "--data", str(folder), "--splits", "3"),
                          "no split folder 3 with a train.index; found: 1, 2")


def test_several_splits_test_each_activity_group_over_them(tiny_split):
    """combine_splits with the records' activity groups: per group, the paired t-test on the records
    of every split pooled and the corrected resampled t-test on the group's MSE per split."""
    from whyrec.results_table import ResultsTable
    from whyrec.explainer_experiment import combine_splits
    from whyrec.metrics.rating import corrected_resampled_t_test, paired_t_test

    rng = np.random.default_rng(0)
    groups = [np.array(["0", "1–2", "1–2", "3–5", "1–2", "0"])] * 3
    errors = {name: [rng.random(6) for _ in range(3)] for name in "AB"}
    tables = []
    for s in range(3):
        rows = []
        for name in "AB":
            row = _row(name, float(np.sqrt(errors[name][s].mean())), errors[name][s],
                       {g: {"count": int((groups[s] == g).sum()), "rmse": 1.0} for g in ("0", "1–2", "3–5")})
            row.activity_groups = [groups[s]]
            rows.append(row)
        tables.append(ResultsTable(rows, ["rmse", "bleu1"], "A", [f"s{s}"]))
    a, b = combine_splits(tables, [tiny_split] * 3).results
    ratio = len(tiny_split.test) / len(tiny_split.train)
    for group in ("0", "1–2"):
        chosen = groups[0] == group
        pooled = [np.concatenate([e[chosen] for e in errors[name]]) for name in "BA"]
        assert b.by_activity[group]["p_vs_reference"] == pytest.approx(paired_t_test(*pooled)[1])
        per_split = [[float(e[chosen].mean()) for e in errors[name]] for name in "BA"]
        assert b.by_activity[group]["p_over_splits"] == pytest.approx(corrected_resampled_t_test(*per_split, ratio)[1])
    assert b.by_activity["3–5"]["p_vs_reference"] is not None  # three records, one per split
    assert all("p_vs_reference" not in g for g in a.by_activity.values())


WORDS = ["strap", "tone", "neck", "case", "price", "sound", "pick", "bag", "knob", "cable", "fret", "amp"]


def _scored(positions: list[int], texts: list[str]):
    """An explainer's scored texts of the records at ``positions``: each record's reference names its word."""
    from whyrec.explainer_experiment import ScoredTexts

    return ScoredTexts(positions, [f"the {WORDS[p]} is fine".split() for p in positions], [t.split() for t in texts],
                       [""] * len(texts), {}, set())


def test_text_tests_pair_records_by_their_position_and_leave_rows_sharing_none_untested():
    from whyrec.explainer_experiment import _text_tests
    from whyrec.metrics.text import corpus_bleu
    from whyrec.results_table import SystemResult

    first = _scored([0, 1, 2, 3, 4, 5], ["the strap", "tone", "neck", "case", "price", "sound"])
    # the records at positions 5, 3 and 4, in another order, and one at 9, which the first row does not explain
    shuffled = ([5, 9, 3, 4], ["the sound is", "the fret", "the case is fine", "a price"])
    rows = [SystemResult(name, {}, explained=texts) for name, texts in (
        ("first", first), ("shuffled", _scored(*shuffled)), ("elsewhere", _scored([10, 11], ["the amp", "a cable"])),
        ("again", _scored(*shuffled)))]
    _text_tests(rows, [rows], trials=50)
    tested, elsewhere, again = rows[1:]
    assert tested.text_tested_records == 3 and tested.text_tests and not tested.text_as_reference
    references = [f"the {WORDS[p]} is fine".split() for p in (5, 3, 4)]
    mine = [t.split() for t in ("the sound is", "the case is fine", "a price")]
    theirs = [t.split() for t in ("sound", "case", "price")]  # the first row's, at the same positions
    assert tested.text_tests["bleu1"].difference == pytest.approx(
        corpus_bleu(references, mine, 1) - corpus_bleu(references, theirs, 1))
    assert elsewhere.text_tests == {} and elsewhere.text_tested_records == 0  # no record in common: no test
    assert again.text_repeats == "shuffled" and tested.text_repeats is None


def test_a_split_without_test_records_is_refused_before_anything_is_scored(tiny_split):
    from whyrec.data.split import Split
    from whyrec.errors import DataError
    from whyrec.rating import BiasBaseline

    empty = Split(tiny_split.train, tiny_split.valid, tiny_split.test.take(np.arange(0)), "tiny/empty-test")
    system = MultiTask(**MT_TINY)
    with pytest.raises(DataError, match="split tiny/empty-test has no test records to score"):
        compare_explainers(empty, {"MT": system})
    assert system.history == []  # refused before training
    with pytest.raises(DataError, match="has no test records"):
        compare_trained(empty, {"bias": BiasBaseline().fit(tiny_split.train)})


def test_rating_bundles_side_by_side_test_their_squared_errors_against_the_first(tiny_split):
    """compare_trained of rating models alone: each row's squared errors are those of its clipped
    predictions, its p-value the paired t-test of them against the first row's, its test time
    within the call's; the reference is the first row, when there is a second to test."""
    from whyrec.metrics.rating import paired_t_test
    from whyrec.rating import BiasBaseline, GlobalAverage

    systems = {"bias": BiasBaseline().fit(tiny_split.train), "mean": GlobalAverage().fit(tiny_split.train)}
    began = time.perf_counter()
    table = compare_trained(tiny_split, systems)
    elapsed = time.perf_counter() - began
    test = tiny_split.test
    squared = {name: (np.clip(s.predict_corpus(test), 1, 5) - test.ratings) ** 2 for name, s in systems.items()}
    bias, mean = table.results
    for row in (bias, mean):
        np.testing.assert_allclose(row.squared_errors[0], squared[row.system])
        assert 0.0 < row.per_fold[0]["test_s"] <= elapsed and np.isnan(row.per_fold[0]["train_s"])
    assert mean.p_value == pytest.approx(paired_t_test(squared["mean"], squared["bias"])[1]) and mean.p_value < 1.0
    assert table.reference == "bias" and bias.p_value is None
    alone = compare_trained(tiny_split, {"mean": systems["mean"]})
    assert alone.reference is None and alone.results[0].p_value is None


def test_text_tests_need_the_first_row_explained_and_test_every_later_row_that_is():
    from whyrec.explainer_experiment import _text_tests
    from whyrec.results_table import SystemResult

    def rows(*explained):
        return [SystemResult(f"r{n}", {}, explained=e) for n, e in enumerate(explained)]

    first = _scored([0, 1, 2], ["the strap", "tone", "neck"])
    other = _scored([0, 1, 2], ["a strap", "the tone", "fine"])
    two = rows(first, other)
    _text_tests(two, [two], trials=20)  # two rows: the second tested against the first
    assert two[1].text_tests and two[1].text_tested_records == 3
    unexplained_first = rows(None, other)  # a rating bundle first: no reference to test texts against
    _text_tests(unexplained_first, [unexplained_first], trials=20)
    assert not unexplained_first[1].text_tests and unexplained_first[1].text_tested_records == 0
    gap = rows(first, None, other)  # a rating bundle between explainers: the explainer after it is tested
    _text_tests(gap, [gap], trials=20)
    assert not gap[1].text_tests and gap[2].text_tests and gap[2].text_tested_records == 3


def test_scored_texts_are_read_by_the_judge_only_with_the_predicted_classes_to_match():
    from types import SimpleNamespace

    import pandas as pd

    from whyrec.explainer_experiment import ScoredTexts

    written = SimpleNamespace(texts={"pair": ["great tone", "poor strap"]}, references=[["a"], ["b"]],
                              feature_words=["tone", ""], known=SimpleNamespace(positions=pd.Index([4, 7])))

    class Judge:  # reads every explanation as a 5
        def predict(self, texts):
            return np.full(len(texts), 5)

    assert ScoredTexts.of(written, "pair", set(), judge=None, classes=np.array([5, 1])).agreement == {}
    assert ScoredTexts.of(written, "pair", set(), judge=Judge(), classes=None).agreement == {}
    read = ScoredTexts.of(written, "pair", {"tone"}, judge=Judge(), classes=np.array([5, 1]))
    assert read.positions == [4, 7] and read.hypotheses == [["great", "tone"], ["poor", "strap"]]
    assert read.agreement and list(read.agreement["acc5"]) == [100, 0]


def test_split_tables_combine_their_text_tests_only_when_asked(tiny_split):
    from whyrec.explainer_experiment import combine_splits
    from whyrec.results_table import ResultsTable

    def table(s: int) -> ResultsTable:
        rows = [_row(name, 1.0 + s, [1.0, 0.0, 4.0], {}) for name in ("A", "B")]
        rows[0].explained = _scored([0, 1, 2], ["the strap", "tone", "neck"])
        rows[1].explained = _scored([0, 1, 2], ["a strap", "the tone is fine", "neck"])
        return ResultsTable(rows, ["rmse", "bleu1"], "A", [f"s{s}"])

    plain = combine_splits([table(0), table(1)], [tiny_split] * 2)
    assert not plain.results[1].text_tests and plain.results[1].text_tested_records == 0
    tested = combine_splits([table(0), table(1)], [tiny_split] * 2, trials=20)
    assert tested.results[1].text_tests and tested.results[1].text_tested_records == 6  # 3 records in each split
