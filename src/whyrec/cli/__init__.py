"""The ``whyrec`` command line.

    whyrec data stats PATH            counts, validation report, rating histogram
    whyrec data features PATH         extract (feature, opinion, sentence, sentiment) quadruples
    whyrec data split PATH            write fixed splits (index files) beside the data
    whyrec models                     what train fits, each setting with its default
    whyrec train MODEL --data PATH    fit a model and save it as a bundle
    whyrec evaluate BUNDLE --data P   score a saved model on a split's test part
    whyrec score FILE [--data P]      score explanations any system wrote (generated.txt, records)
    whyrec compare BUNDLE... --data P saved bundles side by side on a split's test part
    whyrec explain BUNDLE --user U --item I   predicted ratings and explanations of pairs
    whyrec recommend BUNDLE --user U  a user's top-k unrated items, each explained
    whyrec align BUNDLE --data P --out B  MMI: explanations that agree with the predicted rating
    whyrec serve BUNDLE...            HTTP API + web page
    whyrec experiment mt --data PATH  the MT paper's comparison (rating, text, discriminator)
    whyrec experiment rating --data P rating models over a dataset's fixed splits
    whyrec experiment explain --data P explanation systems side by side on one split
    whyrec demo [--data PATH]         the main job: compare rating models, train MT, show explanations

One module per group of commands (``inspecting``, ``training``, ``evaluating``, ``scoring``,
``aligning``, ``explaining``, ``serving``, ``data_commands``, ``experiments``), sharing ``options``
(the options several commands take), ``option_checks``, ``inputs`` and ``output``; ``common``
holds the Typer apps. Heavy libraries (torch, pandas) are imported inside the commands so
``whyrec --help`` is instant.
Errors from bad input, and paths that cannot be read or written (no such folder, no
permission, a full disk), print one line (``error: ...``) and exit with status 2.
"""

from __future__ import annotations

import errno
import re
import sys
from pathlib import Path

# importing the command modules registers their commands, in the order `whyrec --help` lists them
from whyrec.cli import inspecting, training, evaluating, scoring  # isort: skip
from whyrec.cli import aligning, explaining, serving  # isort: skip
from whyrec.cli import data_commands, experiments  # isort: skip
from whyrec.cli.common import app, data_app, experiment_app
from whyrec.cli.option_checks import CHECKED_OUTPUTS
from whyrec.cli.output import err_console, print_error

__all__ = ["app", "main", "aligning", "data_commands", "evaluating", "experiments", "explaining", "inspecting",
           "scoring", "serving", "training"]


def _join_help_paragraphs(*apps) -> None:
    """Give each command its docstring with the line breaks inside paragraphs joined: typer keeps
    them in the paragraphs after the first, so ``--help`` broke lines where the source wraps
    ("--param sets any MTConfig" / "field), or ..."). Paragraphs stay apart."""
    import inspect

    for typer_app in apps:
        for info in typer_app.registered_commands:
            if info.help is None and info.callback.__doc__:
                paragraphs = inspect.cleandoc(info.callback.__doc__).split("\n\n")
                info.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)


_join_help_paragraphs(app, data_app, experiment_app)

# what --help calls an option's value, by the Python type typer 0.29 shows ("<list[str]>")
_VALUE_NAMES = {"str": "TEXT", "path": "PATH", "int": "INTEGER", "int range": "INTEGER", "float": "FLOAT"}


def _name_option_values(command) -> None:
    """Name each option's value in ``--help`` as click always did (``--data PATH``, ``--user
    TEXT``) instead of by the Python type typer 0.29 shows (``<path>``, ``<list[str]>``), and show
    no value for a flag: ``--why <bool>`` read as if the flag took one, and ``--why true`` is a
    usage error. A range is still printed beside the name (``INTEGER [x>=0]``), and repeatable
    options say so in their help. An argument's value is named alike (``path  PATH``, and ``PATH...``
    for several). Older typer (click's own options, no ``type_descriptor``) already names values
    this way and is left as it is."""
    import typer

    context = typer.Context(command)
    for param in command.get_params(context):
        if not getattr(param, "opts", None) or not hasattr(param, "type_descriptor"):
            continue
        shown = param.display_type(context).strip("<>").lower()  # "<list[Path]>" for a list of paths
        several = shown.startswith("list[")
        value = _VALUE_NAMES.get(shown.removeprefix("list[").removesuffix("]"), shown.upper())
        if not hasattr(param, "is_flag"):  # an argument: typer shows its type, never a metavar
            shown_type = value + ("..." if several else "")
            param.display_type_rich = lambda *_, shown=shown_type, **__: shown  # whatever typer passes it
        elif param.metavar is None:
            param.metavar = "" if param.is_flag else value
    for sub in getattr(command, "commands", {}).values():
        _name_option_values(sub)


