"""The MT comparison over several splits: the summary's numbers, reading finished splits back, end to end."""

import json

import numpy as np
import pytest

from tests.conftest import disk_full, strict_loads, traded_split
from tests.systems.test_mt import TINY
from whyrec.data import ratio_split
from whyrec.data.split import Split
from whyrec.data.synthetic import make_planted_corpus
from whyrec.errors import ConfigError, DataError
from whyrec.explain.decoding import Decoding
from whyrec.metrics.rating import corrected_resampled_t_test
from whyrec.metrics.significance import holm_adjusted
from whyrec.provenance import split_fingerprint
from whyrec.strict_json import SEAL, sealed, strict_dumps, unsealed
from whyrec.systems.mt import MTConfig
from whyrec.systems.mt_splits import (baseline_settings_of, combine_mt_runs, read_back,
                                      rewrite_splits_report, run_mt_over_splits, splits_markdown)


def fake_run(name: str, mse: dict[str, float], ppl: float, accuracy: float, train: int = 800, test: int = 100) -> dict:
    """The parts of ``run_mt_experiment``'s results that the summary reads."""
    return {"split": f"toys/{name}", "sizes": {"train": train, "valid": test, "test": test}, "config": {"epochs": 2},
            "decoding": None, "wall_seconds": 10.0,
            "rating": [{"system": s, "mse": v, "rmse": v ** 0.5, "p_vs_mt": None if s == "MT" else 0.5}
                       for s, v in mse.items()],
            "text": [{"system": "N-gram", "perplexity": ppl + 10},
                     {"system": "MT-P", "perplexity": ppl, "tfidf": 0.1}],
            "discriminator": {"pair": {"shuffled_label_accuracy": accuracy}}}


def test_summary_gives_each_model_its_mean_and_the_corrected_t_test_against_mt():
    runs = {"1": fake_run("1", {"plain ALS": 0.25, "MT": 0.16}, 30.0, 0.5),
            "2": fake_run("2", {"plain ALS": 0.36, "MT": 0.49}, 40.0, 0.6, train=600),
            "3": fake_run("3", {"plain ALS": 0.81, "MT": 0.64}, 50.0, 0.7)}
    summary = combine_mt_runs(runs)
    assert summary["splits"] == ["1", "2", "3"]
    plain, mt = summary["rating"]
    assert plain["rmse"] == pytest.approx([0.5, 0.6, 0.9]) and mt["rmse"] == pytest.approx([0.4, 0.7, 0.8])
    assert plain["mean"] == pytest.approx(2 / 3) and plain["sd"] == pytest.approx(np.std([0.5, 0.6, 0.9], ddof=1))
    assert plain["minus_mt"] == pytest.approx((0.1 - 0.1 + 0.1) / 3)
    assert plain["mt_lower_on"] == 2  # splits 1 and 3
    ratio = 100 / ((800 + 600 + 800) / 3)  # the mean test size over the mean train size
    assert summary["test_to_train"] == pytest.approx(ratio)
    t, p = corrected_resampled_t_test([0.25, 0.36, 0.81], [0.16, 0.49, 0.64], ratio)
    assert plain["t_vs_mt"] == pytest.approx(t) and plain["p_vs_mt"] == pytest.approx(p)
    assert plain["p_vs_mt_per_split"] == [0.5, 0.5, 0.5]
    assert "p_vs_mt" not in mt  # the reference
    text = {r["system"]: r for r in summary["text"]}
    assert text["MT-P"]["mean"] == pytest.approx(40.0) and text["MT-P"]["sd"] == pytest.approx(10.0)
    assert text["MT-P"]["tfidf"]["mean"] == pytest.approx(0.1) and "tfidf" not in text["N-gram"]
    assert summary["discriminator"]["pair"]["mean"] == pytest.approx(0.6)
    assert summary["wall_seconds"] == 30.0
    md = splits_markdown(summary)
    assert md.startswith("# MT on toys, 3 splits (1, 2, 3)")
    assert "| plain ALS | 0.6667 ± 0.2082 | 0.5000 / 0.6000 / 0.9000 | +0.0333 | 2 of 3 |" in md
    assert "| MT-P | 40.00 ± 10.00 | 30.00 / 40.00 / 50.00 | 0.1000 ± 0.0000 |" in md
    assert "| pair | 0.600 ± 0.100 | 0.500 / 0.600 / 0.700 |" in md
    assert plain["p_holm"] == pytest.approx(p) and "Read together" not in md  # one test: nothing to adjust


