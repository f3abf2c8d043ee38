import json

import numpy as np
import pytest

from tests.conftest import disk_full, forget_arrays_digest
from whyrec.bundle import DIGEST, load_bundle, save_bundle
from whyrec.data import ratio_split
from whyrec.data.text import Vocabulary
from whyrec.errors import BundleError
from whyrec.rating import ContextAwareALS


@pytest.fixture
def fitted(planted):
    split = ratio_split(planted.corpus, seed=0)
    return ContextAwareALS(factors=4).fit(split.train), split


def test_bundle_is_json_and_safetensors_only(fitted, tmp_path):
    model, split = fitted
    model.vocab = Vocabulary(["good", "bad"])
    folder = save_bundle(model, tmp_path / "b")
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.safetensors", "bundle.json", "vocab.json"]
    header = json.loads((folder / "bundle.json").read_text())
    assert header["class"] == "context-als" and header["params"]["factors"] == 4
    assert (header["format"], header["version"]) == ("whyrec-bundle", 1)  # what every bundle saved so far says
    again = load_bundle(folder)
    assert again.vocab.words == model.vocab.words
    np.testing.assert_array_equal(again.predict_corpus(split.test), model.predict_corpus(split.test))


def test_broken_bundles_give_clear_errors(fitted, tmp_path):
    model, _ = fitted
    folder = save_bundle(model, tmp_path / "b")
    header = json.loads((folder / "bundle.json").read_text())
    (folder / "bundle.json").write_text(json.dumps({**header, "class": "os.system"}))
    with pytest.raises(BundleError, match="unknown model class"):
        load_bundle(folder)
    (folder / "bundle.json").write_text(json.dumps({**header, "params": {"factors": 4, "evil": 1}}))
    with pytest.raises(BundleError, match="unknown parameter"):
        load_bundle(folder)
    for scale in ("ab", [5, 1], [1, float("inf")], [1, True], [1, 2, 3]):  # an edited scale: refused on loading
        (folder / "bundle.json").write_text(json.dumps({**header, "meta": {**header["meta"], "rating_scale": scale}}))
        with pytest.raises(BundleError, match="saved rating_scale must be two finite numbers, the lowest first"):
            load_bundle(folder)
    for history in ("x", [1, 2], [{"iteration": 1}, ""]):  # `show` summarises the records: was a traceback
        (folder / "bundle.json").write_text(json.dumps({**header, "meta": {**header["meta"], "history": history}}))
        with pytest.raises(BundleError, match="'history' must be an array of objects"):
            load_bundle(folder)
    (folder / "bundle.json").write_text(json.dumps(header))
    (folder / "arrays.safetensors").write_bytes(b"garbage")
    with pytest.raises(BundleError, match="arrays.safetensors is damaged or was replaced"):
        load_bundle(folder)
    forget_arrays_digest(folder)
    with pytest.raises(BundleError, match="cannot read arrays"):  # a bundle saved without the digest
        load_bundle(folder)
    (folder / "bundle.json").write_text("{")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(folder)
    (folder / "bundle.json").write_bytes(b"\xff\xfe{}")  # not even text: was a UnicodeDecodeError traceback
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(folder)


@pytest.mark.parametrize("edit, message", [
    (lambda h: {**h, "format": "other-tool"}, r"bundle\.json: not a whyrec bundle$"),
    (lambda h: [h], r"bundle\.json: not a whyrec bundle$"),
    (lambda h: {**h, "version": 99}, "bundle version 99 is not supported"),
    (lambda h: {**h, "kind": "ranker"}, "unknown bundle kind 'ranker'"),
    (lambda h: {k: v for k, v in h.items() if k != "kind"}, r"bundle lacks 'kind' \(mt, peter or rating-model\)$"),
    (lambda h: {**h, "meta": {k: v for k, v in h["meta"].items() if k != "user_ids"}}, "bundle lacks 'user_ids'"),
    (lambda h: {**h, "meta": {**h["meta"], "item_ids": 5}},
     "'item_ids' must be an array of strings, not a JSON number: 5"),
])
def test_a_header_of_another_tool_version_or_kind_is_refused_by_name(fitted, tmp_path, edit, message):
    model, _ = fitted
    folder = save_bundle(model, tmp_path / "b")
    header = json.loads((folder / "bundle.json").read_text())
    (folder / "bundle.json").write_text(json.dumps(edit(header)))
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


