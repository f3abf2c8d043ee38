"""Options checked before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from whyrec.cli.option_checks import check_relevant_at, mi_encoder
from whyrec.errors import ConfigError


def test_an_output_that_could_not_be_written_is_refused_before_the_work(tmp_path, monkeypatch):
    """An output under a path that is a file, or in a folder without write permission, used to
    fail only when the trained model or the results were written: the work was lost."""
    from whyrec.cli.option_checks import check_checkpoint, check_out, check_writable
    from whyrec.errors import ConfigError

    note = tmp_path / "notes.txt"
    note.write_text("keep me", encoding="utf-8")
    for out in (note / "run", note / "deep" / "run"):
        with pytest.raises(ConfigError, match=rf"--out {out}: {note} is a file, so no folder can be made in it"):
            check_out(out, None)
    with pytest.raises(ConfigError, match="--records .*notes.txt is a file"):
        check_out(note / "rows.csv", None, folder=False, option="--records")
    with pytest.raises(ConfigError, match="--checkpoint .*notes.txt is a file"):
        check_checkpoint(note / "ck", tmp_path / "bundle", None)
    check_out(tmp_path / "new" / "nested" / "run", None)  # folders still to be made: fine
    check_out(note, None, folder=False, option="--records")  # a file output that exists is overwritten
    check_out(tmp_path, None)  # an existing folder
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != locked)  # as for a user without the right
    with pytest.raises(ConfigError, match=rf"--out {locked / 'run'}: no permission to write in {locked}"):
        check_writable(locked / "run", "--out")
    check_writable(tmp_path / "run", "--out")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_where_no_file_can_be_made_is_refused_though_permissions_allow_it(tmp_path):
    """Root's permissions say yes in /proc, whose folders take no new file: the output was refused
    only when the work was done. A file made and removed at once finds it first, and leaves nothing."""
    from whyrec.cli.option_checks import check_writable

    with pytest.raises(ConfigError, match=r"--out /proc/whyrec-run: (no permission to write|cannot write) in /proc"):
        check_writable(Path("/proc/whyrec-run"), "--out")
    (tmp_path / "kept.txt").write_text("x", encoding="utf-8")
    check_writable(tmp_path / "run", "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]  # the check's file is gone


def test_an_option_that_only_steers_another_is_refused_without_it():
    """--encoder is read by --mi only, --relevant-at by ranking only: alone, each was left unread."""
    assert mi_encoder(True, None) == "minilm" and mi_encoder(True, "words") == "words"
    assert mi_encoder(False, None) is None
    with pytest.raises(ConfigError, match="--encoder chooses what --mi's estimators read; give --mi too"):
        mi_encoder(False, "words")
    with pytest.raises(ConfigError, match="sentence encoder must be 'minilm' or 'words'"):
        mi_encoder(True, "wrds")
    check_relevant_at(None, None)
    check_relevant_at(3.0, 5)
    check_relevant_at(3.0, None, "ndcg@10")  # experiment rating: a ranking metric picks the settings
    with pytest.raises(ConfigError, match="give --top-k$"):
        check_relevant_at(3.0, None)
    with pytest.raises(ConfigError, match="give --top-k or a ranking --tune-on such as ndcg@10"):
        check_relevant_at(3.0, None, "mae")


def test_a_root_path_is_a_path_from_the_root_without_its_last_slash():
    from whyrec.cli.option_checks import checked_root_path

    assert checked_root_path("") == checked_root_path("/") == ""
    assert checked_root_path("/lab/whyrec/") == checked_root_path(" /lab/whyrec ") == "/lab/whyrec"
    for bad in ("whyrec", "lab/whyrec/", "/lab?x=1", "/lab#top", "//lab"):
        with pytest.raises(ConfigError, match="--root-path is a path"):
            checked_root_path(bad)
