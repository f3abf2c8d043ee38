import json

import numpy as np
import pytest

from whyrec.bundle import load_bundle, save_bundle
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
    (folder / "bundle.json").write_text(json.dumps(header))
    (folder / "arrays.safetensors").write_bytes(b"garbage")
    with pytest.raises(BundleError, match="cannot read arrays"):
        load_bundle(folder)
    (folder / "bundle.json").write_text("{")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(folder)


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
    with pytest.raises(BundleError, match="saved arrays do not match the saved id lists"):
        load_bundle(folder)


def test_an_unfitted_model_is_refused_before_its_folder_is_made(tmp_path):
    from whyrec.rating import NotFittedError, make_model

    with pytest.raises(NotFittedError, match="context-als: call fit\\(\\) \\(or load a bundle\\) before saving"):
        save_bundle(make_model("context-als"), tmp_path / "b")
    assert not (tmp_path / "b").exists()
