"""The README's commands and imports exist: a renamed option or module breaks this, not a user."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from whyrec.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _command_lines() -> list[list[str]]:
    """Each ``whyrec ...`` line of the README's bash blocks (continuations joined, comments cut),
    as words after ``whyrec`` (or ``-m whyrec.cli``)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0]
            words = line.split()
            if "whyrec" in words:
                out.append(words[words.index("whyrec") + 1:])
            elif "whyrec.cli" in words:
                out.append(words[words.index("whyrec.cli") + 1:])
    return out


def _resolve(words: list[str]):
    """The click command the words name (groups followed down), and the words after its name."""
    command = typer.main.get_command(app)
    while hasattr(command, "commands") and words and words[0] in command.commands:
        command, words = command.commands[words[0]], words[1:]
    return command, words


def test_every_readme_command_and_option_exists():
    lines = _command_lines()
    assert len(lines) >= 12
    for words in lines:
        command, rest = _resolve(words)
        assert not hasattr(command, "commands"), f"README names a group, not a command: whyrec {' '.join(words)}"
        known = {name for param in command.params for name in param.opts + param.secondary_opts}
        used = {w.split("=")[0] for w in rest if w.startswith("--")}
        assert used <= known, f"whyrec {' '.join(words)}: unknown option(s) {sorted(used - known)}"


def test_the_readme_python_example_imports_what_exists():
    block = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    imports = "\n".join(line.split("#")[0] for line in block.splitlines() if line.startswith(("from ", "import ")))
    assert imports.count("import") >= 5
    exec(compile(imports, "README.md", "exec"), {})  # noqa: S102 - the README's own import lines
