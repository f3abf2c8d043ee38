"""run.json: what a results folder records about how it was made."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.conftest import disk_full, strict_loads
from whyrec.data import fixed_index_split, ratio_split
from whyrec.provenance import (RUN_FILE, data_record, file_digest, held_out_warning, run_record, run_record_after,
                               source_commit, split_fingerprint, split_record, write_run_record)


def test_the_digest_is_the_sha256_of_the_bytes_read_in_chunks(tmp_path):
    path = tmp_path / "reviews.csv"
    payload = bytes(range(256)) * 1000  # 256,000 bytes: several chunks of 4,096
    path.write_bytes(payload)
    assert file_digest(path, chunk=4096) == hashlib.sha256(payload).hexdigest()
    path.write_bytes(payload[:-1] + b"x")  # one byte changed: another digest
    assert file_digest(path) != hashlib.sha256(payload).hexdigest()


def test_a_data_folder_is_recorded_as_its_review_file(tmp_path):
    (tmp_path / "reviews.csv").write_text("user,item,rating,text\nu,i,5,fine\n", encoding="utf-8")
    record = data_record(tmp_path)
    assert record["path"] == str((tmp_path / "reviews.csv").resolve())
    assert record["bytes"] == (tmp_path / "reviews.csv").stat().st_size
    assert record["sha256"] == file_digest(tmp_path / "reviews.csv")


def test_the_record_holds_the_command_versions_and_data(tmp_path):
    from whyrec import __version__

    data = tmp_path / "r.csv"
    data.write_text("user,item,rating,text\nu,i,5,fine\n", encoding="utf-8")
    record = run_record(data, ["experiment", "rating", "--data", "my data.csv"])
    assert record["command"] == "whyrec experiment rating --data 'my data.csv'"  # quoted as a shell reads it
    assert record["whyrec"] == __version__ and record["libraries"]["torch"].startswith("2.")
    assert record["data"]["sha256"] == file_digest(data) and "T" in record["date"]
    assert "data" not in run_record(None, [])
    import torch  # the threads a model was computed with, once torch is loaded

    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert run_record(None, [])["torch_threads"] == 1
        # and the vector instructions its kernels use, which change how a float sum rounds
        assert run_record(None, [])["machine"]["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    finally:
        torch.set_num_threads(previous)
    written = write_run_record(tmp_path / "out", data, ["demo"])
    assert written.name == RUN_FILE and json.loads(written.read_text())["command"] == "whyrec demo"
    # strict JSON, as every results file: a NaN a caller records is null, not a bare NaN that jq refuses
    nan = write_run_record(tmp_path / "nan", None, ["demo"], measured={"rmse": float("nan")})
    assert strict_loads(nan.read_text())["measured"] == {"rmse": None}
    # a benchmark script names itself
    assert run_record(None, ["--datasets", "a b"], program="python benchmarks/mt.py")["command"] == \
        "python benchmarks/mt.py --datasets 'a b'"


def test_the_cpu_is_named_by_vendor_family_model_and_name(tmp_path):
    import platform

    from whyrec.provenance import cpu_name

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n"
                    "model name\t: AMD EPYC\n\nprocessor\t: 1\nvendor_id\t: Other\nmodel\t\t: 9\n")
    assert cpu_name(info) == "AuthenticAMD family 25 model 1 (AMD EPYC)"  # the first processor's
    info.write_text("processor\t: 0\nmodel name\t: ARMv8 Processor\n")
    assert cpu_name(info) == "ARMv8 Processor"
    assert cpu_name(tmp_path / "none") == (platform.processor() or platform.machine())  # no /proc: the platform's


def test_the_commit_is_that_of_the_checkout_when_there_is_one():
    commit = source_commit()  # the tests run from a git checkout, or from an installed copy without one
    assert commit is None or len(commit.split("+")[0]) == 40


@pytest.mark.skipif(shutil.which("git") is None, reason="reads a git checkout")
def test_reading_the_commit_does_not_write_the_checkout(tmp_path):
    """``git status`` refreshed the index of a checkout whose files had been touched, and so
    wrote it, holding ``.git/index.lock`` meanwhile: a user committing at that moment was refused,
    and a refused write (a full disk) left the lock, stopping every git command after it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                              capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-q", "-m", "one")
    index = tmp_path / ".git" / "index"
    past = time.time() - 100
    os.utime(index, (past, past))  # the index older than the file's new time: status would refresh it
    os.utime(tmp_path / "a.py", None)
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    assert source_commit(tmp_path).split("+")[0] == git("rev-parse", "HEAD")
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert not (tmp_path / ".git" / "index.lock").exists()
    (tmp_path / "a.py").write_text("x = 2\n")
    assert "+changes" in source_commit(tmp_path)  # still told
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before


