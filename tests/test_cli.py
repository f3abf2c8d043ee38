"""The command line: main job, stats, train/evaluate round trip, and one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import REVIEWS, amazon_lines


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "whyrec.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "COLUMNS": "200"})


def assert_one_line_error(proc: subprocess.CompletedProcess, pattern: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert pattern in lines[0], lines[0]


def test_demo_runs_on_planted_data(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert "context-aware ALS" in proc.stdout and "rmse" in proc.stdout
    assert (tmp_path / "demo" / "results.md").exists()


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
    evaluate = run_cli("evaluate", str(bundle), "--data", str(path))
    assert evaluate.returncode == 0, evaluate.stderr
    rmse_train = train.stdout.split("test: RMSE ")[1].split()[0]
    assert f"RMSE {rmse_train}" in evaluate.stdout
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(tmp_path / "x")),
                          "MMI aligns an explanation generator")


def test_train_peter_plus_saves_a_bundle_that_evaluates_the_same(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    bundle = tmp_path / "peter"
    train = run_cli("train", "peter+", "--data", str(path), "--out", str(bundle), "--param", "emsize=32",
                    "--param", "ffn=64", "--param", "epochs=2", "--checkpoint", str(tmp_path / "ckpt"))
    assert train.returncode == 0, train.stderr
    assert "test: RMSE" in train.stdout and (bundle / "bundle.json").exists() and "→" in train.stdout
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["epoch-0002"]
    assert_one_line_error(run_cli("train", "peter+", "--data", str(path), "--out", str(bundle), "--param",
                                  "emsize=16", "--checkpoint", str(tmp_path / "ckpt")), "other settings")
    assert_one_line_error(run_cli("train", "bias-baseline", "--data", str(path), "--out", str(tmp_path / "b"),
                                  "--checkpoint", str(tmp_path / "ckpt")), "--checkpoint is for mt, peter")
    assert_one_line_error(run_cli("train", "peter+", "--data", str(path), "--out", str(bundle), "--param",
                                  "dropout=1.5"), "PETER: dropout must be in [0, 1), got 1.5")
    evaluate = run_cli("evaluate", str(bundle), "--data", str(path))
    assert evaluate.returncode == 0, evaluate.stderr
    assert f"RMSE {train.stdout.split('test: RMSE ')[1].split()[0]}" in evaluate.stdout
    assert "PETER+ on" in evaluate.stdout and "BLEU-4" in evaluate.stdout and "DIV" in evaluate.stdout
    scores = json.loads(run_cli("evaluate", str(bundle), "--data", str(path), "--json").stdout)
    peter_scores = scores["explanations"]["peter+"]
    assert set(peter_scores) == {"bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "usr", "fmr", "fcr", "div", "ppl",
                                 "acc5", "acc3"}
    assert 1.0 < peter_scores["ppl"] and 0.0 <= peter_scores["acc3"] <= 100.0 and "perplexity" in evaluate.stdout
    assert_one_line_error(run_cli("train", "peter", "--data", str(path), "--out", str(bundle), "--param", "layerz=3"),
                          "unknown setting")
    # MMI on the saved PETER+, with a rating input; the aligned bundle is new, the input untouched
    aligned = tmp_path / "aligned"
    before_files = sorted((p.name, p.stat().st_mtime_ns) for p in bundle.iterdir())
    proc = run_cli("align", str(bundle), "--data", str(path), "--out", str(aligned), "--encoder", "words",
                   "--rating-input", "--epochs", "2", "--samples", "2", "--batches", "2",
                   "--set", "mine_pretrain_epochs=3", "--set", "mine_hidden=8", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "before: test RMSE" in proc.stdout and "after: test RMSE" in proc.stdout and "⇒" in proc.stdout
    assert json.loads((aligned / "bundle.json").read_text())["rating_input"] is True
    assert sorted((p.name, p.stat().st_mtime_ns) for p in bundle.iterdir()) == before_files
    assert run_cli("evaluate", str(aligned), "--data", str(path)).returncode == 0
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(aligned),
                                  "--encoder", "words", "--target", "style"), "target must be one of")
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(bundle)),
                          "--out must be a new folder")
    assert_one_line_error(run_cli("align", str(bundle), "--data", str(path), "--out", str(tmp_path / "y"),
                                  "--device", "banana"), "unknown device 'banana'")
    if not torch.cuda.is_available():  # a device the machine lacks fails before any data is read
        assert_one_line_error(run_cli("train", "peter", "--data", str(tmp_path / "absent.csv"), "--out",
                                      str(tmp_path / "z"), "--device", "cuda"), "no CUDA GPU")


def test_truncated_gzip_warns_with_count(tmp_path):
    full = tmp_path / "full.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(REVIEWS * 300)) + "\n")
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(full.read_bytes()[:3000])
    proc = run_cli("data", "stats", str(cut), "--duplicates", "keep-all")
    assert proc.returncode == 0
    warning = [l for l in proc.stderr.splitlines() if "truncated" in l]
    assert len(warning) == 1 and "complete lines read" in warning[0]


def test_csv_missing_column_error(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame(REVIEWS, columns=["reviewerID", "asin", "score_x", "reviewText"]).to_csv(path, index=False)
    assert_one_line_error(run_cli("data", "stats", str(path)), "no column for 'rating'")


def test_rating_of_seven(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("\n".join(amazon_lines(list(REVIEWS) + [("zed", "guitar", 7.0, "Seven stars!")])))
    lenient = run_cli("data", "stats", str(path))
    assert lenient.returncode == 0 and "1 skipped (rating out of scale)" in lenient.stderr
    assert_one_line_error(run_cli("data", "stats", str(path), "--strict"),
                          "r.json:7: field 'rating': rating 7 is outside the scale 1..5")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_hostile_pickle(tmp_path):
    path = tmp_path / "reviews.pickle"
    path.write_bytes(pickle.dumps([{"user": "a", "item": "b", "rating": 5, "template": _Evil()}]))
    proc = run_cli("data", "stats", str(path), cwd=tmp_path)
    assert_one_line_error(proc, "system; only plain containers and scalars are allowed")
    assert not (tmp_path / "pwned.txt").exists()


def test_missing_file_and_bad_bundle(tmp_path):
    assert_one_line_error(run_cli("data", "stats", str(tmp_path / "nope.json")), "no such file")
    assert_one_line_error(run_cli("evaluate", str(tmp_path), "--data", str(tmp_path / "x.csv")), "not a whyrec bundle")
    assert_one_line_error(run_cli("train", "nope", "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path / "b")),
                          "unknown rating model 'nope'")


@pytest.mark.parametrize("name,reviews,users,items", [
    ("amazon-digital-music", "6,908", "2,490", "382"),
    ("amazon-musical-instruments", "5,050", "1,381", "392"),
    ("amazon-magazine-subscriptions", "2,375", "348", "157"),
    ("amazon-gift-cards", "2,972", "458", "148"),
])
def test_stats_on_shared_data(shared_data, name, reviews, users, items):
    proc = run_cli("data", "stats", str(shared_data / name / "reviews.json.gz")
                   if (shared_data / name / "reviews.json.gz").exists() else str(shared_data / name / "reviews.csv"))
    assert proc.returncode == 0, proc.stderr
    assert f"in the file: {reviews} records, {users} users, {items} items" in proc.stdout


def test_experiment_mt_command(tmp_path, planted):
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    settings = ["factors=3", "vocab_size=300", "max_words=8", "doc_words=12", "doc_reviews=3", "word_dim=16",
                "word_vectors=random", "encoder_hidden=12", "decoder_hidden=24", "pg_batch=8", "rollouts=2",
                "d_samples=8", "pg_steps=1", "d_steps=1", "adversarial_from=2", "d_filters=4"]
    args = ["experiment", "mt", "--data", str(path), "--out", str(tmp_path / "mt"), "--epochs", "2",
            "--lm-seeds", "2"]
    for s in settings:
        args += ["--set", s]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "| MT-P |" in proc.stdout and (tmp_path / "mt" / "mt.json").exists()
    assert "| GRU LM | " in proc.stdout and "(2 runs: " in proc.stdout
    bad = run_cli("experiment", "mt", "--data", str(path), "--set", "epoch=3")
    assert_one_line_error(bad, "unknown setting(s) ['epoch']")


def test_training_progress_says_the_epoch_and_the_time_left_at_most():
    from whyrec.cli.training import _duration, _EpochProgress

    assert (_duration(5), _duration(125), _duration(3725)) == ("5s", "2m05s", "1h02m")
    lines = []

    class Status:
        def update(self, message):
            lines.append(message)

    progress = _EpochProgress(Status(), "MT", 10)
    ticks = iter([100.0, 130.0])  # started at 100 s; epoch 4 (resumed after 3) ends at 130 s
    progress.started, progress.clock = next(ticks), lambda: next(ticks)
    progress({"epoch": 4}, "valid RMSE 0.9000")
    assert lines == ["training MT: epoch 4/10, valid RMSE 0.9000, at most 3m00s left"]


def test_help_answers_without_importing_torch():
    """Heavy imports happen inside the commands that need them (torch alone takes about a second)."""
    code = ("import sys\nsys.argv = ['whyrec', '--help']\nfrom whyrec.cli import main\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint('torch imported:', 'torch' in sys.modules, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WORLD_SIZE": "1"})
    assert "train" in proc.stdout and "torch imported: False" in proc.stderr


def test_experiment_rating_over_fixed_splits_and_random_folds(tmp_path, planted):
    from whyrec.data import fixed_index_split, load_corpus
    from whyrec.metrics.rating import rmse
    from whyrec.rating import make_model

    data = tmp_path / "data"
    data.mkdir()
    planted.corpus.reviews.to_csv(data / "reviews.csv", index=False)
    n = len(planted.corpus)
    for name, shift in (("1", 0), ("2", 1)):  # two fixed splits: every 10th record (from shift) tests
        (data / name).mkdir()
        rows = np.arange(n)
        test, valid = rows[(rows - shift) % 10 == 0], rows[(rows - shift) % 10 == 5]
        for part, index in (("train", np.setdiff1d(rows, np.union1d(test, valid))), ("validation", valid),
                            ("test", test)):
            (data / name / f"{part}.index").write_text(" ".join(map(str, index)))
    out = tmp_path / "run"
    proc = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline:reg_user=2,reg_item=2",
                   "--model", "pmf:factors=4", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
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

    folds = run_cli("experiment", "rating", "--data", str(data / "reviews.csv"), "--model", "global-average",
                    "--model", "bias-baseline", "--splits", "2", "--out", str(tmp_path / "one"))
    assert folds.returncode == 0 and len(json.loads((tmp_path / "one" / "results.json").read_text())["splits"]) == 1
    flat = tmp_path / "flat.csv"
    planted.corpus.reviews.to_csv(flat, index=False)
    folds = run_cli("experiment", "rating", "--data", str(flat), "--model", "bias-baseline", "--kfold", "3",
                    "--out", str(tmp_path / "k"))
    assert folds.returncode == 0, folds.stderr
    assert len(json.loads((tmp_path / "k" / "results.json").read_text())["systems"][0]["folds"]) == 3
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--splits", "7"),
                          "no split folder 7 with a train.index; found: 1, 2")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--model", "pmf:factors=x"),
                          "pmf")
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(data), "--model", "pmf",
                                  "--reference", "als"), "--reference 'als' is not one of the models: pmf")


def test_data_split_writes_folders_the_commands_then_use(tmp_path, planted):
    from whyrec.data import fixed_index_split, load_corpus, ratio_split

    data = tmp_path / "reviews.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    proc = run_cli("data", "split", str(data), "--count", "2", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    corpus = load_corpus(data)
    for k in (1, 2):  # split k is the random split of seed 7 + k − 1, as index files
        written, expected = fixed_index_split(corpus, tmp_path / str(k)), ratio_split(corpus, seed=6 + k)
        assert written.test.reviews.equals(expected.test.reviews) and len(written.train) == len(expected.train)
    assert_one_line_error(run_cli("data", "split", str(data), "--count", "3"), "already holds a split")
    assert not (tmp_path / "3").exists()  # refused before anything was written
    folds = run_cli("data", "split", str(data), "--kfold", "3", "--out", str(tmp_path / "folds"))
    assert folds.returncode == 0, folds.stderr
    tests = [set((tmp_path / "folds" / str(k) / "test.index").read_text().split()) for k in (1, 2, 3)]
    assert not (tests[0] & tests[1]) and not (tests[1] & tests[2])
