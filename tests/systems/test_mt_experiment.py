"""The MT comparison end to end on a tiny planted corpus, and the discriminator studies."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import disk_full, strict_loads, tiny_planted_split
from tests.systems.test_mt import TINY
from whyrec.bundle import load_bundle
from whyrec.data import ratio_split
from whyrec.data.split import Split
from whyrec.data.synthetic import make_planted_corpus
from whyrec.errors import ConfigError, DataError
from whyrec.experiment import activity_groups_of
from whyrec.metrics.rating import paired_t_test
from whyrec.metrics.significance import holm_adjusted
from whyrec.rating import BiasBaseline, GlobalAverage
from whyrec.systems.mt import MTConfig, MultiTask
from whyrec.systems.mt_experiment import (adversarial_sentence, adversarial_span, discriminator_accuracy, epochs_cell,
                                          perplexity_cell, rating_by_activity, real_and_generated, run_mt_experiment,
                                          seeded_row, shuffled_label_accuracy, training_end)
from whyrec.strict_json import SEAL, unsealed


def test_run_mt_experiment_writes_tables_and_plots(tmp_path):
    split = tiny_planted_split()
    steps = []
    results = run_mt_experiment(split, tmp_path, MTConfig(epochs=2, **TINY), lm_epochs=2, lm_seeds=2, curve_steps=3,
                                log=lambda m: None, step_log=steps.append, bundle_dir=tmp_path / "bundle")
    saved = load_bundle(tmp_path / "bundle")  # the MT compared (benchmarks/mt.py keeps it for the others)
    examples = results["examples"]
    assert saved.predict([e["user"] for e in examples], [e["item"] for e in examples]) == pytest.approx(
        [e["predicted"] for e in examples], abs=1e-9)
    assert {line.split(" epoch ")[0] for line in steps} == {"  MT", "  MT-encoder", "  MT-decoder"}
    assert "  MT epoch 2: validation" in steps
    assert [r["system"] for r in results["rating"]] == ["PMF", "plain ALS", "MT-encoder", "MT-decoder", "MT"]
    by_activity = results["rating_by_activity"]  # each model's RMSE by the user's number of training ratings
    assert list(by_activity) == [r["system"] for r in results["rating"]]
    assert sum(g["count"] for g in by_activity["MT"].values()) == len(split.test)
    assert "## Test RMSE by the user's number of training ratings" in (tmp_path / "mt.md").read_text()
    assert all("p_vs_mt" not in g for g in by_activity["MT"].values())  # the others' p: tested by hand below
    assert " (p " in (tmp_path / "mt.md").read_text().split("## Test RMSE by")[1].split("## Explanations")[0]
    assert "Read together (Holm's adjustment of the 4 p-values in “p vs MT”), " in (tmp_path / "mt.md").read_text()
    assert results["mt_adversarial_epochs"] == [2]  # TINY starts policy-gradient steps at epoch 2
    assert {r["system"] for r in results["text"]} == {"N-gram", "LSTM", "GRU LM", "GCN-U", "GCN-I", "GCN-P",
                                                      "MT-U", "MT-I", "MT-P"}
    assert all(r["perplexity"] > 1 for r in results["text"])
    training = {r["system"]: r["training"] for r in results["text"]}
    assert training["N-gram"] is None and training["MT-P"]["cap"] == 2 and training["LSTM"]["cap"] == 2
    assert all(1 <= t["best_epoch"] <= t["epochs"] <= 2 for name, t in training.items() if t)
    lm = {r["system"]: r for r in results["text"] if "runs" in r}
    assert set(lm) == {"LSTM", "GRU LM"}
    for row in lm.values():  # two seeds, two different runs, the row their mean
        values = [run["perplexity"] for run in row["runs"]]
        assert [run["seed"] for run in row["runs"]] == [0, 1] and values[0] != values[1]
        assert abs(row["perplexity"] - sum(values) / 2) < 1e-9 and row["perplexity_sd"] > 0
    for variant in ("user", "item", "pair"):
        d = results["discriminator"][variant]
        assert 0 <= d["shuffled_label_accuracy"] <= 1 and len(d["learning_curve"]) == 3
    for name in ("mt.md", "mt.json", "training.png", "discriminator_curve.png"):
        assert (tmp_path / name).stat().st_size > 100
    for name in ("training.png", "discriminator_curve.png"):  # drawn under a temporary name, as PNGs still
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob("*.tmp"))
    assert json.loads((tmp_path / "mt.json").read_text())["config"]["epochs"] == 2
    assert "| MT-P |" in (tmp_path / "mt.md").read_text() and "(2 runs: " in (tmp_path / "mt.md").read_text()
    assert "adversarial (policy-gradient) epochs: 2–2" in (tmp_path / "mt.md").read_text()
    assert results["decoding"] is None and "## Examples (MT-P, greedy)" in (tmp_path / "mt.md").read_text()


def test_rating_by_activity_tests_each_model_against_the_reference_on_every_group():
    split = tiny_planted_split()
    models = {"avg": GlobalAverage().fit(split.train), "MT": BiasBaseline().fit(split.train)}
    by_activity = rating_by_activity(split, models)
    groups = activity_groups_of(split)
    errors = {name: (m.predict_corpus(split.test) - split.test.ratings) ** 2 for name, m in models.items()}
    assert all("p_vs_mt" not in g for g in by_activity["MT"].values())
    for group, entry in by_activity["avg"].items():
        chosen = groups == group
        assert entry["count"] == chosen.sum()
        assert entry["rmse"] == pytest.approx(np.sqrt(errors["avg"][chosen].mean()))
        expected = paired_t_test(errors["avg"][chosen], errors["MT"][chosen])[1] if chosen.sum() >= 2 else None
        assert entry["p_vs_mt"] == expected
    assert any(g["p_vs_mt"] is not None and g["p_vs_mt"] < 1 for g in by_activity["avg"].values())
    tested = [g for g, entry in by_activity["avg"].items() if entry["p_vs_mt"] is not None]  # one model: its groups
    assert [by_activity["avg"][g]["p_holm"] for g in tested] == pytest.approx(
        list(holm_adjusted([by_activity["avg"][g]["p_vs_mt"] for g in tested])))
    assert all(entry["p_holm"] is None for entry in by_activity["avg"].values() if entry["p_vs_mt"] is None)


def test_the_rating_table_reads_its_p_values_against_mt_together():
    from whyrec.systems.mt_experiment import markdown, rating_table

    split = tiny_planted_split()
    models = {"avg": GlobalAverage().fit(split.train), "user bias": BiasBaseline(reg_item=1e6).fit(split.train),
              "MT": BiasBaseline().fit(split.train)}
    rows = rating_table(split, models)
    tested = [r["p_vs_mt"] for r in rows[:2]]
    assert [r["p_holm"] for r in rows[:2]] == pytest.approx(list(holm_adjusted(tested))) and rows[2]["p_holm"] is None
    results = {"split": "toys/1", "sizes": {"train": 1, "valid": 1, "test": 1}, "word_vectors": {}, "wall_seconds": 1,
               "rating": rows, "test_records_scored_for_text": 1, "text": [], "discriminator": {}, "examples": []}
    assert "Read together (Holm's adjustment of the 2 p-values in “p vs MT”), " in markdown(results)
    assert "Read together" not in markdown({**results, "rating": rows[1:]})  # one test: nothing to adjust


def without_holm(results):
    """A copy of JSON-like ``results`` with every ``p_holm`` taken out: a report of a version before it."""
    if isinstance(results, dict):
        return {k: without_holm(v) for k, v in results.items() if k != "p_holm"}
    return [without_holm(v) for v in results] if isinstance(results, list) else results


def test_a_report_written_without_holm_is_written_again_with_it_and_its_numbers_as_they_were(tmp_path):
    from whyrec.systems.mt_experiment import markdown, rating_table, rewrite_report

    split = tiny_planted_split()
    models = {"avg": GlobalAverage().fit(split.train), "user bias": BiasBaseline(reg_item=1e6).fit(split.train),
              "MT": BiasBaseline().fit(split.train)}
    fresh = {"split": "toys/1", "sizes": {"train": 1, "valid": 1, "test": 1}, "word_vectors": {}, "wall_seconds": 1,
             "rating": rating_table(split, models), "rating_by_activity": rating_by_activity(split, models),
             "test_records_scored_for_text": 1, "text": [], "discriminator": {}, "examples": []}
    fresh = json.loads(json.dumps(fresh))  # as mt.json holds it
    older = without_holm(fresh)
    assert older != fresh
    (tmp_path / "mt.json").write_text(json.dumps(older, indent=1), encoding="utf-8")
    (tmp_path / "mt.md").write_text("# an older report\n", encoding="utf-8")
    assert rewrite_report(tmp_path) == fresh
    written = json.loads((tmp_path / "mt.json").read_text(encoding="utf-8"))
    assert unsealed(written) == fresh and SEAL in written  # every measured number kept, and their digest
    report = (tmp_path / "mt.md").read_text(encoding="utf-8")
    assert report == markdown(fresh)
    assert "Read together (Holm's adjustment of the 2 p-values in “p vs MT”), " in report
    assert "p-values by group), " in report
    # changed since it was written: refused, not written again; without its digest, read as it is
    (tmp_path / "mt.json").write_text(json.dumps({**written, "wall_seconds": 2}), encoding="utf-8")
    with pytest.raises(DataError, match=r"mt\.json: changed since `whyrec experiment mt` wrote it \(its 'sha256' is "
                                        r"not the SHA-256 of what it holds now\); run the comparison again, or "
                                        r"delete 'sha256' to have it read as it is"):
        rewrite_report(tmp_path)
    assert (tmp_path / "mt.md").read_text(encoding="utf-8") == report
    (tmp_path / "mt.json").write_text(json.dumps({**fresh, "wall_seconds": 2}), encoding="utf-8")
    assert rewrite_report(tmp_path) == {**fresh, "wall_seconds": 2}
    older.pop("rating_by_activity")  # runs before it was recorded: the rating table alone
    (tmp_path / "mt.json").write_text(json.dumps(older), encoding="utf-8")
    assert "rating_by_activity" not in rewrite_report(tmp_path) and "p-values by group" not in markdown(older)
    with pytest.raises(DataError, match=r"mt\.json: no such file"):
        rewrite_report(tmp_path / "elsewhere")
    (tmp_path / "mt.json").write_text('{"rating": [', encoding="utf-8")
    with pytest.raises(DataError, match=r"mt\.json: not readable JSON"):
        rewrite_report(tmp_path)
    (tmp_path / "mt.json").write_text('{"text": []}', encoding="utf-8")
    with pytest.raises(DataError, match=r"mt\.json: not a report of `whyrec experiment mt`: no rating"):
        rewrite_report(tmp_path)


def test_a_nan_in_a_report_is_written_as_null_shown_as_a_dash_and_read_back_alike(tmp_path):
    """mt.json is read by jq and browsers, which refuse a bare NaN; the markdown shows "—" for it,
    before and after the report is read back."""
    from whyrec.systems.mt_experiment import markdown, rewrite_report, write_report

    nan = float("nan")
    results = {"split": "toys/1", "sizes": {"train": 1, "valid": 1, "test": 1}, "word_vectors": {}, "wall_seconds": 1,
               "rating": [{"system": "PMF", "mse": nan, "rmse": nan, "p_vs_mt": nan},
                          {"system": "MT", "mse": 0.25, "rmse": 0.5, "p_vs_mt": None}],
               "test_records_scored_for_text": 1,
               "text": [{"system": "LSTM", "perplexity": nan, "perplexity_sd": nan, "training": None,
                         "runs": [{"perplexity": nan}, {"perplexity": 30.0}]},
                        {"system": "MT-P", "perplexity": 20.0, "tfidf": nan, "bleu1": 1.0, "rouge_l": 2.0,
                         "training": None}],
               "discriminator": {"pair": {"shuffled_label_accuracy": 0.6, "learning_curve": [nan, 0.5]}},
               "examples": []}
    write_report(results, tmp_path)
    written = strict_loads((tmp_path / "mt.json").read_text(encoding="utf-8"))
    assert written["rating"][0]["rmse"] is None and written["text"][1]["tfidf"] is None
    shown = (tmp_path / "mt.md").read_text(encoding="utf-8")
    assert "| PMF | — | — | — |" in shown and "| MT | 0.2500 | 0.5000 | — |" in shown
    assert "| LSTM | — ± — (2 runs: 30.00–30.00) |" in shown and "| MT-P | 20.00 | — | 1.00 | 2.00 |" in shown
    assert "| pair | 0.600 | — / 0.500 |" in shown
    assert rewrite_report(tmp_path)["rating"][0]["rmse"] is None
    assert (tmp_path / "mt.md").read_text(encoding="utf-8") == shown == markdown(written)


def test_training_end_says_which_epoch_was_kept_and_flags_a_model_the_cap_stopped_improving():
    stopped = training_end([5.0, 4.0, 4.2, 4.3, 4.1], cap=30)
    assert stopped == {"epochs": 5, "best_epoch": 2, "cap": 30}
    assert epochs_cell(stopped) == "5 / 2 (30)"
    capped = training_end([5.0, 4.0, 3.9], cap=3)
    assert epochs_cell(capped) == "3 / 3 (3) still improving"
    assert epochs_cell(None) == "—"


class _Oracle(torch.nn.Module):
    """A discriminator that knows each review's true owner (planted in its first token)."""

    def __init__(self, truth):
        super().__init__()
        self.truth = truth

    def prob(self, tokens, owners):
        return (owners[:, 0] == self.truth).float()

    def eval(self):
        return self


