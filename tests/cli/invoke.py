"""Running ``whyrec`` as a user does (a subprocess), and what a one-line error must look like."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            file_size_limit: int | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``whyrec ARGS`` in a child process, fed the text ``stdin`` (None: it reads this process's). With
    ``file_size_limit`` (bytes, RLIMIT_FSIZE), a write past it fails with EFBIG, as a write to a
    full disk fails with ENOSPC: a real refusal."""
    return subprocess.run([sys.executable, "-m", "whyrec.cli", *args], capture_output=True, text=True, input=stdin,
                          cwd=cwd, timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})},
                          preexec_fn=None if file_size_limit is None else _small_files(file_size_limit))


def run_cli_after(prelude: str, *args: str) -> subprocess.CompletedProcess:
    """``whyrec ARGS`` in a child process that first runs the Python code ``prelude`` (which
    replaces a function of whyrec's, say)."""
    code = f"{prelude}\nfrom whyrec.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


def run_with_glove_found(glove: Path | None, *args: str) -> subprocess.CompletedProcess:
    """``whyrec ARGS`` in a child process that finds GloVe 6B in the folder ``glove`` (one of
    :func:`tests.conftest.write_small_glove`), or not installed for None, whether or not this
    machine has it."""
    found = "None" if glove is None else f"pathlib.Path({str(glove)!r})"
    return run_cli_after(f"import pathlib; import whyrec.explain.embeddings as e; e.glove_folder = lambda: {found}",
                         *args)


def _small_files(limit: int):
    """What a child runs before whyrec so that it may write no file past ``limit`` bytes."""
    def install() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return install


_REFUSING = """
import errno, os, pathlib, sys
import whyrec.tensor_files as tensor_files
def refused(path):  # a full disk under --out for the files named so, room elsewhere
    path = pathlib.Path(path)
    return str(path).startswith(os.environ["REFUSE_UNDER"]) and path.name.startswith(os.environ["REFUSE_NAME"])
real = tensor_files.write_safetensors
def write_safetensors(tensors, path, named=None):
    if refused(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(named or path))
    return real(tensors, path, named=named)
tensor_files.write_safetensors = write_safetensors
real_text = pathlib.Path.write_text
def write_text(path, text, *args, **kwargs):
    if refused(path):  # half of it written, as a disk filling up does
        real_text(path, text[:len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return real_text(path, text, *args, **kwargs)
pathlib.Path.write_text = write_text
import whyrec.prediction_records as records
real_rows = records._write_rows
def _write_rows(rows, path, jsonl):
    if refused(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # a write's error names no file
    return real_rows(rows, path, jsonl)
records._write_rows = _write_rows
from whyrec.cli import main
main()
"""


def run_cli_refusing(under: Path, *args: str, name: str = "", env: dict[str, str] | None = None
                     ) -> subprocess.CompletedProcess:
    """``whyrec ARGS`` in a child process on a disk that is full under ``under`` for the files
    whose name begins with ``name`` (every file by default): their writes fail with ENOSPC, a
    text file's after half of it is written, and writes elsewhere (the system's temporary folder,
    say) succeed. ``env``: more of the child's environment."""
    env = {**os.environ, "REFUSE_UNDER": str(under), "REFUSE_NAME": name, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-c", _REFUSING, *args], capture_output=True, text=True, timeout=300,
                          env=env)


def assert_one_line_error(proc: subprocess.CompletedProcess, pattern: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [l for l in proc.stderr.splitlines() if l.strip()]  # progress lines may come first (not a terminal)
    errors = [l for l in lines if l.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    assert pattern in errors[0], errors[0]


def unreadable_data(folder: Path) -> str:
    """A data file that exists but that reading refuses (it has no rating column): a command that
    answers with another error has not read it, which is how tests show what is checked first."""
    path = folder / "unreadable.csv"
    path.write_text("user,item,text\nu1,i1,fine\n", encoding="utf-8")
    return str(path)
