"""Saved safetensors files get the permission bits of the JSON beside them, as the umask asks
(safetensors 0.8 alone writes them readable by their owner only, 0600, so a bundle trained by one
account could not be served by another); a write the disk refuses is an OSError naming the file,
and leaves the previous bundle or checkpoint as it was, with no temporary file."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.systems.test_mt import TINY
from whyrec.bundle import load_bundle, save_bundle, write_torch_bundle
from whyrec.checkpoint import complete_checkpoints, latest_checkpoint, save_checkpoint
from whyrec.data import ratio_split
from whyrec.rating import ContextAwareALS
from whyrec.saved_parts import save_part
from whyrec.tensor_files import give_mode_of, write_safetensors, write_tensors_with_record

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


@pytest.fixture
def disk_full(monkeypatch):
    """safetensors' writer failing as it does on a full disk (its own error, quoting the errno)."""
    import safetensors.numpy
    import safetensors.torch
    from safetensors import SafetensorError

    def refuse(tensors, path, metadata=None):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    def install():
        monkeypatch.setattr(safetensors.torch, "save_file", refuse)
        monkeypatch.setattr(safetensors.numpy, "save_file", refuse)
    return install


def test_a_write_the_disk_refused_is_an_os_error_naming_the_file(tmp_path, disk_full):
    disk_full()
    for tensors in ({"w": torch.ones(2)}, {"w": np.ones(2)}):
        with pytest.raises(OSError) as caught:
            write_safetensors(tensors, tmp_path / "x.tmp", named=tmp_path / "x.safetensors")
        assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "x.safetensors")
        assert caught.value.strerror == os.strerror(errno.ENOSPC)


def test_an_error_that_is_not_the_systems_keeps_its_own_kind(tmp_path, monkeypatch):
    import safetensors.torch
    from safetensors import SafetensorError

    def refuse(tensors, path, metadata=None):
        raise SafetensorError("some tensors share memory")
    monkeypatch.setattr(safetensors.torch, "save_file", refuse)
    with pytest.raises(SafetensorError, match="share memory"):
        write_safetensors({"w": torch.ones(2)}, tmp_path / "x.safetensors")


def test_a_failed_save_keeps_the_bundle_and_checkpoint_before_and_leaves_no_temporary(planted, tmp_path, disk_full):
    model = ContextAwareALS(factors=4, iterations=2).fit(ratio_split(planted.corpus, seed=0).train)
    save_bundle(model, tmp_path / "b")
    write_torch_bundle(tmp_path / "t", {"w": torch.ones(2)}, {"kind": "mt", "n": 1})
    save_checkpoint(tmp_path / "ck", 1, {"w": torch.ones(2)}, {"note": "first"})
    before = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    disk_full()
    with pytest.raises(OSError, match="No space left on device"):
        save_bundle(model, tmp_path / "b")
    with pytest.raises(OSError, match="No space left on device"):
        write_torch_bundle(tmp_path / "t", {"w": torch.zeros(2)}, {"kind": "mt", "n": 2})
    with pytest.raises(OSError, match="No space left on device"):
        save_checkpoint(tmp_path / "ck", 2, {"w": torch.zeros(2)}, {"note": "second"})
    assert {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()} == before
    assert not list(tmp_path.rglob("*.tmp")) and complete_checkpoints(tmp_path / "ck") == [1]
    assert latest_checkpoint(tmp_path / "ck")[1]["note"] == "first"
    np.testing.assert_array_equal(load_bundle(tmp_path / "b").predict(["u0"], ["i0"]), model.predict(["u0"], ["i0"]))


def test_two_saves_into_one_folder_at_once_never_pair_one_runs_tensors_with_the_others_record(tmp_path,
                                                                                            monkeypatch):
    """Two processes (here two threads, each its own writer id) save into one folder at once, the
    second writing its tensors between the first's write and its hash. With one temporary name for
    both, the first hashed and renamed the second's tensors under its own record: a pair that
    loaded as whole, one run's weights under the other's settings."""
    import threading

    from safetensors.torch import load_file

    import whyrec.tensor_files as tensor_files
    import whyrec.temporary_names as temporary_names
    from whyrec.provenance import file_digest

    real, me = tensor_files.write_safetensors, threading.local()
    first_written, second_written, first_done = threading.Event(), threading.Event(), threading.Event()

    def write_safetensors(tensors, path, named=None):
        real(tensors, path, named)
        if me.run == "first":  # the second writes its tensors now, before the first hashes its own
            first_written.set()
            second_written.wait(30)
        else:
            second_written.set()
            first_done.wait(30)
    monkeypatch.setattr(tensor_files, "write_safetensors", write_safetensors)
    monkeypatch.setattr(temporary_names, "writer", lambda: me.pid)

    def save(run: str, pid: int, value: float) -> None:
        me.run, me.pid = run, pid
        write_tensors_with_record({"w": torch.full((2,), value)}, tmp_path / "arrays.safetensors", {"run": run},
                                  tmp_path / "bundle.json", "arrays_sha256")

    first = threading.Thread(target=save, args=("first", 1, 1.0))
    first.start()
    assert first_written.wait(30)
    second = threading.Thread(target=save, args=("second", 2, 2.0))
    second.start()
    first.join(30)
    first_done.set()
    second.join(30)
    record = json.loads((tmp_path / "bundle.json").read_text())
    weights = load_file(tmp_path / "arrays.safetensors")["w"]
    assert record["arrays_sha256"] == file_digest(tmp_path / "arrays.safetensors")
    assert float(weights[0]) == {"first": 1.0, "second": 2.0}[record["run"]]  # one run's pair, whole
    assert not list(tmp_path.glob("*.tmp"))


def test_train_on_a_full_disk_says_so_in_one_line_naming_the_file(planted, tmp_path):
    """A real refusal: the file-size limit (RLIMIT_FSIZE) makes the bundle's write fail with EFBIG,
    as a full disk fails with ENOSPC. It had been safetensors' traceback."""
    from tests.cli.invoke import run_cli

    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    proc = run_cli("train", "pmf", "--data", str(data), "--out", str(tmp_path / "b"), file_size_limit=4096)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"error: {tmp_path / 'b' / 'arrays.safetensors'}: File too large"
    assert list((tmp_path / "b").iterdir()) == []
