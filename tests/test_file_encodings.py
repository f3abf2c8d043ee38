"""Every text file whyrec (and its benchmarks) reads or writes names its encoding.

Without one, Python 3.11 uses the locale's: on a Windows machine in cp1252, writing a results
table with "MT−encoder" or "≥" raises UnicodeEncodeError, and a UTF-8 file is read wrongly. The
check reads the source: ``Path.read_text``/``write_text`` and text-mode ``open`` / ``gzip.open``
calls must pass ``encoding``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _calls_without_encoding(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        keywords = {k.arg for k in node.keywords}
        if "encoding" in keywords:
            continue
        if name == "read_text" and not node.args or name == "write_text" and len(node.args) < 2:
            found.append((node.lineno, name))
        elif name == "open" and (isinstance(func, ast.Name) or isinstance(func.value, ast.Name)
                                 and func.value.id in ("gzip", "io", "bz2", "lzma")):
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
            binary = any("b" in m for m in modes) or (not modes and not isinstance(func, ast.Name))  # gzip: "rb"
            if not binary:
                found.append((node.lineno, name))
    return found


def test_the_check_finds_a_call_that_leaves_the_encoding_to_the_locale():
    source = ('p.write_text("x")\np.read_text()\nopen(p)\nopen(p, "w")\ngzip.open(p, "rt")\n'
              'p.write_text("x", encoding="utf-8")\nopen(p, "rb")\ngzip.open(p)\np.read_text(encoding="utf-8")\n')
    assert [line for line, _ in _calls_without_encoding(source)] == [1, 2, 3, 4, 5]


def test_every_text_file_of_whyrec_and_its_benchmarks_names_its_encoding():
    missing = [f"{path.relative_to(ROOT)}:{line}: {name}"
               for folder in ("src/whyrec", "benchmarks") for path in sorted((ROOT / folder).rglob("*.py"))
               for line, name in _calls_without_encoding(path.read_text(encoding="utf-8"))]
    assert missing == []
