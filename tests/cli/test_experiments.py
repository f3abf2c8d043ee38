"""``whyrec experiment mt`` and ``whyrec experiment rating``."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from tests.cli.invoke import assert_one_line_error, run_cli, unreadable_data


def with_two_fixed_splits(data, corpus):
    """``data``: a folder of ``corpus``'s reviews and two fixed splits, 1 and 2, in each of which
    every 10th record (from 0, from 1) tests and every 10th from 5 (from 6) validates."""
    data.mkdir()
    corpus.reviews.to_csv(data / "reviews.csv", index=False)
    rows = np.arange(len(corpus))
    for name, shift in (("1", 0), ("2", 1)):
        (data / name).mkdir()
        test, valid = rows[(rows - shift) % 10 == 0], rows[(rows - shift) % 10 == 5]
        for part, index in (("train", np.setdiff1d(rows, np.union1d(test, valid))), ("validation", valid),
                            ("test", test)):
            (data / name / f"{part}.index").write_text(" ".join(map(str, index)))
    return data


TINY_MT = ["factors=3", "vocab_size=300", "max_words=8", "doc_words=12", "doc_reviews=3", "word_dim=16",
           "word_vectors=random", "encoder_hidden=12", "decoder_hidden=24", "pg_batch=8", "rollouts=2",
           "d_samples=8", "pg_steps=1", "d_steps=1", "adversarial_from=2", "d_filters=4"]


def test_experiment_mt_command(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    args = ["experiment", "mt", "--data", str(path), "--out", str(tmp_path / "mt"), "--epochs", "2",
            "--lm-seeds", "2", "--lm-epochs", "4", "--method", "beam", "--decode", "beam=2"]  # the default decoding: test_mt_experiment
    for s in TINY_MT:
        args += ["--set", s]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "| MT-P |" in proc.stdout and (tmp_path / "mt" / "mt.json").exists()
    assert "| GRU LM | " in proc.stdout and "(2 runs: " in proc.stdout
    # MT-U/I/P's texts decoded as asked, and said so
    assert "MT-U/I/P's explanations decoded by beam search (beam 2), as `whyrec explain` shows them" in proc.stdout
    assert json.loads((tmp_path / "mt" / "mt.json").read_text())["decoding"] == "beam search (beam 2)"
    assert "## Examples (MT-P, beam search (beam 2))" in (tmp_path / "mt" / "mt.md").read_text()
    record = json.loads((tmp_path / "mt" / "run.json").read_text())  # written with the tables, renamed with them
    assert "experiment mt" in record["command"] and len(record["split_fingerprints"]) == 1
    assert not list((tmp_path / "mt").glob("*.tmp"))
    bad = run_cli("experiment", "mt", "--data", str(path), "--set", "epoch=3")
    assert_one_line_error(bad, "unknown setting(s) ['epoch']")


def test_experiment_mt_over_fixed_splits(tmp_path):
    from whyrec.data.synthetic import make_planted_corpus

    data = with_two_fixed_splits(tmp_path / "data", make_planted_corpus(n_users=40, n_items=20, reviews_per_user=8,
                                                                        seed=2).corpus)
    out, args = tmp_path / "mt", ["--epochs", "1", "--lm-epochs", "2", "--set", 'variants=["pair"]']
    for s in TINY_MT:
        args += ["--set", s]
    proc = run_cli("experiment", "mt", "--data", str(data), "--splits", "1,2", "--out", str(out), *args)
    assert proc.returncode == 0, proc.stderr
    assert "# MT on data, 2 splits (1, 2)" in proc.stdout and "| plain ALS |" in proc.stdout
    assert "corrected resampled t-test" in proc.stdout
    second = json.loads((out / "split-2" / "mt.json").read_text())
    assert second["split"] == "data/2"
    assert {r["training"]["cap"] for r in second["text"] if r["system"] in ("LSTM", "GRU LM", "GCN-P")} == {2}
    assert json.loads((out / "mt_splits.json").read_text())["splits"] == ["1", "2"]
    assert len(json.loads((out / "run.json").read_text())["split_fingerprints"]) == 2
    summary = (out / "mt_splits.json").read_text()
    again = run_cli("experiment", "mt", "--data", str(data), "--splits", "1,2", "--out", str(out), *args, "--resume")
    assert again.returncode == 0, again.stderr
    assert "split 1 (1/2): read back from" in again.stdout and "split 2 (2/2): read back from" in again.stdout
    assert (out / "mt_splits.json").read_text() == summary  # nothing trained again: the same numbers
    assert_one_line_error(run_cli("experiment", "mt", "--data", str(data), "--resume"), "give --splits")
    assert_one_line_error(run_cli("experiment", "mt", "--data", str(data), "--splits", "1,2", "--split",
                                  str(data / "1")), "give either --split (one folder) or --splits")
    assert_one_line_error(run_cli("experiment", "mt", "--data", str(data), "--splits", "3"),
                          "no split folder 3 with a train.index; found: 1, 2")


def test_experiment_rating_over_fixed_splits_and_random_folds(tmp_path, planted):
    from whyrec.data import fixed_index_split, load_corpus
    from whyrec.metrics.rating import rmse
    from whyrec.rating import make_model

    data = with_two_fixed_splits(tmp_path / "data", planted.corpus)
    out = tmp_path / "run"
    proc = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline:reg_user=2,reg_item=2",
                   "--model", "pmf:factors=4", "--out", str(out), "--by-activity")
    assert proc.returncode == 0, proc.stderr
    assert "RMSE by the user's number of training ratings" in proc.stdout
    # results.md says what it compares on which data, as the command printed it
    assert (out / "results.md").read_text().startswith("# rating prediction on data, 2 split(s): 1, 2\n\n| system |")
    result = json.loads((out / "results.json").read_text())
    assert [s["system"] for s in result["systems"]] == ["bias-baseline:reg_user=2,reg_item=2", "pmf:factors=4"]
    assert [name.split("/")[-1] for name in result["splits"]] == ["1", "2"]
    corpus = load_corpus(data / "reviews.csv", duplicates="keep-all")
    for k, folder in enumerate(("1", "2")):  # each fold's RMSE is that of the model fitted on that split
        split = fixed_index_split(corpus, data / folder)
        model = make_model("pmf", factors=4).fit(split.train, split.valid)
        expected = rmse(np.clip(model.predict_corpus(split.test), 1, 5), split.test.ratings)
        assert result["systems"][1]["folds"][k]["rmse"] == pytest.approx(expected)
    assert result["systems"][1]["p_value"] is not None and "p vs bias-baseline" in proc.stdout
    run = json.loads((out / "run.json").read_text())  # how the folder was made, down to the data's bytes
    assert run["command"].startswith("whyrec experiment rating --data ") and run["command"].endswith("--by-activity")
    assert run["data"]["path"] == str((data / "reviews.csv").resolve())
    assert run["data"]["sha256"] == hashlib.sha256((data / "reviews.csv").read_bytes()).hexdigest()
    assert "run.json" in proc.stdout
    from whyrec.provenance import split_record

    assert run["splits"] == [split_record(data / "1"), split_record(data / "2")]  # the fixed splits read

    folds = run_cli("experiment", "rating", "--data", str(data / "reviews.csv"), "--model", "global-average",
                    "--model", "bias-baseline:reg_user=1|5", "--splits", "2", "--top-k", "5", "--tune-on", "mae",
                    "--out", str(tmp_path / "one"))
    assert folds.returncode == 0 and len(json.loads((tmp_path / "one" / "results.json").read_text())["splits"]) == 1
    # a grid is picked on the split's validation part, and the pick is said (ranked by the picked model)
    assert "picked on validation: bias-baseline:reg_user=1|5, split " in folds.stdout
    assert "(validation MAE " in folds.stdout  # by --tune-on
    assert "| system | rmse | mae | precision@5 | recall@5 | hr@5 | mrr@5 | ndcg@5 |" in folds.stdout
    assert "no fewer than the" not in folds.stdout  # 5 places: fewer than the items
    whole = run_cli("experiment", "rating", "--data", str(data / "reviews.csv"), "--model", "global-average",
                    "--splits", "2", "--top-k", "100000", "--out", str(tmp_path / "whole"))
    said = "each list holds all of a user's unrated ones; only mrr and ndcg then depend on the order."
    assert whole.returncode == 0 and said in " ".join(whole.stdout.split()), whole.stderr  # as evaluate says it
    assert said in (tmp_path / "whole" / "results.md").read_text()
    flat = tmp_path / "flat.csv"
    planted.corpus.reviews.to_csv(flat, index=False)
    folds = run_cli("experiment", "rating", "--data", str(flat), "--model", "bias-baseline", "--kfold", "3",
                    "--out", str(tmp_path / "k"))
    assert folds.returncode == 0, folds.stderr
    assert len(json.loads((tmp_path / "k" / "results.json").read_text())["systems"][0]["folds"]) == 3
    # a seed beside the fixed splits draws one random split with it (it had been left unread)
    seeded = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline", "--seed", "4",
                     "--out", str(tmp_path / "s"))
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads((tmp_path / "s" / "results.json").read_text())["splits"] == ["data/ratio-4"]
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--splits", "1", "--seed", "4"),
                          "--seed draws random splits and --split or --splits names fixed ones")
    # fixed splits asked for where there are none are refused, not replaced by a random split
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(flat), "--splits", "all"),
                          "--splits reads the fixed splits of a data folder")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--splits", "all", "--kfold", "3"),
                          "give one of --split, --splits and --kfold")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(flat), "--kfold", "1001"),
                          "--kfold 1,001 asks for more splits than the 1,000 one command makes")
    # --split: one split folder wherever `data split --out` wrote it (it had no way in before)
    assert run_cli("data", "split", str(flat), "--leave-last-out", "--out", str(tmp_path / "by-time")).returncode == 0
    by_time = run_cli("experiment", "rating", "--data", str(flat), "--split", str(tmp_path / "by-time" / "1"),
                      "--model", "Bias-Baseline", "--model", "global-average", "--reference", "Global-Average",
                      "--out", str(tmp_path / "t"))  # models named in any case, as the tables spell them
    assert by_time.returncode == 0, by_time.stderr
    written = json.loads((tmp_path / "t" / "results.json").read_text())
    assert written["splits"] == ["flat/1"] and written["reference"] == "global-average"
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(flat), "--split", str(tmp_path / "by-time" / "1"),
                                  "--kfold", "3"), "give one of --split, --splits and --kfold")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--splits", "7"),
                          "no split folder 7 with a train.index; found: 1, 2")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--model", "pmf:factors=x"),
                          "pmf")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--model", "pmf",
                                  "--reference", "als"), "--reference 'als' is not one of the models: pmf")


def test_experiment_explain_refuses_settings_of_no_system_it_compares(tmp_path):
    """--mt with only PETER compared was dropped unread; a mistyped system is told the close one; a
    decoding the systems cannot take is refused before they train. Each is refused before the data
    is read."""
    data = unreadable_data(tmp_path)
    assert_one_line_error(run_cli("experiment", "explain", "--data", data, "--system", "peter", "--mt", "epochs=1"),
                          "--mt sets MT, which is not among the systems compared (peter); add --system mt")
    assert_one_line_error(run_cli("experiment", "explain", "--data", data, "--system", "mt", "--peter", "epochs=1"),
                          "--peter sets PETER and PETER+, neither of which is among the systems compared (mt)")
    assert_one_line_error(run_cli("experiment", "explain", "--data", data, "--system", "petr"),
                          "unknown system(s) ['petr'] (did you mean 'peter'?); known: mt, peter, peter+")
    # a decoding is checked on the systems before they train: MT's, untrained, was once taken for a rating model's
    sampled = run_cli("experiment", "explain", "--data", data, "--system", "mt", "--method", "sample")
    assert sampled.returncode == 2 and "rating model" not in sampled.stderr and "no column for 'rating'" in \
        sampled.stderr, sampled.stderr
    assert_one_line_error(run_cli("experiment", "explain", "--data", data, "--system", "mt", "--mt", "max_words=6",
                                  "--method", "sample", "--decode", "min_words=7"),
                          "min_words (7) is more than the 6 words MT writes at most")
    assert_one_line_error(run_cli("experiment", "mt", "--data", data, "--set", "max_words=6", "--decode",
                                  "min_words=7"), "min_words (7) is more than the 6 words MT writes at most")
    # --seed draws one random split; --splits runs the fixed ones
    for command in ("mt", "explain"):
        assert_one_line_error(run_cli("experiment", command, "--data", data, "--splits", "all", "--seed", "3"),
                              "--splits runs the data folder's fixed splits and --seed draws one random split")