def test_a_folder_without_a_bundle_and_models_that_cannot_be_saved_are_named(tmp_path):
    with pytest.raises(BundleError, match="not a whyrec bundle \\(no bundle.json\\)$"):
        load_bundle(tmp_path)
    with pytest.raises(BundleError, match="absent: no such bundle folder"):
        load_bundle(tmp_path / "absent")
    # folders whyrec wrote otherwise say what they hold: a training checkpoint, or bundles
    (tmp_path / "run" / "epoch-0002").mkdir(parents=True)
    (tmp_path / "run" / "epoch-0002" / "state.json").write_text("{}")
    with pytest.raises(BundleError, match="it is a training checkpoint: rerun the same `whyrec train` with "
                                          "--checkpoint to resume"):
        load_bundle(tmp_path / "run")
    (tmp_path / "all" / "gift-als").mkdir(parents=True)
    (tmp_path / "all" / "gift-als" / "bundle.json").write_text("{}")
    with pytest.raises(BundleError, match="the bundles are in its sub-folders: gift-als$"):
        load_bundle(tmp_path / "all")
    # a bundle's file, another file, or a data folder given as the bundle is told what to give instead
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "data" / "1").mkdir(parents=True)
    (tmp_path / "data" / "1" / "train.index").write_text("0\n")
    (tmp_path / "data" / "shop.csv").write_text("user,item,rating,text\n")
    bundle = tmp_path / "all" / "gift-als"
    for given, told in ((bundle / "bundle.json", f": a file, and a bundle is a folder: give the bundle this file is "
                                                 f"in, {bundle}"),
                        (tmp_path / "notes.txt", ": a file, and a bundle is a folder (the one `whyrec train --out` "
                                                 "writes)"),
                        (tmp_path / "data", ": not a whyrec bundle (no bundle.json); it holds review data, which goes "
                                            "in --data: train a bundle on it with `whyrec train`")):
        with pytest.raises(BundleError) as refused:
            load_bundle(given)
        assert str(refused.value) == f"{given}{told}"

    class Homemade:
        pass

    class Tweaked(ContextAwareALS):  # would load as ContextAwareALS, without its changes
        pass

    for model in (Homemade(), Tweaked()):
        with pytest.raises(BundleError, match=f"{type(model).__name__} is not a registered model .* cannot be saved"):
            save_bundle(model, tmp_path / "h")
        assert not (tmp_path / "h").exists()


def test_arrays_that_do_not_fit_the_id_lists_are_refused(fitted, tmp_path):
    from safetensors.numpy import load_file, save_file

    model, _ = fitted
    folder = save_bundle(model, tmp_path / "b")
    header = json.loads((folder / "bundle.json").read_text())
    (folder / "bundle.json").write_text(json.dumps({**header, "params": 5}))
    with pytest.raises(BundleError, match="'params' must be an object"):
        load_bundle(folder)
    (folder / "bundle.json").write_text(json.dumps(header))
    arrays = load_file(str(folder / "arrays.safetensors"))
    arrays["user_factors"] = arrays["user_factors"][:-1]
    save_file(arrays, str(folder / "arrays.safetensors"))
    forget_arrays_digest(folder)
    with pytest.raises(BundleError, match="saved arrays do not match the saved id lists"):
        load_bundle(folder)


