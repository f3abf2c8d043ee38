"""How a results folder or a bundle was made: the record ``run.json`` beside its tables or arrays.

A table of numbers is only comparable with another when both say what produced them. The record
holds the command line, the date, the versions of whyrec and of the libraries that change numbers
(torch, numpy, pandas), the machine, and the data file read with its size and SHA-256, so that a
result can be traced to the exact bytes it came from (a re-downloaded dataset that differs shows
up as another digest).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Iterator

from whyrec.errors import WhyrecError
from whyrec.folder_lock import saving_into
from whyrec.strict_json import strict_dumps
from whyrec.temporary_names import staged_file, text_writer

RUN_FILE = "run.json"
LIBRARIES = ("torch", "numpy", "pandas", "transformers")


def installed_version(package: str) -> str | None:
    """The installed version of ``package`` by its metadata (nothing is imported); None when absent."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, read in chunks (a large dump is not held in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def data_record(data: str | Path) -> dict:
    """The review file behind ``data`` (a file, or a data folder as the commands read it): its
    path, size and SHA-256."""
    file = Path(data_record_path(data))
    return {"path": str(file), "bytes": file.stat().st_size, "sha256": file_digest(file)}


def changed_since_import() -> list[str]:
    """whyrec's source files (and the running script) modified after this process imported
    whyrec, as paths relative to the package's parent: the process runs the code it loaded, and
    a commit read after such a change names other code."""
    import whyrec

    package = Path(whyrec.__file__).resolve().parent
    imported = getattr(whyrec, "_IMPORTED_AT", None)
    if imported is None:  # the package loaded is older than this module: its source changed meanwhile
        return ["whyrec/__init__.py"]
    files = list(package.rglob("*.py"))
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.suffix == ".py" and script.is_file():
        files.append(script.resolve())
    changed = []
    for path in files:
        try:
            if path.stat().st_mtime > imported:
                changed.append(str(path.relative_to(package.parent)) if path.is_relative_to(package.parent)
                               else str(path))
        except OSError:  # removed meanwhile: changed too
            changed.append(str(path))
    return sorted(changed)


