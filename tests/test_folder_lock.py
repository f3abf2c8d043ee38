"""One save at a time into a folder."""

from __future__ import annotations

import json
import os
import threading

import pytest

from whyrec.folder_lock import saving_into

flock_only = pytest.mark.skipif(os.name != "posix", reason="the lock is flock's")


def _second_save(folder, entered: threading.Event) -> threading.Thread:
    """Another save into ``folder``, in a thread: sets ``entered`` once it holds the folder."""
    def save() -> None:
        with saving_into(folder):
            entered.set()

    thread = threading.Thread(target=save)
    thread.start()
    return thread


@flock_only
def test_a_second_save_into_a_folder_waits_for_the_first(tmp_path):
    entered = threading.Event()
    with saving_into(tmp_path / "out"):
        second = _second_save(tmp_path / "out", entered)
        assert not entered.wait(0.5)  # held: it waits
    assert entered.wait(10)  # let go: it saves
    second.join(10)
    other = threading.Event()
    with saving_into(tmp_path / "out"):  # another folder is not held by this one
        _second_save(tmp_path / "elsewhere", other).join(10)
        assert other.is_set()
    assert os.listdir(tmp_path / "out") == []  # nothing written into the folder for the lock


@flock_only
def test_a_save_that_has_to_wait_says_so_once(tmp_path):
    """A second run's save waited without a word: a silent pause after its work."""
    told, entered = [], threading.Event()

    def second() -> None:
        with saving_into(tmp_path / "out", waiting=told.append):
            entered.set()

    with saving_into(tmp_path / "out", waiting=told.append):  # free: nothing to say
        assert told == []
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.5)
    assert entered.wait(10)
    thread.join(10)
    assert told == [tmp_path / "out"]


def test_a_save_within_a_save_of_the_same_folder_does_not_wait_for_itself(tmp_path):
    with saving_into(tmp_path), saving_into(tmp_path / "."):
        pass


@flock_only
def test_two_runs_records_and_bundles_are_not_interleaved(tmp_path):
    """Two runs saving into one folder at once: each one's bundle and record are replaced while it
    holds the folder, so the record that ends there is the bundle's own. Interleaved, the first
    run's bundle could end under the second's record."""
    from whyrec.provenance import RUN_FILE, run_record_after

    first_saving, second_entered = threading.Event(), threading.Event()
    release = threading.Event()

    def first() -> None:
        with run_record_after(tmp_path, None, ["train", "pmf", "--param", "factors=4"]):
            (tmp_path / "bundle.json").write_text('{"factors": 4}')
            first_saving.set()
            release.wait(10)  # the second run tries to save now

    def second() -> None:
        first_saving.wait(10)
        with run_record_after(tmp_path, None, ["train", "pmf", "--param", "factors=8"]):
            second_entered.set()
            (tmp_path / "bundle.json").write_text('{"factors": 8}')

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_saving.wait(10) and not second_entered.wait(0.5)  # the second waits for the first's save
    release.set()
    for thread in threads:
        thread.join(10)
    factors = json.loads((tmp_path / "bundle.json").read_text())["factors"]
    assert json.loads((tmp_path / RUN_FILE).read_text())["command"].endswith(f"factors={factors}")


def test_the_folder_is_made_even_where_there_is_no_flock(tmp_path, monkeypatch):
    """The callers save into it at once (Windows has no fcntl)."""
    import builtins

    real_import = builtins.__import__

    def without_fcntl(name, *args, **kwargs):
        if name == "fcntl":
            raise ImportError("No module named 'fcntl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_fcntl)
    with saving_into(tmp_path / "new" / "bundle"):
        assert (tmp_path / "new" / "bundle").is_dir()