def test_a_summary_of_runs_read_back_with_a_missing_number_shows_it_as_a_dash(tmp_path):
    """A NaN that strict JSON wrote as null in a split's mt.json: the summary's mean is NaN, written
    as null again, and the tables show "—" where a number is missing."""
    from whyrec.systems.mt_splits import write_splits_report

    runs = {"1": fake_run("1", {"plain ALS": 0.25, "MT": 0.16}, 30.0, 0.5),
            "2": fake_run("2", {"plain ALS": 0.36, "MT": 0.49}, 40.0, 0.6)}
    runs["2"]["rating"][0].update(mse=None, rmse=None)
    runs["2"]["text"][1]["tfidf"] = None
    summary = combine_mt_runs(runs)
    plain = summary["rating"][0]
    assert np.isnan(plain["mean"]) and plain["rmse"][0] == pytest.approx(0.5) and np.isnan(plain["rmse"][1])
    write_splits_report(summary, tmp_path)
    written = strict_loads((tmp_path / "mt_splits.json").read_text(encoding="utf-8"))
    assert written["rating"][0]["mean"] is None and written["rating"][0]["rmse"][1] is None
    md = (tmp_path / "mt_splits.md").read_text(encoding="utf-8")
    assert "| plain ALS | — ± — | 0.5000 / — | — | 1 of 2 | — | — |" in md  # split 2 compares as not lower
    assert "| MT-P | 35.00 ± 7.07 | 30.00 / 40.00 | — ± — |" in md
    assert md == splits_markdown(written)


def test_summary_leaves_out_a_text_model_missing_on_a_split_and_names_the_decoding():
    runs = {"1": fake_run("1", {"plain ALS": 0.25, "MT": 0.16}, 30.0, 0.5),
            "2": fake_run("2", {"plain ALS": 0.36, "MT": 0.49}, 40.0, 0.6)}
    runs["1"]["text"].append({"system": "MT-U", "perplexity": 35.0})  # trained on split 1 alone
    runs["1"]["decoding"] = runs["2"]["decoding"] = "beam search (4 hypotheses)"
    summary = combine_mt_runs(runs)
    assert [r["system"] for r in summary["text"]] == ["N-gram", "MT-P"]  # no mean of one split's MT-U
    md = splits_markdown(summary)
    assert "| MT-U |" not in md
    assert "MT-U/I/P's explanations decoded by beam search (4 hypotheses), as `whyrec explain` shows them." in md


def test_summary_says_which_word_vectors_mt_started_from_on_the_splits():
    """Each split's mt.md named MT's word vectors and the summary did not: a summary over splits
    run without GloVe read like one with it."""
    glove = {"source": "glove-6b-50d", "dim": 50}
    runs = {"1": fake_run("1", {"plain ALS": 0.25, "MT": 0.16}, 30.0, 0.5),
            "2": fake_run("2", {"plain ALS": 0.36, "MT": 0.49}, 40.0, 0.6)}
    runs["1"]["word_vectors"], runs["2"]["word_vectors"] = {**glove, "coverage": 0.957}, {**glove, "coverage": 0.9551}
    summary = combine_mt_runs(runs)
    assert summary["word_vectors"] == [runs["1"]["word_vectors"], runs["2"]["word_vectors"]]
    assert "(test/train 0.125); word vectors: glove-6b-50d for 95.7% / 95.5% of the words; wall time 20s." \
        in splits_markdown(summary)
    wanting = {"source": "random", "dim": 50, "glove_installed": False}
    for run in runs.values():
        run["word_vectors"] = wanting
    assert "; word vectors: random, as GloVe 6B was not installed; wall time" in splits_markdown(combine_mt_runs(runs))
    runs["2"]["word_vectors"] = {**glove, "coverage": 0.96}
    assert "; word vectors: random, as GloVe 6B was not installed / glove-6b-50d for 96.0% of the words; wall" \
        in splits_markdown(combine_mt_runs(runs))
    runs["2"]["word_vectors"] = "hand-edited"
    assert "word vectors: random, as GloVe 6B was not installed / unknown;" in splits_markdown(combine_mt_runs(runs))
    older = {key: value for key, value in combine_mt_runs(runs).items() if key != "word_vectors"}
    assert "(test/train 0.125); wall time 20s." in splits_markdown(older)  # written before they were kept