def test_shuffled_label_accuracy_of_a_perfect_and_a_blind_discriminator():
    split = ratio_split(make_planted_corpus(n_users=30, n_items=15, reviews_per_user=8, seed=4).corpus, seed=0)
    mt = MultiTask(epochs=1, **TINY).fit(split.train, split.valid)
    test = split.test
    known = (mt.user_map.lookup(test.users) >= 0) & (mt.item_map.lookup(test.items) >= 0)
    truth = torch.as_tensor(mt.user_map.lookup(test.users)[known])
    mt.discriminators["user"] = _Oracle(truth)
    assert shuffled_label_accuracy(mt, test, "user") == 1.0
    blind = _Oracle(torch.full_like(truth, -1))  # never says "original"
    mt.discriminators["user"] = blind
    acc = shuffled_label_accuracy(mt, test, "user")
    assert 0.3 < acc < 0.7  # = the share of flipped labels


class _Fixed(torch.nn.Module):
    """Logits ``+5`` for the first ``n_real`` rows (real), ``sign`` × 5 for the rest."""

    def __init__(self, n_real, sign):
        super().__init__()
        self.n_real, self.sign, self.pad = n_real, sign, 2

    def forward(self, tokens, owners):
        logits = torch.full((len(tokens),), 5.0 * self.sign)
        logits[: self.n_real] = 5.0
        return logits