def test_an_unfitted_model_is_refused_before_its_folder_is_made(tmp_path):
    from whyrec.rating import NotFittedError, make_model

    with pytest.raises(NotFittedError, match="context-als: call fit\\(\\) \\(or load a bundle\\) before saving"):
        save_bundle(make_model("context-als"), tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_show_describes_a_rating_bundle(fitted, tmp_path):
    from tests.cli.invoke import assert_one_line_error, run_cli
    from whyrec.bundle import describe_bundle

    model, split = fitted
    folder = save_bundle(model, tmp_path / "als")
    described = describe_bundle(folder)
    assert described["system"] == "context-als" and described["explainers"] == [] and described["vocabulary"] is None
    assert (described["users"], described["items"]) == (len(model.user_map), len(model.item_map))
    assert described["aligned_shared_embeddings"] is False  # nothing aligned, and no MT
    assert described["settings"] == model.get_params() and described["rating_scale"] == [1.0, 5.0]
    assert set(described["files"]) == {"arrays.safetensors", "bundle.json"}
    text = run_cli("show", str(folder)).stdout
    assert "a rating model: it writes no explanations" in text and "settings: factors=4, " in text
    assert described["training"]["kept"] == [] and "kept:" not in text  # ALS keeps its last iteration
    assert f"arrays: sha256 {described['arrays_sha256'][:12]}…, checked on loading" in text
    assert_one_line_error(run_cli("show", str(tmp_path / "none")), "none")


def test_the_training_summary_gives_each_validation_score_at_its_lowest():
    from whyrec.bundle import training_summary

    history = [{"epoch": 1, "valid_rmse": 0.95, "valid_nll": 4.0, "nll": 3.0},
               {"epoch": 2, "valid_rmse": 0.93, "valid_nll": 4.2, "nll": 2.0},
               {"epoch": 3, "valid_rmse": 0.94, "valid_nll": float("nan"), "nll": 1.0}]
    assert training_summary(history) == {"epochs": 3, "unit": "epoch", "lowest": {
        "valid_rmse": {"value": 0.93, "epoch": 2}, "valid_nll": {"value": 4.0, "epoch": 1}}}
    als = training_summary([{"iteration": 1, "valid_rmse": 1.0}, {"iteration": 2, "valid_rmse": 0.9}])
    assert als["unit"] == "iteration" and als["lowest"]["valid_rmse"]["epoch"] == 2
    assert training_summary([]) == {"epochs": 0, "unit": "epoch", "lowest": {}}
    unnumbered = training_summary([{"valid_rmse": 1.0}, {"valid_rmse": 0.9}])  # records counted from 1
    assert unnumbered["lowest"]["valid_rmse"] == {"value": 0.9, "epoch": 2}
    tied = training_summary([{"iteration": 1, "valid_rmse": 0.9}, {"iteration": 2, "valid_rmse": 0.9}])
    assert tied["lowest"]["valid_rmse"]["epoch"] == 1  # a tie: the first epoch that reached it
    assert training_summary([{"iteration": 1, "valid_rmse": 0.9}])["unit"] == "iteration"


def test_show_reads_a_hand_edited_alignment_record_without_failing(fitted, tmp_path):
    from whyrec.bundle import describe_bundle
    from whyrec.cli.inspecting import bundle_text

    model, _ = fitted
    described = describe_bundle(save_bundle(model, tmp_path / "als"))
    described["alignments"] = [{"target": "rating"}]  # every other key missing
    assert "aligned: ?(rating) on ?, epochs run not recorded, epoch ? kept" in bundle_text(described)
    described["alignments"] = [{"method": "MMI", "target": "rating", "data": None, "epochs_run": 2, "kept_epoch": 1}]
    assert "aligned: MMI(rating) on unnamed data, 2 epochs run, epoch 1 kept" in bundle_text(described)  # not "on None"
    described["alignments"][0].update(variant="item", rating_input=True)
    assert "aligned: MMI(rating) of MT-I with a rating input on unnamed data, 2 epochs run" in bundle_text(described)
    for reward, encoder in (({"kind": "rating-tuned", "members": 5}, "rating-tuned encoder (5 classifiers)"),
                            ({"kind": "rating-tuned", "members": 1}, "rating-tuned encoder (1 classifier)"),
                            ({"kind": "rating-tuned"}, "rating-tuned encoder (? classifiers)"),
                            ({"kind": "generic"}, "generic encoder")):
        described["alignments"] = [{"target": "rating", "rating_reward_encoder": reward}]
        assert f"epoch ? kept; rating reward read by the {encoder}" in bundle_text(described)
    described["alignments"] = [{"target": "rating", "rating_reward_encoder": "hand-edited"}]  # not a dict: not shown
    assert bundle_text(described).count("rating reward") == 0
    # so is a hand-edited run.json: what is there is shown, what is not is a "?"
    assert "made by: not recorded (no run.json" in bundle_text(described)
    described["made_by"] = {"date": "2026-12-02T10:00:00+00:00", "whyrec_commit": 7, "data": ["x"], "splits": 3,
                            "aligned_from": {"bundle": "/b"}}
    assert "made by `?` on 2026-12-02\n  aligned from /b (how that was made is not recorded)" in bundle_text(described)
    described["made_by"] = {"command": "whyrec train mt", "date": "2026-12-03", "whyrec_commit": "abc",
                            "torch_threads": 2}
    assert "made by `whyrec train mt` on 2026-12-03 (whyrec commit abc, 2 torch threads)" in bundle_text(described)
    described["made_by"]["torch_threads"] = "2"  # hand-edited: not shown
    assert "made by `whyrec train mt` on 2026-12-03 (whyrec commit abc)\n" in bundle_text(described) + "\n"
    # an MT bundle's word vectors, however its record reads
    described.update(explainers=["user"], vocabulary=40, feature_words=3)
    for record, shown in (({"source": "glove-6b-50d", "coverage": 0.5}, ", word vectors glove-6b-50d for 50.0% "),
                          ({"source": "random", "glove_installed": False}, ", word vectors random, as GloVe 6B was "
                                                                           "not installed; 3 feature words"),
                          ({"source": "random", "coverage": "most"}, ", word vectors random; 3 feature words"),
                          ({}, "vocabulary 40 words; 3 feature words"), ("glove", "vocabulary 40 words; 3 feature")):
        described["word_vectors"] = record
        assert shown in bundle_text(described), record


def test_a_bundle_saved_over_another_keeps_none_of_its_files(fitted, tmp_path):
    import torch

    from whyrec.bundle import write_torch_bundle

    model, _ = fitted
    model.vocab = Vocabulary(["good", "bad"])
    folder = save_bundle(model, tmp_path / "b")
    del model.vocab
    save_bundle(model, folder)  # the new bundle has no text: the old vocabulary must not load with it
    assert not (folder / "vocab.json").exists() and not hasattr(load_bundle(folder), "vocab")
    Vocabulary(["stale"]).save(folder / "vocab.json")
    (folder / "run.json").write_text('{"command": "whyrec train pmf"}')  # how the old one was made
    write_torch_bundle(folder, {"w": torch.zeros(2)}, {"format": "whyrec-bundle"})  # MT / PETER: words in the header
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.safetensors", "bundle.json"]
    (folder / "run.json").write_text('{"command": "whyrec train pmf"}')
    save_bundle(model, folder)
    assert not (folder / "run.json").exists()


def test_a_refused_save_leaves_the_old_bundle_with_its_own_vocabulary(fitted, tmp_path, monkeypatch):
    """The vocabulary was written first, in place: arrays refused by a full disk left the old
    bundle beside the new vocabulary, and it loaded with words it was not trained with."""
    import whyrec.tensor_files as tensor_files

    model, _ = fitted
    model.vocab = Vocabulary(["good", "bad"])
    folder = save_bundle(model, tmp_path / "b")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def refused(tensors, path, named=None):
        raise disk_full(str(named or path))

    monkeypatch.setattr(tensor_files, "write_safetensors", refused)
    model.vocab = Vocabulary(["other", "words", "entirely"])
    with pytest.raises(OSError, match="No space left"):
        save_bundle(model, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    monkeypatch.undo()
    save_bundle(model, folder)
    assert load_bundle(folder).vocab.words == Vocabulary(["other", "words", "entirely"]).words
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.safetensors", "bundle.json", "vocab.json"]


def test_paths_from_the_home_folder_are_read_and_written_there(tmp_path, monkeypatch):
    """The Python API takes "~/…" as pandas does: it had looked for a folder named "~"."""
    import pandas as pd

    from tests.conftest import REVIEWS
    from whyrec.data import fixed_index_split, load_corpus, write_index_split
    from whyrec.rating import BiasBaseline

    monkeypatch.setenv("HOME", str(tmp_path))
    pd.DataFrame(REVIEWS, columns=["user", "item", "rating", "text"]).to_csv(tmp_path / "reviews.csv", index=False)
    corpus = load_corpus("~/reviews.csv")
    write_index_split(ratio_split(corpus, seed=0), "~/split")
    split = fixed_index_split(corpus, "~/split")
    save_bundle(BiasBaseline().fit(split.train), "~/bundles/bias")
    assert (tmp_path / "bundles" / "bias" / "bundle.json").exists() and (tmp_path / "split" / "train.index").exists()
    assert load_bundle("~/bundles/bias").predict(["alice"], ["guitar"]).shape == (1,)


def test_arrays_damaged_inside_are_refused_by_the_digest_saved_with_them(fitted, tmp_path):
    """Safetensors keeps no checksum: bytes flipped inside the arrays loaded and predicted wrong
    numbers without a word. The SHA-256 recorded at saving is checked at loading."""
    model, split = fitted
    folder = save_bundle(model, tmp_path / "b")
    header = json.loads((folder / "bundle.json").read_text())
    assert len(header[DIGEST]) == 64
    arrays = folder / "arrays.safetensors"
    sound = arrays.read_bytes()
    size = int.from_bytes(sound[:8], "little")  # safetensors: the header's length, the header, the data
    begin, _ = json.loads(sound[8:8 + size])["user_factors"]["data_offsets"]
    damaged = bytearray(sound)
    damaged[8 + size + begin + 3] ^= 0x40  # a bit of the first user's first factor: the header still parses
    arrays.write_bytes(bytes(damaged))
    with pytest.raises(BundleError, match=r"b: arrays\.safetensors is damaged or was replaced"):
        load_bundle(folder)
    forget_arrays_digest(folder)
    assert not np.array_equal(load_bundle(folder).predict_corpus(split.test), model.predict_corpus(split.test))
    for bad in ("abc", 5, "g" * 64):
        (folder / "bundle.json").write_text(json.dumps({**header, DIGEST: bad}))
        with pytest.raises(BundleError, match=f"'{DIGEST}' must be a SHA-256 in hex"):
            load_bundle(folder)
    arrays.write_bytes(sound)
    (folder / "bundle.json").write_text(json.dumps(header))
    np.testing.assert_array_equal(load_bundle(folder).predict_corpus(split.test), model.predict_corpus(split.test))


def test_show_names_the_kept_epoch_of_biased_mf_and_skips_a_hand_edited_history(tmp_path):
    from whyrec.bundle import describe_bundle
    from whyrec.cli.inspecting import bundle_text
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.rating import make_model

    split = ratio_split(make_planted_corpus(n_users=40, n_items=15, reviews_per_user=6, seed=2).corpus, seed=0)
    model = make_model("biased-mf", factors=2, epochs=4).fit(split.train, split.valid)
    folder = save_bundle(model, tmp_path / "mf")
    described = describe_bundle(folder)
    assert described["training"]["kept"] == model.kept_epochs() and len(model.kept_epochs()) == 1
    epoch = model.kept_epochs()[0]["epoch"]
    assert f"  kept: the factors and biases of epoch {epoch} (lowest validation RMSE)" in bundle_text(described)
    header = json.loads((folder / "bundle.json").read_text())
    header["meta"]["history"][1]["valid_rmse"] = "low"  # scores that cannot be compared: no kept line, no failure
    (folder / "bundle.json").write_text(json.dumps(header))
    edited = describe_bundle(folder)
    assert edited["training"]["kept"] == [] and "kept:" not in bundle_text(edited)


def test_show_describes_an_mt_bundle_by_its_history_and_word_vectors(tiny_mt, tmp_path):
    from whyrec.bundle import describe_bundle

    tiny_mt.save(tmp_path / "mt")
    described = describe_bundle(tmp_path / "mt")
    assert described["training"]["epochs"] == len(tiny_mt.history) == 2
    assert described["word_vectors"] == tiny_mt.word_vector_info and described["word_vectors"]["source"] == "random"
    assert described["vocabulary"] == len(tiny_mt.vocab) and described["trained_on"] == tiny_mt.name
    assert described["aligned_shared_embeddings"] is False  # not aligned