def test_a_run_over_splits_refuses_one_split_and_splits_sharing_a_name_before_training(tmp_path):
    split = ratio_split(make_planted_corpus(n_users=20, n_items=10, reviews_per_user=4, seed=1).corpus, seed=0)
    config = MTConfig(epochs=1, **TINY)
    with pytest.raises(ConfigError, match="at least two splits"):
        run_mt_over_splits([split], tmp_path, config, log=lambda m: None)
    with pytest.raises(ConfigError, match="two splits share a name"):
        run_mt_over_splits([split, traded_split(split)], tmp_path, config, log=lambda m: None)
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_summary_reads_the_p_values_against_mt_together():
    runs = {name: fake_run(name, {"PMF": pmf, "plain ALS": als, "MT": 0.16}, 30.0, 0.5)
            for name, pmf, als in (("1", 0.30, 0.17), ("2", 0.31, 0.18), ("3", 0.29, 0.16))}
    summary = combine_mt_runs(runs)
    pmf, plain, _ = summary["rating"]
    holm = holm_adjusted([pmf["p_vs_mt"], plain["p_vs_mt"]])
    assert [pmf["p_holm"], plain["p_holm"]] == pytest.approx(list(holm)) and pmf["p_holm"] < plain["p_holm"]
    assert pmf["p_holm"] < 0.05 < plain["p_holm"]  # PMF 0.3 to MT's 0.16 on every split; plain ALS near MT
    assert ("Read together (Holm's adjustment of the 2 p-values in “p vs MT”), 1 of 2 differences keeps an adjusted "
            "p ≤ 0.05: PMF") in splits_markdown(summary)


def test_reports_over_splits_are_written_again_with_holm_from_their_json_and_nothing_retrained(tmp_path):
    from tests.systems.test_mt_experiment import without_holm
    from whyrec.systems.mt_experiment import markdown

    runs = {}
    for name, pmf, als in (("1", 0.30, 0.17), ("2", 0.31, 0.18), ("3", 0.29, 0.16)):
        run = fake_run(name, {"PMF": pmf, "plain ALS": als, "MT": 0.16}, 30.0, 0.5)
        run["rating"][0]["p_vs_mt"] = 0.01  # two tests in each split's table
        run["text"][1].update(bleu1=1.0, rouge_l=2.0)  # what a split's own report shows besides
        run["discriminator"]["pair"]["learning_curve"] = [0.5, 0.6]
        run.update(word_vectors={}, test_records_scored_for_text=100, examples=[])
        runs[name] = run
        (tmp_path / f"split-{name}").mkdir()
        (tmp_path / f"split-{name}" / "mt.json").write_text(json.dumps(run), encoding="utf-8")
    fresh = json.loads(json.dumps(combine_mt_runs(runs)))
    (tmp_path / "mt_splits.json").write_text(json.dumps(without_holm(fresh)), encoding="utf-8")
    assert rewrite_splits_report(tmp_path) == fresh
    assert unsealed(json.loads((tmp_path / "mt_splits.json").read_text(encoding="utf-8"))) == fresh
    assert (tmp_path / "mt_splits.md").read_text(encoding="utf-8") == splits_markdown(fresh)
    assert "Read together (Holm's adjustment of the 2 p-values in “p vs MT”)" in splits_markdown(fresh)
    for name, run in runs.items():  # each split's own report too, with its own family
        written = unsealed(json.loads((tmp_path / f"split-{name}" / "mt.json").read_text(encoding="utf-8")))
        assert without_holm(written) == run
        assert [r["p_holm"] for r in written["rating"][:2]] == pytest.approx([0.02, 0.5])  # 2 × 0.01; then 0.5
        assert written["rating"][2]["p_holm"] is None  # MT's
        assert (tmp_path / f"split-{name}" / "mt.md").read_text(encoding="utf-8") == markdown(written)
    (tmp_path / "split-2" / "mt.json").unlink()
    (tmp_path / "split-1" / "mt.md").write_text("kept", encoding="utf-8")
    with pytest.raises(DataError, match=r"split-2.mt\.json: no such file"):
        rewrite_splits_report(tmp_path)
    assert (tmp_path / "split-1" / "mt.md").read_text(encoding="utf-8") == "kept"  # nothing written half-way
    with pytest.raises(DataError, match=r"mt_splits\.json: no such file"):
        rewrite_splits_report(tmp_path / "split-1")