def test_real_and_generated_pairs_each_record_with_a_sample_and_accuracy_is_balanced():
    split = ratio_split(make_planted_corpus(n_users=30, n_items=15, reviews_per_user=8, seed=4).corpus, seed=0)
    mt = MultiTask(epochs=1, **TINY).fit(split.train, split.valid)
    assert mt.config.mismatch_negatives
    real, real_owners, fake, fake_owners = real_and_generated(mt, "pair", torch.arange(6).numpy())
    assert len(real) == len(fake) == 6 and torch.equal(real_owners, fake_owners)  # no mismatched negatives
    assert mt.config.mismatch_negatives  # the setting is restored
    batch = (real, real_owners, fake, fake_owners)
    perfect, credulous = _Fixed(6, -1), _Fixed(6, +1)
    assert discriminator_accuracy(perfect, batch) == 1.0 and perfect.training  # back in training mode
    assert discriminator_accuracy(credulous, batch) == 0.5  # calls everything real: chance


def test_no_lm_seeds_is_refused_before_anything_trains(tmp_path):
    split = ratio_split(make_planted_corpus(n_users=10, n_items=6, reviews_per_user=4, seed=2).corpus, seed=0)
    with pytest.raises(ConfigError, match="lm_seeds"):
        run_mt_experiment(split, tmp_path, MTConfig(epochs=1, **TINY), lm_seeds=0, log=lambda m: None)
    assert not list(tmp_path.iterdir())
    # a split too small to have validation or test records: said before anything trains
    no_test = Split(split.train, split.valid, split.test.take([]), "tiny")
    with pytest.raises(DataError, match="split tiny has no test records"):
        run_mt_experiment(no_test, tmp_path, MTConfig(epochs=1, **TINY), log=lambda m: None)
    no_either = Split(split.train, no_test.test, no_test.test, "tiny")
    with pytest.raises(DataError, match="no validation and no test records"):
        run_mt_experiment(no_either, tmp_path, MTConfig(epochs=1, **TINY), log=lambda m: None)
    assert not list(tmp_path.iterdir())


