"""Saved safetensors files get the permission bits of the JSON beside them, as the umask asks:
safetensors 0.8 alone writes them readable by their owner only (0600), so a bundle trained by one
account could not be served by another."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.systems.test_mt import TINY
from whyrec.bundle import save_bundle, write_torch_bundle
from whyrec.checkpoint import save_checkpoint
from whyrec.data import ratio_split
from whyrec.file_modes import give_mode_of
from whyrec.rating import ContextAwareALS
from whyrec.saved_parts import save_part

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
UMASKS = [0o022, 0o027, 0o077]


@pytest.fixture(params=UMASKS, ids=oct)
def umask(request):
    before = os.umask(request.param)
    yield request.param
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): _mode(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_file_takes_its_siblings_mode(tmp_path):
    sibling, path = tmp_path / "a.json", tmp_path / "a.bin"
    sibling.write_text("{}")
    path.write_bytes(b"")
    os.chmod(sibling, 0o640)
    os.chmod(path, 0o600)
    give_mode_of(sibling, path)
    assert _mode(path) == 0o640


def test_a_rating_bundles_arrays_are_as_readable_as_its_json(planted, tmp_path, umask):
    model = ContextAwareALS(factors=4, iterations=2).fit(ratio_split(planted.corpus, seed=0).train)
    folder = save_bundle(model, tmp_path / "b")
    assert _modes(folder) == {"arrays.safetensors": 0o666 & ~umask, "bundle.json": 0o666 & ~umask}


def test_torch_bundles_parts_and_checkpoints_are_as_readable_as_their_json(tmp_path, umask):
    tensors = {"w": torch.ones(2, 3)}
    write_torch_bundle(tmp_path / "bundle", tensors, {"kind": "mt"})  # as MT and PETER save
    save_part(tmp_path / "part", "judge", {"seed": 1}, tensors)
    save_checkpoint(tmp_path / "ck", 1, tensors, {"note": "x"})
    expected = 0o666 & ~umask
    assert _modes(tmp_path) == {
        "bundle/arrays.safetensors": expected, "bundle/bundle.json": expected,
        "part/judge.json": expected, "part/judge.safetensors": expected,
        "ck/epoch-0001/state.json": expected, "ck/epoch-0001/tensors.safetensors": expected}


def test_every_file_train_writes_is_readable_as_the_umask_asks(planted, tmp_path):
    """Through the command line, for any writer added later: MT's bundle, run record and checkpoint."""
    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    settings = [arg for name, value in {**TINY, "epochs": 1}.items()
                for arg in ("--param", f"{name}={','.join(map(str, value)) if isinstance(value, tuple) else value}")]
    proc = subprocess.run([sys.executable, "-m", "whyrec.cli", "train", "mt", "--data", str(data), "--out",
                           str(tmp_path / "b"), "--checkpoint", str(tmp_path / "ck"), *settings],
                          capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(0o027))
    assert proc.returncode == 0, proc.stderr
    modes = {**_modes(tmp_path / "b"), **_modes(tmp_path / "ck")}
    assert "arrays.safetensors" in modes and "epoch-0001/tensors.safetensors" in modes
    assert set(modes.values()) == {0o640}, modes