def test_summary_refuses_one_split_and_splits_comparing_other_models():
    one = {"1": fake_run("1", {"plain ALS": 0.25, "MT": 0.16}, 30.0, 0.5)}
    with pytest.raises(ConfigError, match="at least two splits"):
        combine_mt_runs(one)
    other = {**one, "2": fake_run("2", {"PMF": 0.3, "MT": 0.2}, 30.0, 0.5)}
    with pytest.raises(ConfigError, match=r"split 2 compares \['PMF', 'MT'\]"):
        combine_mt_runs(other)


def test_a_finished_split_is_read_back_only_with_the_same_split_settings_and_decoding(tmp_path):
    split = ratio_split(make_planted_corpus(n_users=20, n_items=10, reviews_per_user=4, seed=1).corpus, seed=0)
    config = MTConfig(epochs=2, **TINY)
    results = {"split": split.name, "sizes": split.sizes(), "config": {**config.to_dict(), "device": "cuda"},
               "decoding": None}
    (tmp_path / "mt.json").write_text(json.dumps(results))
    assert read_back(tmp_path, split, config, None)[0] == json.loads(json.dumps(results))  # the device aside
    assert read_back(tmp_path, split, MTConfig(epochs=3, **TINY), None)[0] is None
    assert read_back(tmp_path, split, config, Decoding("beam", beam=2))[0] is None
    assert read_back(tmp_path, Split(split.train, split.valid, split.test, "other"), config, None)[0] is None
    (tmp_path / "mt.json").write_text(json.dumps({**results, "split_fingerprint": split_fingerprint(split)}))
    assert read_back(tmp_path, split, config, None)[0] is not None
    assert read_back(tmp_path, traded_split(split), config, None)[0] is None  # the same name and sizes, other
    # records
    (tmp_path / "mt.json").write_text(json.dumps(results))  # kept before the fingerprint: name and sizes
    assert read_back(tmp_path / "none", split, config, None)[0] is None
    (tmp_path / "mt.json").write_text(json.dumps(results)[:40])  # cut short by the interruption
    assert read_back(tmp_path, split, config, None)[0] is None
    (tmp_path / "mt.json").write_text("[]")  # JSON, but not a run's results
    assert read_back(tmp_path, split, config, None)[0] is None
    (tmp_path / "mt.json").write_text(json.dumps({**results, "config": [1]}))  # was an AttributeError's traceback
    assert read_back(tmp_path, split, config, None)[0] is None
    # why a file is not read back, for the log of a --resume that runs the split again
    assert read_back(tmp_path / "none", split, config, None) == (None, None)  # no file: nothing to tell
    for results_now, why in (
            ({**results, "config": [1]}, "holds no run's results (its config is not an object)"),
            (results, "was made with other MT settings (epochs: 2 in mt.json, 3 now)"),
            ({**results, "split": "toys/9"}, f"holds the results of split toys/9, not {split.name}"),
            ({**results, "sizes": {}}, f"holds the results of other records under the name {split.name}"),
            ({**results, "decoding": "beam search (beam 4)"},
             "was made with other decoding: beam search (beam 4) in mt.json, the default now")):
        (tmp_path / "mt.json").write_text(json.dumps(results_now))
        assert read_back(tmp_path, split, MTConfig(epochs=3, **TINY) if "epochs" in why else config, None) == \
            (None, why)
    (tmp_path / "mt.json").write_text("[]")
    assert read_back(tmp_path, split, config, None) == (None, "holds no run's results")
    (tmp_path / "mt.json").write_text("{")
    assert read_back(tmp_path, split, config, None)[1] == "is not readable JSON (cut short by the interruption?)"
    # as run_mt_experiment writes it, with the digest of its content: read back whole (the digest
    # aside); once a value changed, that split runs again, where a wrong one had stopped the summary
    # with a traceback
    written = json.loads(strict_dumps(sealed({**results, "wall_seconds": 10.0})))
    (tmp_path / "mt.json").write_text(json.dumps(written))
    assert read_back(tmp_path, split, config, None)[0] == {**results, "wall_seconds": 10.0}
    for changed in ({**written, "wall_seconds": [1]}, {**written, "rating": "x"}, {**written, SEAL: "0" * 64}):
        (tmp_path / "mt.json").write_text(json.dumps(changed))
        assert read_back(tmp_path, split, config, None) == (None, "changed since it was written")
    # the baselines' settings, read from what the results show of them
    results.update(text=[{"system": "LSTM", "training": {"cap": 60}, "runs": [{}, {}]}],
                   discriminator={"pair": {"learning_curve": [0.5] * 3}})
    (tmp_path / "mt.json").write_text(json.dumps(results))
    assert baseline_settings_of(results) == {"lm_epochs": 60, "lm_seeds": 2, "curve_steps": 3}
    same = {"lm_epochs": 60, "lm_seeds": 2, "curve_steps": 3}
    assert read_back(tmp_path, split, config, None, same)[0] is not None
    for other in ({"lm_epochs": 5}, {"lm_seeds": 1}, {"curve_steps": 60}):
        assert read_back(tmp_path, split, config, None, {**same, **other})[0] is None
    assert baseline_settings_of({"text": []}) is None