def test_seeded_row_is_the_mean_of_its_runs_with_their_spread():
    runs = [{"seed": 0, "perplexity": 90.0, "training": {"epochs": 5, "best_epoch": 2, "cap": 9}},
            {"seed": 1, "perplexity": 94.0, "training": None}]
    row = seeded_row("LSTM", runs)
    assert row["perplexity"] == 92.0 and abs(row["perplexity_sd"] - 8 ** 0.5) < 1e-12
    assert row["training"]["best_epoch"] == 2 and row["runs"] == runs
    assert perplexity_cell(row) == "92.00 ± 2.83 (2 runs: 90.00–94.00)"
    single = seeded_row("LSTM", runs[:1])
    assert single["perplexity_sd"] == 0.0 and perplexity_cell(single) == "90.00"


def test_the_adversarial_epochs_are_said_as_a_span_none_or_unknown():
    assert adversarial_span([3, 4, 5]) == "3–5" and adversarial_span([]) == "none"
    assert adversarial_span(None) == "?"  # a report written before the epochs were recorded
    assert adversarial_sentence([3, 4, 5]) == "; MT's adversarial (policy-gradient) epochs: 3–5"
    assert adversarial_sentence([]) == "; MT ran no adversarial epoch" and adversarial_sentence(None) == ""


