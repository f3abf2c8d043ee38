"""Running ``whyrec`` as a user does (a subprocess), and what a one-line error must look like."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """``whyrec ARGS`` in a child process. With ``file_size_limit`` (bytes, RLIMIT_FSIZE), a write
    past it fails with EFBIG, as a write to a full disk fails with ENOSPC: a real refusal."""
    return subprocess.run([sys.executable, "-m", "whyrec.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})},
                          preexec_fn=None if file_size_limit is None else _small_files(file_size_limit))


def _small_files(limit: int):
    """What a child runs before whyrec so that it may write no file past ``limit`` bytes."""
    def install() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return install


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