def test_source_changed_after_the_import_is_told(monkeypatch):
    """A benchmark ran for an hour while its checkout moved on: the commit read when it wrote its
    record named code that did not run."""
    import whyrec
    from whyrec.provenance import changed_since_import

    monkeypatch.setattr(whyrec, "_IMPORTED_AT", time.time() + 3600)  # nothing is modified after the import
    assert changed_since_import() == []
    commit = source_commit()
    assert commit is None or not commit.endswith("+changed during the run")
    monkeypatch.setattr(whyrec, "_IMPORTED_AT", 0.0)  # every file is newer than the import
    changed = changed_since_import()
    assert "whyrec/provenance.py" in changed and "whyrec/__init__.py" in changed
    commit = source_commit()
    assert commit is None or commit.endswith("+changed during the run")
    # a process that loaded a whyrec older than this module (no import time) is told, not broken:
    # such a benchmark run lost its results when it came to write them
    monkeypatch.delattr(whyrec, "_IMPORTED_AT")
    assert changed_since_import() == ["whyrec/__init__.py"]


def test_a_split_is_recorded_by_its_index_files(tmp_path):
    for part, line in (("train", "0 1 2"), ("validation", "3"), ("test", "4")):
        (tmp_path / f"{part}.index").write_text(line + "\n")
    first = split_record(tmp_path)
    assert first["path"] == str(tmp_path.resolve()) and len(first["sha256"]) == 64
    (tmp_path / "validation.index").write_text("4\n")  # the same records, validation and test swapped
    (tmp_path / "test.index").write_text("3\n")
    assert split_record(tmp_path)["sha256"] != first["sha256"]
    corpus = _corpus(5)
    fixed, drawn = fixed_index_split(corpus, tmp_path), ratio_split(corpus)
    record = run_record(None, [], [fixed, drawn])
    assert record["splits"] == [split_record(tmp_path)]  # the folder of the fixed one only
    assert record["split_fingerprints"] == [split_fingerprint(fixed), split_fingerprint(drawn)]
    assert "splits" not in run_record(None, []) and "split_fingerprints" not in run_record(None, [])


def _corpus(n: int, path=None):
    import warnings

    from whyrec.data import corpus_from_frame

    frame = pd.DataFrame({"user": [f"u{k % 4}" for k in range(n)], "item": [f"i{k % 3}" for k in range(n)],
                          "rating": [1 + k % 5 for k in range(n)], "text": ["fine"] * n})
    if path is not None:
        frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate pairs, kept all
        return corpus_from_frame(frame, duplicates="keep-all")


def test_a_split_is_fingerprinted_by_its_records_places_part_by_part():
    corpus = _corpus(40)
    same = ratio_split(corpus, seed=1, warm_start=False)
    assert split_fingerprint(same) == split_fingerprint(ratio_split(corpus, seed=1, warm_start=False))
    assert split_fingerprint(same) != split_fingerprint(ratio_split(corpus, seed=2, warm_start=False))
    swapped = SimpleNamespace(train=same.train, valid=same.test, test=same.valid)  # the same records, parts swapped
    assert split_fingerprint(swapped) != split_fingerprint(same)


def test_scoring_on_another_split_of_the_same_data_is_warned_of(tmp_path):
    """A bundle's run.json records its split's fingerprint: scored on the same data with another split,
    its test records may be ones it trained on. Another file, or no fingerprint, is not warned of."""
    data = tmp_path / "r.csv"
    corpus = _corpus(40, data)
    trained, other = ratio_split(corpus, seed=1), ratio_split(corpus, seed=2)
    record = run_record(data, ["train"], [trained])
    assert held_out_warning(record, data, trained) is None
    assert held_out_warning(record, data, other).endswith("give the split it was trained with: that of `whyrec train`")
    folder = tmp_path / "split"
    folder.mkdir()
    for part, positions in (("train", trained.train), ("validation", trained.valid), ("test", trained.test)):
        (folder / f"{part}.index").write_text(" ".join(map(str, positions.reviews["position"])) + "\n")
    fixed = fixed_index_split(corpus, folder)
    assert split_fingerprint(fixed) == split_fingerprint(trained)  # the same records, read from index files
    assert held_out_warning(run_record(data, ["train"], [fixed]), data, other).endswith(f": --split {folder.resolve()}")
    assert "not the one" in held_out_warning(record, tmp_path, other)  # the folder holding it: the same file
    elsewhere = tmp_path / "other.csv"
    elsewhere.write_bytes(data.read_bytes())
    assert "not the one" in held_out_warning(record, elsewhere, other)  # a copy of the file: the same data
    elsewhere.write_bytes(data.read_bytes().replace(b"fine", b"good"))
    assert held_out_warning(record, elsewhere, other) is None  # another file: chosen on purpose
    assert held_out_warning({**record, "split_fingerprints": None}, data, other) is None  # before fingerprints
    assert held_out_warning(None, data, other) is None
    # an aligned bundle: its own record, then the one of the bundle it aligned
    aligned = {**run_record(None, ["align"]), "aligned_from": {"bundle": "b", "made_by": record}}
    assert "not the one" in held_out_warning(aligned, data, other)
    assert held_out_warning(aligned, data, trained) is None