def test_tables_a_full_disk_refuses_are_kept_elsewhere_not_lost_with_the_training(tmp_path, system_temporary,
                                                                                   monkeypatch):
    """They were written at the end of the run, after hours of training: a disk that had filled
    meanwhile lost them all (the command prints its table from the file it writes). And a refusal
    of a plot, written last, left this run's tables among the last run's files in ``out``: now
    ``out`` keeps the last run's set whole."""
    import whyrec.systems.mt_experiment as mt_experiment
    from whyrec.kept_elsewhere import KeptElsewhere

    out, real = tmp_path / "out", mt_experiment.plot_training
    names = ["discriminator_curve.png", "mt.json", "mt.md", "training.png"]
    out.mkdir()
    for name in names:  # the last run's
        (out / name).write_text(f"last run's {name}", encoding="utf-8")

    def plot_training(results, path, everywhere=False):  # after the tables and the other plot: the disk fills
        if everywhere or path.parent == out:
            Path(path).write_text("half a PNG", encoding="utf-8")
            raise disk_full()
        real(results, path)

    monkeypatch.setattr(mt_experiment, "plot_training", plot_training)
    with pytest.raises(KeptElsewhere) as kept:  # with the command's record, kept with the tables it describes
        run_mt_experiment(tiny_planted_split(), out, MTConfig(epochs=1, **TINY), lm_epochs=1, curve_steps=2,
                          log=lambda m: None, also={"run.json": lambda path: path.write_text('{"command": "x"}')})
    assert sorted(p.name for p in out.iterdir()) == names  # no temporary file left, no record of this run
    assert [(out / name).read_bytes() for name in names] == [f"last run's {name}".encode() for name in names]
    # refused everywhere (the temporary folder's disk full too): the error, and the tables shown in the log
    said = []
    monkeypatch.setattr(mt_experiment, "plot_training", lambda results, path: plot_training(results, path, True))
    with pytest.raises(OSError, match="No space left"):
        run_mt_experiment(tiny_planted_split(), out, MTConfig(epochs=1, **TINY), lm_epochs=1, curve_steps=2,
                          log=said.append)
    assert "| MT |" in said[-1] and "perplexity" in said[-1].lower()
    folder = kept.value.folder
    assert folder.parent == system_temporary and str(kept.value).startswith(f"{out / 'training.png'}: No space left")
    assert sorted(p.name for p in folder.iterdir()) == sorted([*names, "run.json"])
    assert json.loads((folder / "run.json").read_text()) == {"command": "x"}
    kept_results = strict_loads((folder / "mt.json").read_text())
    assert [r["system"] for r in kept_results["rating"]] == ["PMF", "plain ALS", "MT-encoder", "MT-decoder", "MT"]
    assert (folder / "training.png").read_bytes().startswith(b"\x89PNG")