def source_commit(root: str | Path | None = None) -> str | None:
    """The git commit whyrec runs from when it is a checkout (an editable install), with
    ``+changes`` when its files differ from it and ``+changed during the run`` when its source
    (or the running script) was modified after this process loaded it
    (:func:`changed_since_import`); None for an installed package or without git. ``root``: the
    checkout to read (default whyrec's own).

    The checkout is only read: git is run without its optional locks, so ``git status`` does not
    rewrite the index (it would take ``.git/index.lock`` meanwhile, and a user's ``git commit`` at
    that moment failed; a write refused, on a full disk, left the lock behind, and every git
    command of the user's then failed until it was removed by hand)."""
    import subprocess

    root = Path(root) if root is not None else Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        def git(*args: str) -> str:
            # GIT_OPTIONAL_LOCKS=0 is --no-optional-locks, which a git older than 2.15 would refuse
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                                  check=True, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout.strip()

        commit = git("rev-parse", "HEAD")
        commit += "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
        return commit + ("+changed during the run" if changed_since_import() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def split_record(folder: str | Path) -> dict:
    """A fixed split folder: its path and the SHA-256 of its three index files, read in order
    (``train``, ``validation``, ``test``), so that a split rewritten in place shows up."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for part in ("train", "validation", "test"):
        digest.update(f"{part}.index\n".encode())
        digest.update((folder / f"{part}.index").read_bytes())
    return {"path": str(folder.resolve()), "sha256": digest.hexdigest()}


def split_fingerprint(split) -> str:
    """The SHA-256 of a split's records by their place in the source, part by part (train,
    validation, test): drawn again from the same data with the same seed (or read from the same
    index files), a split gives the same digest; read from changed data, with another seed or
    duplicate rule, or by a whyrec that reads the file otherwise, it gives another."""
    import numpy as np

    digest = hashlib.sha256()
    for name, part in (("train", split.train), ("validation", split.valid), ("test", split.test)):
        digest.update(f"{name}\n".encode())
        digest.update(np.sort(part.reviews["position"].to_numpy(dtype=np.int64)).tobytes())
    return digest.hexdigest()


def kept_for_split(kept: object, split) -> bool:
    """Whether results kept with the fingerprint ``kept`` were made on ``split``'s very records: a data
    file changed in place keeps a split's name, and may keep its sizes. Results kept before whyrec
    recorded the fingerprint (``kept`` None) are taken as they are, by name and sizes alone."""
    return kept is None or kept == split_fingerprint(split)


def held_out_warning(record: dict | None, data: str | Path, split) -> str | None:
    """Why ``split`` may not hold out what a bundle was trained without, or None: when the bundle's
    ``run.json`` (``record``; for an aligned bundle, also the aligned one's, ``aligned_from.made_by``)
    names the same data file as ``data`` (by path, or a copy: the same size and SHA-256) and one split
    whose :func:`split_fingerprint` differs from ``split``'s, some of the records now scored may be
    ones it was trained on. Another data file is taken as chosen on purpose, and a record without a
    fingerprint (made before whyrec kept one, or by an experiment over several splits) as unknown."""
    views = []  # read as record_view reads them: the bundle's, then the one it aligned …
    view = record_view(record)
    while view is not None and len(views) < 100:
        views.append(view)
        view = view["aligned_from"]["made_by"] if view["aligned_from"] else None
    made = [v for v in views if len(v["split_fingerprints"]) == 1]
    here = _data_path_or_none(data) if made else None
    if here is None:
        return None
    drawn = None
    for view in made:
        if not (view["data_path"] == here or _same_bytes(view, here)):
            continue
        drawn = drawn or split_fingerprint(split)
        if view["split_fingerprints"][0] != drawn:
            folder = view["splits"][0]["path"] if len(view["splits"]) == 1 else None
            how = (f"--split {shlex.quote(folder)}" if folder else
                   f"that of `{view['command']}`" if view["command"] else "that split")
            return ("this split is not the one the bundle was trained with (its run.json records another for the "
                    "same data: another --split, --seed or duplicate rule, the file changed, or whyrec reads it "
                    "otherwise), so some test records may be ones it was trained on; give the split it was "
                    f"trained with: {how}")
    return None


def split_source_warning(folder: str | Path, data: str | Path) -> str | None:
    """Why the index files in ``folder`` may not fit ``data``, or None: when ``whyrec data split``
    wrote them (its ``run.json`` beside them records the data file read) from bytes other than
    ``data``'s (another file, or this one changed since), their positions index other records. Folders
    without a record (the PETER benchmark's, hand-made ones) are taken as they are."""
    view = record_view(read_run_record(folder))
    if view is None or view["data_sha256"] is None:
        return None
    here = _data_path_or_none(data)
    if here is None or _same_bytes(view, here):
        return None
    return (f"the split in {folder} was drawn from {view['data_path']} (sha256 {view['data_sha256'][:12]}…), which "
            "this data is not, nor a copy of (changed since?): its positions index that file's records, and may "
            "pick others here")


def _data_path_or_none(data: str | Path) -> str | None:
    """:func:`data_record_path`, or None where it fails (the data was read before: its error was said)."""
    try:
        return data_record_path(data)
    except (OSError, ValueError, WhyrecError):
        return None


def _same_bytes(view: dict, path: str) -> bool:
    """Whether the file at ``path`` holds the bytes a :func:`record_view` records of its data: the
    same size, then the same SHA-256 (read only when the sizes agree)."""
    try:
        return view["data_bytes"] == Path(path).stat().st_size and view["data_sha256"] == file_digest(path)
    except OSError:
        return False


def data_record_path(data: str | Path) -> str:
    """The resolved path of the review file behind ``data``, as :func:`data_record` records it."""
    from whyrec.data.readers import reviews_in

    path = Path(data)
    return str((reviews_in(path) if path.is_dir() else path).resolve())


def run_record(data: str | Path | None = None, argv: list[str] | None = None, splits: list | None = None,
               program: str = "whyrec") -> dict:
    """What ``run.json`` holds: the command (``program`` and ``argv``, default this process's
    arguments), the UTC date, the versions (and :func:`source_commit`), the machine, the torch
    threads the process computed with (None when it never loaded torch: a trained model's floats,
    and what MMI makes of them, differ with the thread count) and, with
    ``data``, :func:`data_record`; with ``splits`` (:class:`~whyrec.data.split.Split` objects), the
    folders of the fixed ones (:func:`split_record`; a random split is told by the command's seed)
    and every split's :func:`split_fingerprint`.
    The benchmark scripts record their runs with it too (``program`` "python benchmarks/NAME.py")."""
    from whyrec import __version__

    args = list(sys.argv[1:] if argv is None else argv)
    record = {
        "command": shlex.join([*shlex.split(program), *args]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "whyrec": __version__,
        "whyrec_commit": source_commit(),
        "python": platform.python_version(),
        "libraries": {name: installed_version(name) for name in LIBRARIES},
        "machine": machine_record(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "torch_threads": sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None,
    }
    if data is not None:
        record["data"] = data_record(data)
    folders = [split.folder for split in splits or [] if split.folder is not None]
    if folders:
        record["splits"] = [split_record(folder) for folder in folders]
    if splits:
        record["split_fingerprints"] = [split_fingerprint(split) for split in splits]
    return record


def machine_record() -> dict:
    """The machine in ``run.json``: the platform, the cores, the CPU (vendor, family, model and
    name, from /proc/cpuinfo where there is one; else ``platform.processor()``) and, once torch is
    loaded, the instruction set its kernels dispatch to (``AVX2``, ``AVX512``): two runs on CPUs
    of one name can differ there, and a float sum computed in other vector widths rounds otherwise."""
    record = {"platform": platform.platform(), "cores": os.cpu_count(), "cpu": cpu_name()}
    if "torch" in sys.modules:
        record["torch_cpu_capability"] = sys.modules["torch"].backends.cpu.get_cpu_capability()
    return record


def cpu_name(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """``AuthenticAMD family 25 model 1 (AMD EPYC)``: the first processor of ``cpuinfo``; where
    that file cannot be read, ``platform.processor()`` (or ``platform.machine()``)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():  # the first processor's block
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    parts = [fields.get("vendor_id"), *(f"{name} {fields[key]}" for key, name in
                                        (("cpu family", "family"), ("model", "model")) if fields.get(key))]
    described = " ".join(part for part in parts if part)
    name = fields.get("model name")
    if name:
        described = f"{described} ({name})" if described else name
    return described or platform.processor() or platform.machine()


def write_run_record(folder: str | Path, data: str | Path | None = None, argv: list[str] | None = None,
                     splits: list | None = None, **extra) -> Path:
    """Write :func:`run_record` (and ``extra`` fields) as ``folder/run.json`` and return its path;
    strict JSON, as every results file is (:mod:`whyrec.strict_json`: a NaN is written as null).
    It is written under a temporary name and renamed: a write the system refuses (a full disk)
    leaves the folder's previous record whole, not cut short."""
    with run_record_after(folder, data, argv, splits, **extra):
        pass
    return Path(folder) / RUN_FILE


@contextmanager
def run_record_after(folder: str | Path, data: str | Path | None = None, argv: list[str] | None = None,
                     splits: list | None = None, waiting: Callable[[Path], None] | None = None,
                     **extra) -> Iterator[None]:
    """The run record of :func:`write_run_record`, written before the block saves what it
    describes (a bundle) and put in place as ``folder/run.json`` only once the block has ended
    without an error: a bundle and its record are replaced together. A save that fails in the
    block, or a record the system refuses before it (the block does not run then), leaves the
    folder's previous bundle with its own record, never one run's files described by another's
    record, and no temporary file. Another run saving into the folder meanwhile waits for this
    save's end (:func:`whyrec.folder_lock.saving_into`; ``waiting(folder)`` is called when this one
    has to wait)."""
    path = Path(folder) / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write = run_record_writer(data, argv, splits, **extra)
    # one save into the folder at a time: two runs' renames interleaved could leave one's bundle
    # under the other's record
    with saving_into(path.parent, waiting), staged_file(path, write):
        yield


def run_record_writer(data: str | Path | None = None, argv: list[str] | None = None, splits: list | None = None,
                      **extra) -> Callable[[Path], None]:
    """The record of :func:`write_run_record`, made now, as a function writing it at the path it is
    given: for a ``run.json`` renamed into place with the results it describes
    (:func:`whyrec.temporary_names.write_together`)."""
    text = strict_dumps({**run_record(data, argv, splits), **extra}, indent=1)
    return text_writer(text)


def read_run_record(folder: str | Path) -> dict | None:
    """The ``run.json`` of ``folder``: how a bundle was made (``whyrec train`` writes it beside the
    bundle; ``whyrec align`` writes its own, holding the trained bundle's as ``aligned_from``). None
    when there is none, or when it is not a JSON object (hand-edited: nothing in it is relied on)."""
    path = Path(folder) / RUN_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def record_view(record: object) -> dict | None:
    """A ``run.json`` record read with care, for what shows or checks it (``whyrec show``, the
    service, :func:`held_out_warning`): it may be hand-edited, or older than a field. Its command,
    date, whyrec commit and the data file's path and SHA-256, each a string or None, and the file's
    size and the torch threads (ints or None); its split folders' paths and SHA-256; its splits'
    fingerprints (strings); for an aligned bundle, ``aligned_from``: the bundle it aligned and that
    one's view. None for no record."""
    if not isinstance(record, dict):
        return None

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    def whole(value: object) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    data = record["data"] if isinstance(record.get("data"), dict) else {}
    splits = record["splits"] if isinstance(record.get("splits"), list) else []
    fingerprints = record["split_fingerprints"] if isinstance(record.get("split_fingerprints"), list) else []
    source = record["aligned_from"] if isinstance(record.get("aligned_from"), dict) else None
    return {"command": text(record.get("command")), "date": text(record.get("date")),
            "whyrec_commit": text(record.get("whyrec_commit")),
            "torch_threads": whole(record.get("torch_threads")),
            "data_path": text(data.get("path")), "data_sha256": text(data.get("sha256")),
            "data_bytes": whole(data.get("bytes")),
            "split_fingerprints": [f for f in fingerprints if isinstance(f, str)],
            "splits": [{"path": text(s.get("path")), "sha256": text(s.get("sha256"))} for s in splits
                       if isinstance(s, dict)],
            "aligned_from": None if source is None else {"bundle": text(source.get("bundle")),
                                                          "made_by": record_view(source.get("made_by"))}}
