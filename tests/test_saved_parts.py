"""Parts saved outside a bundle (the sentiment judge, the rating-tuned encoder): their tensors'
SHA-256 is recorded and checked, and every bad file is a BundleError naming it."""

from __future__ import annotations

import json

import pytest
import torch

from whyrec.errors import BundleError
from whyrec.saved_parts import DIGEST, load_part, save_part


def _saved(folder):
    tensors = {"weight": torch.arange(12, dtype=torch.float32).reshape(3, 4), "bias": torch.ones(3)}
    save_part(folder, "part", {"seed": 7, "grams": ["a", "b c"]}, tensors)
    return tensors


def test_a_saved_part_loads_as_it_was_saved_and_records_its_tensors_digest(tmp_path):
    tensors = _saved(tmp_path)
    settings, loaded = load_part(tmp_path, "part")
    assert settings == {"seed": 7, "grams": ["a", "b c"]}  # the digest is not handed back as a setting
    assert loaded.keys() == tensors.keys() and all(torch.equal(loaded[k], tensors[k]) for k in tensors)
    recorded = json.loads((tmp_path / "part.json").read_text())[DIGEST]
    assert len(recorded) == 64 and int(recorded, 16) >= 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part.json", "part.safetensors"]  # no temporary left


def test_damaged_tensors_are_refused_and_without_the_record_load_unchecked(tmp_path):
    tensors = _saved(tmp_path)
    path = tmp_path / "part.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x40  # inside the last tensor's bytes: safetensors itself reads it without complaint
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"part\.safetensors: damaged or replaced"):
        load_part(tmp_path, "part")
    settings = json.loads((tmp_path / "part.json").read_text())
    del settings[DIGEST]  # as a part saved before the digest was recorded
    (tmp_path / "part.json").write_text(json.dumps(settings))
    _, loaded = load_part(tmp_path, "part")
    assert any(not torch.equal(loaded[k], tensors[k]) for k in tensors)  # loaded, damaged: why the record matters


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "part.json").unlink(), "no part.json"),
    (lambda f: (f / "part.json").write_text('{"seed": 7,'), "part.json: not readable JSON"),
    (lambda f: (f / "part.json").write_bytes(b"\xff\xfe\x00"), "part.json: not readable JSON"),
    (lambda f: (f / "part.json").write_text("[1, 2]"), "part.json: not a JSON object"),
    (lambda f: (f / "part.safetensors").unlink(), "cannot read part.safetensors"),
])
def test_a_missing_or_malformed_file_is_named(tmp_path, damage, message):
    _saved(tmp_path)
    damage(tmp_path)
    with pytest.raises(BundleError, match=message):
        load_part(tmp_path, "part")


def test_garbage_in_place_of_the_tensors_is_refused_without_a_record_too(tmp_path):
    _saved(tmp_path)
    settings = json.loads((tmp_path / "part.json").read_text())
    del settings[DIGEST]
    (tmp_path / "part.json").write_text(json.dumps(settings))
    (tmp_path / "part.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(BundleError, match="cannot read part.safetensors"):
        load_part(tmp_path, "part")