def test_a_row_measured_again_says_when_why_and_what_it_was():
    """``benchmarks/mt_ngram.py`` measures the n-gram rows again; reports show the value it replaced."""
    from whyrec.systems.mt_splits import splits_markdown

    row = {"system": "N-gram", "perplexity": 102.588, "training": None,
           "remeasured": {"date": "2026-12-07", "why": "unseen contexts fixed", "before": 117.029}}
    assert perplexity_cell(row) == "102.59 (re-measured 2026-12-07, unseen contexts fixed; was 117.03)"
    assert perplexity_cell({**row, "remeasured": None}) == "102.59"
    summary = {"splits": ["1", "2"], "split_names": ["d/1", "d/2"], "sizes": {"train": 8.0, "test": 2.0},
               "test_to_train": 0.25, "config": {}, "wall_seconds": 1.0, "rating": [],
               "text": [{"system": "N-gram", "perplexity": [100.0, 104.0], "mean": 102.0, "sd": 2.83,
                         "remeasured": {"date": "2026-12-07", "why": "fixed", "before": 110.6}}],
               "discriminator": {}}
    assert "| N-gram | 102.00 ± 2.83 (re-measured 2026-12-07, fixed; was 110.60) | 100.00 / 104.00 |" in \
        splits_markdown(summary)


def test_the_text_baselines_vocabulary_is_mts_own_rebuilt_from_the_split(tiny_mt, tiny_split):
    """What the experiment's n-gram and LMs share with MT, and what benchmarks/mt_ngram.py rebuilds."""
    from whyrec.explain.targets import explanation_targets
    from whyrec.systems.mt import mt_vocabulary, review_token_lists

    targets = explanation_targets(tiny_split.train, None, tiny_mt.config.max_words)
    rebuilt = mt_vocabulary(targets, review_token_lists(tiny_split.train, tiny_mt.config), tiny_mt.config)
    assert rebuilt.words == tiny_mt.vocab.words and len(rebuilt) > 4