def main() -> None:
    """Entry point: run the app; print whyrec errors as one line without a traceback, and usage
    errors (a missing argument, a bad option value, an unknown command) as typer shows them."""
    import typer

    from whyrec.distributed import launched_main, launched_world, leave, leave_error, process_prefix
    from whyrec.errors import ERROR_EXIT, INTERRUPTED_EXIT, WhyrecError
    from whyrec.kept_elsewhere import KeptElsewhere

    def say_error(message: str) -> None:  # under --processes the launcher says it, once for all
        if not leave_error(message):
            print_error(f"{process_prefix()}{message}")

    finished = False
    CHECKED_OUTPUTS.clear()  # a test may run several commands in one process
    sys.argv[1:] = home_expanded(sys.argv[1:])  # before a torchrun relaunch reads them too
    try:
        if launched_world() > 1:
            _refuse_under_torchrun(sys.argv[1:])
        # outside standalone mode typer 0.29 *returns* the code of an Exit, and turns Ctrl-C into
        # Exit(130); the commands themselves return None
        command = typer.main.get_command(app)
        try:  # cosmetic, and it reads typer internals: a typer that changed them must not stop every command
            _name_option_values(command)
        except (AttributeError, TypeError):
            pass
        code = command(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            if code == INTERRUPTED_EXIT and launched_main():  # once for all processes
                err_console().print("interrupted")
            sys.exit(code)
        finished = True
    except KeptElsewhere as exc:  # the refusal told as every write's is (naming an output option)
        say_error(exc.told(os_error_message(exc.refused, sys.argv[1:], CHECKED_OUTPUTS)))
        sys.exit(ERROR_EXIT)
    except WhyrecError as exc:
        say_error(str(exc))
        sys.exit(ERROR_EXIT)
    except BrokenPipeError:  # the output was piped into `head` and so on: nothing to report
        raise
    except (MemoryError, RuntimeError) as exc:  # a setting sized beyond the machine: factors=100000000
        message = out_of_memory(exc)
        if message is None:
            raise
        say_error(message)
        sys.exit(ERROR_EXIT)
    except OSError as exc:  # a path that cannot be written or read: a full disk, no permission, no such folder
        say_error(os_error_message(exc, sys.argv[1:], CHECKED_OUTPUTS))
        sys.exit(ERROR_EXIT)
    except (typer.Abort, KeyboardInterrupt):  # older typer: click's Abort; or Ctrl-C outside the command
        if launched_main():
            err_console().print("interrupted")
        sys.exit(INTERRUPTED_EXIT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _usage_error() as exc:
        _point_settings_to_their_option(exc)
        exc.show()
        sys.exit(exc.exit_code)
    finally:
        leave(finished)  # after an error, without waiting for the other processes


# options whose value is an id or a word, never a path: "~/x" given to them is kept as typed
VALUE_NOT_PATH_OPTIONS = ("--user", "--item", "--feature-word")


def home_expanded(args: list[str]) -> list[str]:
    """The command line with a path that starts at the home folder written out: ``~`` or ``~/…``,
    alone or as ``--option=~/…``. A shell leaves it as typed in quotes (``--out "~/bundles/x"``) or
    after ``=``, and the command would then make a folder named ``~`` where it runs. The value of
    an id option (:data:`VALUE_NOT_PATH_OPTIONS`: ``--user "~/x"``) is an id and stays as typed."""
    import os

    def expanded(value: str) -> str:
        return os.path.expanduser(value) if value == "~" or value.startswith("~/") else value

    out = []
    for n, arg in enumerate(args):
        if arg.startswith("--") and "=" in arg:
            option, value = arg.split("=", 1)
            out.append(arg if option in VALUE_NOT_PATH_OPTIONS else f"{option}={expanded(value)}")
        elif n > 0 and args[n - 1] in VALUE_NOT_PATH_OPTIONS:
            out.append(arg)
        else:
            out.append(expanded(arg))
    return out


# the options naming what a command writes; a full disk is told as theirs when the error names no file
OUTPUT_OPTIONS = ("--out", "--records", "--checkpoint")
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}  # no EDQUOT on Windows


def os_error_message(exc: OSError, args: list[str], checked: dict[str, Path] | None = None) -> str:
    """One line for a file the system would not read or write: the file and the system's words. A
    write's error names no file (Python knows it only when opening), so a full disk or quota with
    none is told as the output options' (``--out runs/x: No space left on device``): those typed
    in ``args``, then those of ``checked`` (the outputs the command checked before its work,
    option → path) that were not typed, their defaults (``--out runs/demo (its default)``)."""
    from whyrec.errors import os_error_text

    reason = os_error_text(exc)  # with the file, when the error names one
    if exc.filename:
        return reason
    outputs, typed = [], set()
    for n, arg in enumerate(args):
        option, joined, value = arg.partition("=")
        if option in OUTPUT_OPTIONS and (joined or n + 1 < len(args)):
            outputs.append(f"{option} {value if joined else args[n + 1]}")
            typed.add(option)
    outputs += [f"{option} {path} (its default)" for option, path in (checked or {}).items() if option not in typed]
    if exc.errno in _DISK_FULL and outputs:
        return f"{', '.join(outputs)}: {reason}"
    return reason


def out_of_memory(exc: BaseException) -> str | None:
    """For an allocation that failed (numpy's MemoryError, torch's "can't allocate memory" on the
    CPU, CUDA's out-of-memory error), one line saying so and what to lower; None for any other
    error, which keeps its traceback."""
    text = str(exc)
    if not (isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text.lower()):
        return None
    size = ""
    asked = re.search(r"allocate (\d+) bytes", text)  # torch on the CPU
    if asked:
        size = f" (an array of {int(asked.group(1)) / 1e9:,.1f} GB)"
    else:
        asked = re.search(r"allocate ([\d.]+ ?[KMGTP]i?B)", text)  # CUDA's "2.00 GiB", numpy's "728. TiB"
        size = f" (an array of {asked.group(1)})" if asked else ""
    return (f"out of memory{size}: a setting sizes the model beyond this machine's memory; lower it (factors, "
            "batch_size, vocab_size, max_words, hidden sizes), or train on a machine with more memory")


def _usage_error() -> type:
    """The base class of the usage errors typer raises. Typer 0.29 carries a click of its own,
    whose exceptions are not the ``click`` package's, and older typer raises click's: either
    way it is the ``ClickException`` above ``typer.BadParameter``, which both export."""
    import typer

    return next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "ClickException")


def _point_settings_to_their_option(exc) -> None:
    """An unknown option that is a setting (``--epochs 2``) is told the option that takes it
    (``--set epochs=2``, :func:`whyrec.cli.mistyped.setting_hint`) instead of click's guess."""
    option = getattr(exc, "option_name", None)
    command = getattr(getattr(exc, "ctx", None), "command", None)
    if type(exc).__name__ != "NoSuchOption" or not option or command is None:
        return
    from whyrec.cli.mistyped import setting_hint

    options = {name for param in command.params for name in getattr(param, "opts", ())}
    hint = setting_hint(option, options, sys.argv[1:])
    if hint:
        exc.message, exc.possibilities = f"{exc.message} ({hint})", None


def _refuse_under_torchrun(args: list[str]) -> None:
    """Only ``whyrec train`` splits its work between the processes torchrun starts; any other
    command would run once per process, each writing the same files."""
    from whyrec.errors import ConfigError

    command = next((a for a in args if not a.startswith("-")), None)
    if command not in (None, "train"):
        raise ConfigError(f"`whyrec {command}` runs in one process; under torchrun only `whyrec train` "
                          "(mt, peter, peter+) shares the work between processes")
