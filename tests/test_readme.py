"""The README's commands and imports exist: a renamed option or module breaks this, not a user."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from whyrec.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _command_lines(text: str) -> list[list[str]]:
    """Each ``whyrec ...`` line of a page's bash blocks (continuations joined, comments cut),
    as words after ``whyrec`` (or ``-m whyrec.cli``)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
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


def test_every_command_and_option_of_the_readme_and_docs_exists():
    assert len(_command_lines(README)) >= 12
    checked = 0
    for page in PAGES:
        for words in _command_lines(page.read_text()):
            command, rest = _resolve(words)
            asked = f"{page.name}: whyrec {' '.join(words)}"
            assert not hasattr(command, "commands"), f"{asked}: a group, not a command"
            known = {name for param in command.params for name in param.opts + param.secondary_opts}
            used = {w.split("=")[0] for w in rest if w.startswith("--")}
            assert used <= known, f"{asked}: unknown option(s) {sorted(used - known)}"
            checked += 1
    assert checked >= 40


def test_the_readme_python_example_imports_what_exists():
    block = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    imports = "\n".join(line.split("#")[0] for line in block.splitlines() if line.startswith(("from ", "import ")))
    assert imports.count("import") >= 5
    exec(compile(imports, "README.md", "exec"), {})  # noqa: S102 - the README's own import lines


def _anchor(heading: str) -> str:
    """A markdown heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_links_of_the_readme_and_docs_lead_to_files_and_headings_that_exist():
    """A moved or renamed page (or heading) breaks this, not a reader's click."""
    checked = 0
    for page in PAGES:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):  # a web address
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.is_file(), f"{page.name} links to {target}, which does not exist"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
                assert anchor in {_anchor(h) for h in headings}, f"{page.name} links to {target}: no such heading"
            checked += 1
    assert checked >= 5



def test_every_docs_page_is_linked_from_the_readme():
    """A page no link leads to is one nobody reads."""
    linked = {target.partition("#")[0] for target in re.findall(r"\]\(([^)\s]+)\)", README)}
    pages = {f"docs/{page.name}" for page in PAGES[1:]}
    assert len(pages) >= 8 and pages <= linked, f"not linked from the README: {sorted(pages - linked)}"

def test_a_heading_anchor_is_made_as_github_makes_it():
    assert _anchor("Texts") == "texts" and _anchor("Coverage on the shared data (default settings)") == \
        "coverage-on-the-shared-data-default-settings"
    assert _anchor("`whyrec serve --workers`") == "whyrec-serve---workers"
