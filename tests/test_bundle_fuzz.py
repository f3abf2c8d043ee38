"""Whatever a bundle's files were turned into (a byte changed, a file cut short, a setting or an id
list of bundle.json given another value of any JSON type), loading it gives a model that rates, or
one clear error (a :class:`~whyrec.errors.WhyrecError`, a BundleError naming the folder for most),
never another exception; and it never loads damaged arrays: their SHA-256 is checked."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz, made_or_refused
from whyrec.bundle import load_bundle, save_bundle

FUZZ = fuzz(150, fixtures=True)
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                                     st.text(max_size=6)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                      max_size=3), max_leaves=6)


@pytest.fixture(scope="module")
def bundles(tiny_split, tiny_mt, tmp_path_factory):
    """Saved bundles of a rating model of each kind that keeps arrays, and of MT."""
    from whyrec.rating import PMF, BiasBaseline, BiasedMF, ContextAwareALS

    root = tmp_path_factory.mktemp("saved")
    for name, model in {"bias": BiasBaseline(), "pmf": PMF(factors=2, iterations=2),
                        "mf": BiasedMF(factors=2, epochs=2), "als": ContextAwareALS(factors=2, iterations=2)}.items():
        save_bundle(model.fit(tiny_split.train), root / name)
    tiny_mt.save(root / "mt")
    return root


def loaded_or_refused(folder: Path):
    """The bundle in ``folder``, or None when refused as it should be. One that loads rates its
    first user and item (a setting given a wrong value must be refused on loading, not fail there)."""
    model = made_or_refused(lambda: load_bundle(folder))
    if model is None:
        return None
    rating_model = getattr(model, "als", model)  # MT rates with its ALS
    user, item = rating_model.user_map.ids[0], rating_model.item_map.ids[0]
    assert len(model.predict([user], [item])) == 1
    return model


def paths_in(header: dict, prefix=()) -> list[tuple]:
    """Every key path of a JSON object, nested ones too."""
    found = []
    for key, value in header.items():
        found.append((*prefix, key))
        if isinstance(value, dict):
            found += paths_in(value, (*prefix, key))
    return found


@FUZZ
@given(which=st.sampled_from(["bias", "pmf", "mf", "als", "mt"]), pick=st.integers(0, 10**6), value=json_values)
def test_a_setting_of_bundle_json_given_any_value_loads_or_is_refused(bundles, which, pick, value):
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / which
        shutil.copytree(bundles / which, copy)
        header = json.loads((copy / "bundle.json").read_text())
        path = paths_in(header)[pick % len(paths_in(header))]
        inner = header
        for key in path[:-1]:
            inner = inner[key]
        inner[path[-1]] = value
        (copy / "bundle.json").write_text(json.dumps(header))
        loaded_or_refused(copy)


@FUZZ
@given(which=st.sampled_from(["bias", "pmf", "mf", "als", "mt"]), name=st.sampled_from(["bundle.json",
                                                                                       "arrays.safetensors"]),
       at=st.floats(0, 1, exclude_max=True), change=st.one_of(st.integers(1, 255), st.just(0)))
def test_a_changed_byte_or_a_cut_file_is_refused_or_harmless(bundles, which, name, at, change):
    """A byte of the arrays changed (``change``) is refused by their digest; a file cut short
    (``change`` 0) at ``at`` of its length is refused; a byte of bundle.json changed loads only as
    valid JSON would."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / which
        shutil.copytree(bundles / which, copy)
        data = bytearray((copy / name).read_bytes())
        n = int(at * len(data))
        if change:
            data[n] ^= change
        else:
            data = data[:n]
        (copy / name).write_bytes(bytes(data))
        model = loaded_or_refused(copy)
        if name == "arrays.safetensors":
            assert model is None  # damaged arrays never load
