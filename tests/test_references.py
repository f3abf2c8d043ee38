"""Every ``whyrec.…`` name that the README, the docs and the docstrings (of the package, its tests and
benchmarks) give in backquotes exists: a module moved or a function renamed breaks this, not a
reader following the reference."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_PYTHON = {"whyrec.serve.access"}  # a logger's name (the access log), not a module


def resolves(name: str) -> bool:
    """Whether ``name`` is a module, or a module's attribute (followed down: a class's method)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_a_reference_resolves_only_to_what_exists():
    assert resolves("whyrec.data.corpus.Corpus.take") and resolves("whyrec.cli.inputs")
    assert not resolves("whyrec.cli.common.split_of") and not resolves("whyrec.nowhere")


def test_every_whyrec_name_in_the_docs_and_docstrings_exists():
    pages = [*sorted((ROOT / "src" / "whyrec").rglob("*.py")), *sorted((ROOT / "tests").rglob("*.py")),
             *sorted((ROOT / "benchmarks").glob("*.py")), ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    names = {(page.relative_to(ROOT).as_posix(), name) for page in pages
             for name in re.findall(r"`~?(whyrec(?:\.\w+)+)", page.read_text(encoding="utf-8"))}
    assert len(names) > 100
    missing = sorted((page, name) for page, name in names if name not in NOT_PYTHON and not resolves(name))
    assert missing == []
