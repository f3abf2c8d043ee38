"""Temporary names, and the removal of those a killed save left."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import disk_full
from whyrec.temporary_names import ABANDONED_AFTER, process_runs, remove_abandoned, temporary_path

posix_only = pytest.mark.skipif(os.name != "posix", reason="a process is asked after with signal 0")


def _dead_pid() -> int:
    """The id of a process that has run and ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _left(folder, name: str, pid: int, age: float):
    """A temporary file of ``name`` as a save by ``pid`` left it, last written ``age`` seconds ago."""
    path = folder / f"{name}.{pid}.tmp"
    path.write_bytes(b"half written")
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def test_a_temporary_name_carries_the_process_id(tmp_path):
    assert temporary_path(tmp_path / "run.json") == tmp_path / f"run.json.{os.getpid()}.tmp"


@posix_only
def test_a_process_is_told_running_or_ended():
    assert process_runs(os.getpid()) and not process_runs(_dead_pid())
    assert not process_runs(10**12)  # no process could have that id


@posix_only
def test_only_old_files_of_ended_processes_are_removed(tmp_path):
    dead, other_dead, hour = _dead_pid(), _dead_pid(), ABANDONED_AFTER
    abandoned = _left(tmp_path, "arrays.safetensors", dead, 2 * hour)
    kept = [_left(tmp_path, "arrays.safetensors", other_dead, 60),  # being written, maybe on another machine
            _left(tmp_path, "arrays.safetensors", os.getppid(), 2 * hour),  # its writer runs
            _left(tmp_path, "bundle.json", dead, 2 * hour),  # another file's
            _left(tmp_path, "arrays.safetensors.old", dead, 2 * hour)]
    (tmp_path / "arrays.safetensors.tmp").write_bytes(b"not one of ours")
    assert remove_abandoned(tmp_path / "arrays.safetensors") == [abandoned]
    assert not abandoned.exists() and all(path.exists() for path in kept)
    assert (tmp_path / "arrays.safetensors.tmp").exists()
    assert remove_abandoned(tmp_path / "missing-folder" / "x") == []


@posix_only
def test_a_save_removes_what_a_killed_save_of_the_same_files_left(tmp_path):
    """A save killed partway left its temporary files, and each kill one more, that nothing read."""
    from whyrec.provenance import RUN_FILE, write_run_record
    from whyrec.tensor_files import write_tensors_with_record

    dead = _dead_pid()
    left = [_left(tmp_path, name, dead, 2 * ABANDONED_AFTER) for name in ("arrays.safetensors", "bundle.json",
                                                                          RUN_FILE)]
    write_tensors_with_record({"w": torch.ones(2)}, tmp_path / "arrays.safetensors", {"kind": "test"},
                              tmp_path / "bundle.json", "arrays_sha256")
    write_run_record(tmp_path, None, ["train", "pmf"])
    assert not any(path.exists() for path in left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.safetensors", "bundle.json", RUN_FILE]
    assert json.loads((tmp_path / "bundle.json").read_text())["kind"] == "test"


def test_a_staged_file_is_renamed_into_place_only_when_its_block_ends_well(tmp_path):
    from whyrec.temporary_names import staged_file, write_whole

    path = tmp_path / "run.json"
    path.write_text("old")
    with pytest.raises(ValueError):
        with staged_file(path, lambda staged: staged.write_text("new")):
            assert path.read_text() == "old"  # not before the block has ended
            raise ValueError("the save beside it failed")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["run.json"]
    write_whole(path, lambda staged: staged.write_text("new"))
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["run.json"]


def test_a_refused_write_is_told_naming_the_file_and_the_block_does_not_run(tmp_path):
    """A full disk's error names no file (Python knows the name only when opening): it is told as
    the file's the user knows, not as the temporary name or as nothing."""
    from whyrec.temporary_names import staged_file

    path = tmp_path / "records.jsonl"
    path.write_text("old")

    def half_then_full(staged):
        staged.write_text("ne")
        raise disk_full()

    ran = []
    with pytest.raises(OSError) as refused:
        with staged_file(path, half_then_full):
            ran.append(True)
    assert refused.value.filename == str(path) and refused.value.errno == errno.ENOSPC
    assert not ran and path.read_text() == "old" and os.listdir(tmp_path) == ["records.jsonl"]


def test_files_written_together_are_all_replaced_or_none_is(tmp_path):
    """A comparison's tables and charts: a refusal of the last file left the first ones new among
    the last run's."""
    from whyrec.temporary_names import write_together

    names = ["results.md", "results.json", "rmse.png"]
    for name in names:
        (tmp_path / name).write_text(f"last run's {name}")

    def write(text, refused=False):
        def to(staged):
            staged.write_text(text[:3] if refused else text)
            if refused:
                raise disk_full()
        return to

    with pytest.raises(OSError) as refused:
        write_together({tmp_path / "results.md": write("new md"), tmp_path / "results.json": write("new json"),
                        tmp_path / "rmse.png": write("new png", refused=True)})
    assert refused.value.filename == str(tmp_path / "rmse.png")
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # no temporary file left
    assert [(tmp_path / name).read_text() for name in names] == [f"last run's {name}" for name in names]
    write_together({tmp_path / name: write(f"new {name}") for name in [*names, "config.json"]})
    assert sorted(os.listdir(tmp_path)) == sorted([*names, "config.json"])
    assert (tmp_path / "rmse.png").read_text() == "new rmse.png"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root gives a file away")
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path):
    """A run as root replacing a service account's file made it root's: the service could no
    longer replace it."""
    from whyrec.temporary_names import write_whole

    kept = tmp_path / "results.json"
    kept.write_text("old")
    os.chown(kept, 4321, 5432)
    kept.chmod(0o664)
    write_whole(kept, lambda staged: staged.write_text("new"))
    assert kept.read_text() == "new"
    assert (kept.stat().st_uid, kept.stat().st_gid, stat.S_IMODE(kept.stat().st_mode)) == (4321, 5432, 0o664)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="root makes the other's file")
