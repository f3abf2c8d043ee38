"""What a long run made, kept elsewhere when the folder asked for refuses it."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from tests.conftest import disk_full
from whyrec.kept_elsewhere import UNSAVED_PREFIX, KeptElsewhere, write_or_keep_elsewhere

FULL = disk_full("runs/b/arrays.safetensors")


def test_a_save_that_works_goes_where_it_was_asked(tmp_path, system_temporary):
    saved = []
    write_or_keep_elsewhere(saved.append, tmp_path / "out", "trained pmf")
    assert saved == [tmp_path / "out"] and not any(system_temporary.iterdir())


def test_a_refused_save_is_made_in_the_temporary_folder_and_the_error_says_where(tmp_path, system_temporary):
    tried = []

    def save(folder):
        tried.append(folder)
        if folder == tmp_path / "out":
            raise FULL
        (folder / "bundle.json").write_text("{}")

    mask = os.umask(0o022)
    try:
        with pytest.raises(KeptElsewhere) as refused:
            write_or_keep_elsewhere(save, tmp_path / "out", "trained pmf")
    finally:
        os.umask(mask)
    [elsewhere] = list(system_temporary.iterdir())
    # made as --out would have been (the umask's 0755), so that moved where it belongs another
    # account (a service's) can read it: mkdtemp makes it its owner's alone (0700)
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o755
    assert elsewhere.name.startswith(UNSAVED_PREFIX) and tried == [tmp_path / "out", elsewhere]
    assert str(refused.value) == (f"runs/b/arrays.safetensors: No space left on device; the trained pmf was saved "
                                  f"in {elsewhere} instead: move it where it belongs")
    assert (elsewhere / "bundle.json").exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux gives the umask there")
def test_the_umask_is_read_without_changing_it(monkeypatch):
    """Setting it and setting it back gave another thread's new files, in between, the wrong mode."""
    from whyrec.kept_elsewhere import _umask

    mask = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda _: pytest.fail("the umask was changed to be read"))
        assert _umask() == 0o027
    finally:
        monkeypatch.undo()
        os.umask(mask)


def test_a_save_refused_in_both_places_raises_the_first_refusal_and_leaves_nothing(tmp_path, system_temporary):
    def save(folder):
        (folder / "half").mkdir(parents=True)
        raise FULL if folder == tmp_path / "out" else OSError(errno.EDQUOT, "Disk quota exceeded")

    with pytest.raises(OSError) as refused:
        write_or_keep_elsewhere(save, tmp_path / "out", "trained pmf")
    assert refused.value is FULL and not any(system_temporary.iterdir())


def test_the_refusal_can_be_told_in_other_words_and_without_a_file(tmp_path, system_temporary):
    """The command line tells it naming its output option (a write's error may name no file)."""
    def save(folder):
        if folder == tmp_path / "out":
            raise disk_full()

    with pytest.raises(KeptElsewhere) as kept:
        write_or_keep_elsewhere(save, tmp_path / "out", "aligned MT")
    assert kept.value.refused.errno == errno.ENOSPC and kept.value.folder.parent == system_temporary
    assert str(kept.value).startswith("No space left on device; the aligned MT was saved in ")
    assert kept.value.told("--out runs/x: No space left on device") == (
        f"--out runs/x: No space left on device; the aligned MT was saved in {kept.value.folder} instead: move it "
        "where it belongs")