def test_run_over_two_splits_writes_each_split_and_the_summary_and_reads_finished_splits_back(tmp_path, monkeypatch,
                                                                                          system_temporary):
    corpus = make_planted_corpus(n_users=40, n_items=20, reviews_per_user=8, seed=2).corpus
    splits = [Split(*(lambda s: (s.train, s.valid, s.test))(ratio_split(corpus, seed=seed)), name=f"planted/{seed + 1}")
              for seed in (0, 1)]
    config = MTConfig(epochs=1, **{**TINY, "variants": ("pair",)})
    lines = []
    summary = run_mt_over_splits(splits, tmp_path / "out", config, checkpoint_dir=tmp_path / "ckpt", lm_epochs=1,
                                 curve_steps=2, log=lines.append)
    assert "split 1 (1/2)" in lines and "split 2 (2/2)" in lines
    done = [line for line in lines if line.startswith("split 2 done: ")]  # each split's numbers as it ends
    second = json.loads((tmp_path / "out" / "split-2" / "mt.json").read_text())
    mt_rmse = next(r["rmse"] for r in second["rating"] if r["system"] == "MT")
    assert len(done) == 1 and f"MT {mt_rmse:.4f}" in done[0] and "; perplexity MT-P " in done[0]
    for name in ("1", "2"):  # each split's own tables, and MT's checkpoints in a folder of its own
        assert json.loads((tmp_path / "out" / f"split-{name}" / "mt.json").read_text())["split"] == f"planted/{name}"
        assert any((tmp_path / "ckpt" / f"split-{name}").iterdir())
    for name in ("mt_splits.md", "mt_splits.json", "splits.png"):
        assert (tmp_path / "out" / name).stat().st_size > 100
    assert (tmp_path / "out" / "splits.png").read_bytes().startswith(b"\x89PNG")  # drawn under a temporary name
    assert not list((tmp_path / "out").glob("*.tmp"))
    written = json.loads((tmp_path / "out" / "mt_splits.json").read_text())
    assert written["splits"] == ["1", "2"] and [r["system"] for r in written["rating"]][-1] == "MT"
    per_split = [json.loads((tmp_path / "out" / f"split-{n}" / "mt.json").read_text()) for n in ("1", "2")]
    plain = next(r for r in written["rating"] if r["system"] == "plain ALS")
    assert plain["rmse"] == pytest.approx([next(r["rmse"] for r in run["rating"] if r["system"] == "plain ALS")
                                           for run in per_split])
    assert {r["system"] for r in written["text"]} >= {"MT-P", "LSTM", "N-gram"}
    # run again, resuming: both splits are read back, nothing trains, the same summary; a split's tables
    # written by a version before Holm's adjustment are written again with it
    from tests.systems.test_mt_experiment import without_holm

    older = without_holm(unsealed(per_split[0]))  # as a version before Holm's adjustment (and the digest) wrote it
    (tmp_path / "out" / "split-1" / "mt.json").write_text(json.dumps(older), encoding="utf-8")
    (tmp_path / "out" / "split-1" / "mt.md").write_text("# an older report\n", encoding="utf-8")
    lines.clear()
    again = run_mt_over_splits(splits, tmp_path / "out", config, resume=True, lm_epochs=1, curve_steps=2,
                               log=lines.append)
    assert lines == [f"split {n} ({n}/2): read back from {tmp_path / 'out' / f'split-{n}' / 'mt.json'}"
                     for n in ("1", "2")]
    assert json.loads(json.dumps(again)) == json.loads(json.dumps(summary))
    assert json.loads((tmp_path / "out" / "split-1" / "mt.json").read_text()) == per_split[0]
    assert "Read together (Holm's adjustment of the 4 p-values in “p vs MT”)" in \
        (tmp_path / "out" / "split-1" / "mt.md").read_text()
    # a split not read back is run again, and the log says why (the run stands in for the training)
    import whyrec.systems.mt_experiment as mt_experiment

    second_file = tmp_path / "out" / "split-2" / "mt.json"
    second_text = second_file.read_text()
    second_file.write_text(second_text.replace('"wall_seconds": ', '"wall_seconds": 1'))
    with monkeypatch.context() as patched:
        patched.setattr(mt_experiment, "run_mt_experiment", lambda split, folder, *a, **k: unsealed(per_split[1]))
        lines.clear()
        run_mt_over_splits(splits, tmp_path / "out", config, resume=True, lm_epochs=1, curve_steps=2,
                           log=lines.append)
        assert lines[1] == f"split 2 (2/2): {second_file} changed since it was written; run again"
        lines.clear()
        run_mt_over_splits(splits, tmp_path / "out", config, resume=True, lm_epochs=2, curve_steps=2,
                           log=lines.append)
        assert lines[0] == (f"split 1 (1/2): {tmp_path / 'out' / 'split-1' / 'mt.json'} was made with other "
                            "baselines (lm_epochs: 1 in mt.json, 2 now); run again")
        lines.clear()  # not asked to resume: run again, and told that it could have been read back
        run_mt_over_splits(splits, tmp_path / "out", config, lm_epochs=1, curve_steps=2, log=lines.append)
        assert lines[0] == (f"split 1 (1/2): {tmp_path / 'out' / 'split-1' / 'mt.json'} holds this split's results "
                            "with these settings (--resume reads them back); run again")
    second_file.write_text(second_text)  # as it was: read back below, not trained again
    # a disk full at the summary's chart: the last summary stays whole in out, this one (and the
    # command's record) is kept in the system's temporary folder, not lost with the training
    import whyrec.systems.mt_splits as mt_splits
    from whyrec.kept_elsewhere import KeptElsewhere

    out, real = tmp_path / "out", mt_splits.plot_splits

    def plot_splits(summary, path):
        if path.parent == out:
            raise disk_full()
        real(summary, path)

    monkeypatch.setattr(mt_splits, "plot_splits", plot_splits)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(KeptElsewhere) as kept:
        run_mt_over_splits(splits, out, config, resume=True, lm_epochs=1, curve_steps=2, log=lines.append,
                           also={"run.json": lambda path: path.write_text("{}")})
    assert str(kept.value).startswith(f"{out / 'splits.png'}: No space left on device; the MT summary over splits")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert kept.value.folder.parent == system_temporary
    assert sorted(p.name for p in kept.value.folder.iterdir()) == ["mt_splits.json", "mt_splits.md", "run.json",
                                                                    "splits.png"]
    with pytest.raises(ConfigError, match="at least two splits"):
        run_mt_over_splits(splits[:1], tmp_path / "one", config)


def test_a_tie_is_no_split_where_mt_is_lower_and_mixed_word_vectors_are_named_each():
    from whyrec.systems.mt_splits import splits_word_vectors_text

    runs = {"1": fake_run("1", {"plain ALS": 0.25, "MT": 0.25}, 30.0, 0.5),  # a tie
            "2": fake_run("2", {"plain ALS": 0.36, "MT": 0.16}, 40.0, 0.6)}
    for run in runs.values():
        run["split"] = "shared/toys/" + run["split"].rsplit("/", 1)[1]
    summary = combine_mt_runs(runs)
    assert summary["rating"][0]["mt_lower_on"] == 1
    assert splits_markdown(summary).startswith("# MT on shared/toys, 2 splits (1, 2)")  # the name before the split's
    glove = {"source": "glove-6b-50d", "dim": 50, "coverage": 0.957}
    assert splits_word_vectors_text([glove, {**glove, "source": "other", "coverage": 0.9}]) == (
        "glove-6b-50d for 95.7% of the words / other for 90.0% of the words")  # not one source's coverages
    assert splits_word_vectors_text([glove, {"source": "glove-6b-50d", "dim": 50}]) == (
        "glove-6b-50d for 95.7% of the words / glove-6b-50d")  # a split that kept no coverage
