"""The ``whyrec`` Typer apps (``whyrec``, ``whyrec data``, ``whyrec experiment``) and
``whyrec --version``. The commands share their options (:mod:`whyrec.cli.options`), their
checks (:mod:`whyrec.cli.option_checks`), what they read (:mod:`whyrec.cli.inputs`) and
how they print (:mod:`whyrec.cli.output`)."""

from __future__ import annotations

from typing import Annotated

import typer

from whyrec.cli.output import console

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Explainable recommendation: rating models, "
                  "explanations that agree with them, and the tools to compare them.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect and prepare review data.")
app.add_typer(data_app, name="data")
experiment_app = typer.Typer(no_args_is_help=True, help="Run a paper's comparison on a dataset.")
app.add_typer(experiment_app, name="experiment")


def version_text() -> str:
    """whyrec's version with those of Python and the libraries a bug report needs (read from the
    installed packages' metadata: nothing is imported, so it is instant)."""
    import platform

    from whyrec import __version__
    from whyrec.provenance import LIBRARIES, installed_version

    libraries = ", ".join(f"{p} {installed_version(p) or 'not installed'}" for p in LIBRARIES)
    return f"whyrec {__version__} (Python {platform.python_version()}; {libraries})"


def _print_version(shown: bool) -> None:
    if shown:
        console().print(version_text(), highlight=False)
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the versions of whyrec, Python and its main libraries, and exit.")] = False) -> None:
    """Options before any command (``whyrec --version``); the app's help text stays its own."""