def test_a_process_that_may_not_give_a_file_away_keeps_at_least_its_group(tmp_path, monkeypatch):
    """Not root: the owner cannot be given back (chown refused), the group can be when it is one of
    the process's; the new file had neither."""
    from whyrec.temporary_names import write_whole

    kept = tmp_path / "results.json"
    kept.write_text("old")
    os.chown(kept, 4321, 5432)
    real = os.chown

    def as_a_user(path, uid, gid):  # what the system lets a process other than root do
        if uid != -1:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(path))
        real(path, uid, gid)

    monkeypatch.setattr(os, "chown", as_a_user)
    write_whole(kept, lambda staged: staged.write_text("new"))
    assert kept.read_text() == "new" and (kept.stat().st_uid, kept.stat().st_gid) == (os.geteuid(), 5432)


@posix_only
def test_a_replaced_file_keeps_its_mode_and_a_link_stays_a_link(tmp_path):
    """Renamed into place, the new file had the umask's mode (a records file the user had made
    group-only readable became world-readable), and a symbolic link was replaced by a file."""
    from whyrec.temporary_names import write_whole

    mask = os.umask(0o022)
    try:
        kept = tmp_path / "records.jsonl"
        kept.write_text("old")
        kept.chmod(0o640)
        write_whole(kept, lambda staged: staged.write_text("new"))
        assert kept.read_text() == "new" and stat.S_IMODE(kept.stat().st_mode) == 0o640
        fresh = tmp_path / "fresh.jsonl"
        write_whole(fresh, lambda staged: staged.write_text("new"))
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # a new file: as the umask says
    finally:
        os.umask(mask)
    target, link = tmp_path / "data" / "features.jsonl", tmp_path / "features.jsonl"
    target.parent.mkdir()
    target.write_text("old")
    link.symlink_to(target)
    write_whole(link, lambda staged: staged.write_text("new"))
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "features.jsonl", "fresh.jsonl", "records.jsonl"]


def test_files_of_one_folder_are_written_together_by_name(tmp_path):
    from whyrec.temporary_names import text_writer, write_together_in

    write_together_in(tmp_path, {"a.md": text_writer("a"), "b.json": text_writer("{}")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.json"] and (tmp_path / "a.md").read_text() == "a"