def test_a_record_is_viewed_with_strings_or_none_whatever_the_file_holds():
    from whyrec.provenance import record_view

    assert record_view(None) is None and record_view(["not", "a", "record"]) is None
    view = record_view({"command": "whyrec align b", "date": 5, "data": {"path": "r.csv", "sha256": "ab"},
                        "splits": [{"path": "1"}, "junk"],
                        "aligned_from": {"bundle": "/b", "made_by": {"command": "whyrec train mt"}}})
    assert (view["command"], view["date"], view["data_path"], view["data_sha256"]) == ("whyrec align b", None, "r.csv",
                                                                                        "ab")
    assert view["splits"] == [{"path": "1", "sha256": None}]
    assert view["aligned_from"]["made_by"]["command"] == "whyrec train mt"


def test_a_split_folder_without_a_record_is_taken_as_it_is(tmp_path):
    from whyrec.provenance import split_source_warning

    data = tmp_path / "r.csv"
    _corpus(10, data)
    assert split_source_warning(tmp_path / "no-record", data) is None  # the PETER benchmark's folders
    folder = tmp_path / "1"
    write_run_record(folder, data, ["data", "split"])
    assert split_source_warning(folder, data) is None
    data.write_text(data.read_text().replace("fine", "good"))  # changed since
    assert "which this data is not, nor a copy of (changed since?)" in split_source_warning(folder, data)


def _old_record(folder: Path) -> str:
    """A folder holding a previous run's record; its text."""
    write_run_record(folder, None, ["train", "pmf", "--param", "factors=4"])
    return (folder / RUN_FILE).read_text(encoding="utf-8")


def test_a_record_refused_by_a_full_disk_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    """It was written in place: a full disk left a record cut in half, which reads as no record."""
    old = _old_record(tmp_path)
    real = Path.write_text

    def half_then_full(path, text, *args, **kwargs):
        real(path, text[:len(text) // 2], *args, **kwargs)
        raise disk_full(str(path))

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        write_run_record(tmp_path, None, ["train", "pmf", "--param", "factors=8"])
    assert (tmp_path / RUN_FILE).read_text(encoding="utf-8") == old and os.listdir(tmp_path) == [RUN_FILE]


def test_a_record_is_put_in_place_only_once_what_it_describes_is_saved(tmp_path):
    old = _old_record(tmp_path)
    with pytest.raises(OSError):
        with run_record_after(tmp_path, None, ["train", "pmf", "--param", "factors=8"]):
            (tmp_path / "bundle.json").write_text("{}", encoding="utf-8")
            raise disk_full("arrays.safetensors")
    # the save failed: the folder's record is the previous run's, and nothing is left of the new one
    assert (tmp_path / RUN_FILE).read_text(encoding="utf-8") == old
    assert sorted(os.listdir(tmp_path)) == ["bundle.json", RUN_FILE]
    with run_record_after(tmp_path, None, ["train", "pmf", "--param", "factors=8"]):
        assert (tmp_path / RUN_FILE).read_text(encoding="utf-8") == old  # not before the save has ended
    assert json.loads((tmp_path / RUN_FILE).read_text())["command"] == "whyrec train pmf --param factors=8"
    assert sorted(os.listdir(tmp_path)) == ["bundle.json", RUN_FILE]


def test_a_refused_record_runs_no_save(tmp_path, monkeypatch):
    """The record is written first: when the system refuses it, the bundle it would describe is
    not saved over the previous one either (the two stay a pair)."""
    old = _old_record(tmp_path)
    real = Path.write_text

    def refused(path, text, *args, **kwargs):
        if path.name.startswith(RUN_FILE):
            raise disk_full(str(path))
        return real(path, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refused)
    saved = []
    with pytest.raises(OSError, match="No space left"):
        with run_record_after(tmp_path, None, ["train", "pmf"]):
            saved.append(True)
    assert not saved and os.listdir(tmp_path) == [RUN_FILE]
    assert (tmp_path / RUN_FILE).read_text(encoding="utf-8") == old
