"""What every ``whyrec`` command shares: the Typer apps, consoles, reading data and splits."""

from __future__ import annotations

import os
import re
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

# every command that reads reviews takes the data's rating scale (records outside it are skipped)
MinRating = Annotated[float, typer.Option("--min-rating", help="Lowest valid rating of the data's scale.")]
MaxRating = Annotated[float, typer.Option("--max-rating", help="Highest valid rating of the data's scale.")]
# ... and the reader, when the file's name and first bytes do not tell it
ReaderFormat = Annotated[Optional[str], typer.Option(
    "--format", help="Reader to use instead of detecting it: amazon-json, yelp-json, yelp-ss, csv, tsv (quoted "
    "as RFC 4180 says), tsv-unquoted (quotes are text, as in the Amazon Customer Reviews files), parquet, "
    "peter-pickle or movielens-dat.")]
# ... and which table columns (JSON keys) hold a file's fields, when their names are not the usual ones
ColumnMap = Annotated[Optional[list[str]], typer.Option(
    "--column", help="Column (JSON: key) of a field, FIELD=NAME (user, item, rating, text, time, summary, item_title; "
    "repeatable), when the header does not use a usual name. Data with no text column (JSON: no text key in its "
    "first 1,000 records) is read as ratings only, for the rating models.")]
# texts with typographic quotes and accents folded to ASCII first (whyrec.data.text.fold_to_ascii)
FoldUnicode = Annotated[bool, typer.Option(
    "--fold-unicode", help="Write typographic quotes, dashes and accented letters in ASCII before tokenizing "
    "(isn’t → isn't, café → cafe), and other scripts transliterated (звук → zvuk), instead of as spaces as the "
    "benchmarks do; the bundle records it.")]
# what picks a rating model's settings given several values (whyrec.rating.tuning)
TuneOn = Annotated[Optional[str], typer.Option(
    "--tune-on", help="What picks among a setting's several values (NAME=A|B) on validation: rmse (default), "
    "mae, or a ranking metric at k such as ndcg@10 or recall@20.")]
Tuned = Annotated[bool, typer.Option(
    "--tuned", help="Rating models: pick every setting on validation over the model's default grid (the rating "
    "benchmark's; a setting given keeps its value or values).")]
# the rating error by how much the test records' users rated in train (whyrec.experiment.rmse_by_activity)
ByActivity = Annotated[bool, typer.Option(
    "--by-activity", help="Also the RMSE over the test records grouped by their user's number of training "
    "ratings (new users, 1–2, 3–5, 6–10, 11–20, 21+).")]
# the ranking metrics of experiment rating and evaluate (whyrec.metrics.ranking)
TopK = Annotated[Optional[int], typer.Option(
    "--top-k", min=1, help="Also rank the items each test user did not rate and report precision, recall, HR, "
    "MRR and nDCG at k.")]
RelevantAt = Annotated[Optional[float], typer.Option(
    "--relevant-at", help="With --top-k: the rating from which a test item counts as relevant (default: 4 on 1–5, "
    "7.5 on 0–10).")]
# MMI's mutual-information scores of the explanations (whyrec.metrics.alignment) and the encoder they read
MiScores = Annotated[bool, typer.Option(
    "--mi", help="MT / PETER: also MMI's I(R;E)/H(R) and I(F;E), by fresh MINE estimators over sentence "
    "embeddings (--encoder).")]
SentenceEncoderName = Annotated[Optional[str], typer.Option(
    "--encoder", help="With --mi: minilm (needs the mmi extra; the default) or words (mean word vectors).")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the bundle already in --out (without it, such an --out is refused before any work).")]
# item metadata (titles, brand, category) kept elsewhere than beside the reviews
MetaFile = Annotated[Optional[Path], typer.Option(
    "--meta", help="Item metadata file (Amazon meta JSON lines: titles, brand, category; or Yelp's business.json), "
    "when it is not beside the reviews as meta.json.gz or, for the Amazon dumps, meta_X.json.gz beside X_5.json.gz "
    "(Yelp's: yelp_academic_dataset_business.json beside its reviews).")]
# a rating bundle's history (--data) is read on a split: the split folder and the random split's seed
HistorySplit = Annotated[Optional[Path], typer.Option(
    "--split", help="With --data: split folder (default: <data>/1 when present).")]
# --seed: a random split drawn with it; without one, the data folder's fixed split 1 (else seed 0's)
SplitSeed = Annotated[Optional[int], typer.Option(
    "--seed", min=0, help="Draw a random 80/10/10 split with this seed, even where the data folder has fixed "
    "splits (default: its split 1, else seed 0); not with --split.")]
HistorySeed = Annotated[Optional[int], typer.Option(
    "--seed", min=0, help="With --data: draw a random 80/10/10 split with this seed, even where the data folder "
    "has fixed splits (default: its split 1, else seed 0); not with --split.")]
# which of a system's explainers speaks, and how it decodes
ExplainerChoice = Annotated[Optional[str], typer.Option(
    "--explainer", help="MT: user, item, pair or all (default: pair; item for a user the model has never seen).")]
DecodingMethod = Annotated[str, typer.Option("--method", help="Decoding: greedy, sample, or beam (settings with "
                                             "--decode).")]
DecodingSettings = Annotated[Optional[list[str]], typer.Option(
    "--decode", help="A decoding setting NAME=VALUE (repeatable): with --method sample, temperature (default 1), "
    "top_k (0: every word), top_p (nucleus, default 1) and seed (the same seed, the same explanations); with "
    "--method beam, beam (hypotheses, default 4) and length_penalty (default 0); with any method, min_words "
    "(the fewest words an explanation may have, default 0).")]
# how the explanations that evaluate, compare and experiment explain score are written
ScoredMethod = Annotated[Optional[str], typer.Option(
    "--method", help="Score explanations decoded this way (greedy, sample or beam; settings with --decode), as "
    "`whyrec explain` shows them (repeated words and bigrams and the unknown-word token blocked), instead of the "
    "PETER benchmark's plain greedy decoding.")]
# the `data` commands take the review file as an argument or, like every other command, as --data
DataPath = Annotated[Optional[Path], typer.Argument(
    help="Review file (json[.gz], csv, tsv, parquet, .ss, reviews.pickle) or its folder; or give --data.",
    show_default=False)]
DataOption = Annotated[Optional[Path], typer.Option("--data", help="The review file or folder, as the other "
                                                    "commands take it (instead of the argument).")]
# the explanation systems train and experiment explain take by name (the rating models are in whyrec.rating)
TEXT_SYSTEMS = ("mt", "peter", "peter+")

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


def print_error(message: str) -> None:
    err_console().print(labelled("error:", "red", f" {message}"), highlight=False)


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


def check_tune_on(tune_on: str | None, models) -> None:
    """Refuse ``--tune-on`` where no model has a grid: it would pick nothing."""
    from whyrec.errors import ConfigError
    from whyrec.rating.tuning import TunedModel

    if tune_on is not None and not any(isinstance(m, TunedModel) for m in models):
        raise ConfigError("--tune-on picks among a setting's several values (NAME=A|B), and no setting has several")


def check_given_once(context, settings: dict, options: dict[str, str]) -> None:
    """Refuse a setting given both by ``--set NAME=VALUE`` (``settings``) and, with another value, by
    the command's own option for it (``options``: setting name → the command's parameter name, as
    ``{"max_batches_per_epoch": "batches"}``); without this, ``--set`` silently won. ``context``:
    the command's ``typer.Context``, which knows the options given on the command line."""
    from whyrec.errors import ConfigError

    for name, parameter in options.items():
        if name in settings and given_on_command_line(context, parameter):
            value = context.params[parameter]
            if settings[name] != value:
                raise ConfigError(f"{name} is given twice, as --{parameter.replace('_', '-')} {value} and as "
                                  f"--set {name}={settings[name]}; give it once")


def mi_encoder(mi: bool, encoder: str | None) -> str | None:
    """The sentence encoder ``--mi`` reads (default minilm), checked; None without ``--mi``, where
    ``--encoder`` is refused rather than left unread."""
    from whyrec.errors import ConfigError

    if not mi:
        if encoder is not None:
            raise ConfigError("--encoder chooses what --mi's estimators read; give --mi too")
        return None
    from whyrec.align.pipeline import check_sentence_encoder

    encoder = encoder or "minilm"
    check_sentence_encoder(encoder)
    return encoder


def check_mi_read(mi: bool, systems: dict) -> None:
    """Refuse ``--mi`` (``evaluate``, ``compare``) where none of ``systems`` (name → loaded system)
    writes explanations: it would estimate nothing and be left unread."""
    from whyrec.errors import ConfigError
    from whyrec.explanations import explainers_of

    if mi and not any(explainers_of(system) for system in systems.values()):
        raise ConfigError(f"--mi estimates what the explanations say of the rating and the feature; "
                          f"{', '.join(systems)} write{'s' if len(systems) == 1 else ''} none (rating models)")


def check_relevant_at(relevant_at: float | None, top_k: int | None, tune_on: str | None = None) -> None:
    """Refuse ``--relevant-at`` where nothing ranks: without ``--top-k`` and without a ranking
    ``--tune-on`` (ndcg@10) it would be left unread."""
    from whyrec.errors import ConfigError

    if relevant_at is not None and top_k is None and (tune_on or "rmse") in ("rmse", "mae"):
        raise ConfigError("--relevant-at says which test items count as relevant when ranking; give --top-k"
                          + (" or a ranking --tune-on such as ndcg@10" if tune_on is not None else ""))


def parse_pairs(pairs: list[str] | None, what: str) -> dict:
    """Repeated ``--param NAME=VALUE`` options as a dict (:func:`whyrec.settings.parse_assignment`).

    The commands that take settings (train, experiment mt, align) accept them as ``--param`` or
    ``--set``, either spelling on each, so that one learnt on one command works on the others."""
    from whyrec.settings import parse_assignments

    return parse_assignments(pairs or [], what)


def decoding_of(method: str, settings: list[str] | None):
    """``--method`` and its ``--decode NAME=VALUE`` settings as one checked
    :class:`~whyrec.explain.decoding.Decoding`."""
    from whyrec.explain.decoding import Decoding

    return Decoding.of(method, parse_pairs(settings, "--decode"))


def checked_mt_config(params: dict):
    """The :class:`~whyrec.systems.mt_config.MTConfig` of ``params``, checked (the config imports
    no torch) and with word vectors this machine can make (GloVe asked for and not installed)."""
    from whyrec.explain.embeddings import check_word_vectors
    from whyrec.systems.mt_config import MTConfig

    config = MTConfig.from_dict(params)
    check_word_vectors(config.word_vectors, config.word_dim)
    return config


def check_text_settings(model: str, params: dict, tuned: bool) -> None:
    """MT's or PETER's settings (``model``: mt, peter or peter+) checked by their configs, which
    import no torch, so that a mistyped one is refused before the libraries that train load; and
    several values of one (``a|b``, ``--tuned``), which only rating models pick among, refused."""
    from whyrec.errors import ConfigError
    from whyrec.settings import is_grid_value

    if tuned or any(is_grid_value(v) for v in params.values()):
        raise ConfigError(f"several values of a setting (a|b, --tuned) are picked on validation for rating models; "
                          f"{model} takes one value each")
    if model == "mt":
        checked_mt_config(params)
    else:
        from whyrec.systems.peter_config import PeterConfig

        PeterConfig.from_dict({**params, "use_feature": model == "peter+"})


def scored_decoding(method: str | None, settings: list[str] | None):
    """``--method`` and ``--decode`` of a command that scores explanations: None (the plain greedy
    decoding the metrics are defined on) when neither is given; ``--decode`` alone refines greedy
    search, which has no settings, so it is refused naming the method it belongs to."""
    if method is None and not settings:
        return None
    return decoding_of(method or "greedy", settings)


def load_reviews(path: Path, fmt: str | None, columns: list[str] | None, strict: bool, duplicates: str,
          scale: tuple[float, float] = (1.0, 5.0), fold_unicode: bool = False, meta: Path | None = None):
    """Load a corpus, printing reader warnings (truncation, skipped records) as one line each;
    ``fold_unicode``: texts folded to ASCII (``--fold-unicode``, or a bundle trained so); ``meta``:
    the item metadata file (``--meta``; by default the one beside the reviews)."""
    from whyrec.data import load_corpus
    from whyrec.data.corpus import DUPLICATE_POLICIES
    from whyrec.errors import ConfigError

    if duplicates not in DUPLICATE_POLICIES:
        raise ConfigError(f"--duplicates must be one of {', '.join(DUPLICATE_POLICIES)}, not '{duplicates}'")
    with warnings_as_lines():
        return load_corpus(path, format=fmt, columns={k: str(v) for k, v in parse_pairs(columns, "--column").items()},
                           strict=strict, duplicates=duplicates, rating_scale=scale, fold_unicode=fold_unicode,
                           meta_path=meta)


@contextmanager
def warnings_as_lines():
    """Print the warnings raised inside (truncated files, skipped records, a doubtful split) as one
    ``warning: ...`` line each, from one process under torchrun."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    from whyrec.distributed import launched_main

    main_process = launched_main()
    for w in caught:
        if issubclass(w.category, UserWarning) and main_process:
            print_warning(str(w.message))


def data_path(argument: Path | None, option: Path | None) -> Path:
    """The review file a `data` command reads: its argument or its --data, exactly one of them."""
    from whyrec.errors import ConfigError

    if argument is not None and option is not None:
        raise ConfigError("give the review file once: as the argument or as --data, not both")
    if argument is None and option is None:
        raise ConfigError("give the review file or folder (as the argument or as --data)")
    return argument if argument is not None else option


def check_out(out: Path, data: Path | None, folder: bool = True, option: str = "--out") -> None:
    """Refuse, before any work, an output that would overwrite or fill the input data: the data
    file itself, or, for a data folder, the folder or anything inside it (its reviews, metadata,
    split folders, and new files among them: a dataset folder stays as it was shipped, and a
    second review-like file would make a folder of one ambiguous). When the data folder holds
    the working folder (``--data .``), only its existing entries are protected: outputs may go
    beside the data there. A folder output (a bundle, results) also refuses a path that is a file,
    and any output one that could not be written (:func:`check_writable`). Missing data is
    refused first, as reading it would: a mistyped path is told in a moment, not after the models
    load."""
    from whyrec.errors import ConfigError, DataError

    if data is not None and not data.exists():
        raise DataError("no such file", path=data)
    target = out.resolve()
    if data is not None:
        source = data.resolve()
        if source.is_dir():
            working = Path.cwd().resolve()
            if source == working or source in working.parents:
                inside = target in {p.resolve() for p in source.iterdir()}
            else:
                inside = source in target.parents
        else:
            inside = False
        if target == source or inside:
            raise ConfigError(f"{option} {out} is {'part of ' if inside else ''}the input data {data}; "
                              "choose another path")
    if folder and target.is_file():
        raise ConfigError(f"{option} {out} is a file; the output is a folder")
    check_writable(out, option)


def check_writable(out: Path, option: str) -> None:
    """Refuse, before any work, an output that could not be written once the work is done: one
    under a path that is a file (``--out notes.txt/run``), or in a folder without write permission.
    What is checked is the folder it is written in (a folder output that exists: itself), or the
    nearest existing folder it would be made in."""
    from whyrec.errors import ConfigError

    target = out.resolve()
    holder = next(p for p in (target, *target.parents) if p.exists())
    if holder == target and not target.is_dir():  # a file output that is there already: overwritten
        holder = target.parent
    if not holder.is_dir():
        raise ConfigError(f"{option} {out}: {holder} is a file, so no folder can be made in it")
    if not os.access(holder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {out}: no permission to write in {holder}")


def check_new_bundle(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, a bundle ``out`` folder that already holds a bundle, unless
    ``overwrite``: a mistyped --out would otherwise replace a model that took an hour to train."""
    from whyrec.bundle import FILES, read_bundle_header
    from whyrec.errors import BundleError, ConfigError

    held = [name for name in FILES if (out / name).is_file()]
    if not held or overwrite:
        return
    try:
        kind = read_bundle_header(out).get("class")
        what = f"a {kind} bundle" if isinstance(kind, str) else "a bundle"
    except (BundleError, OSError):  # unreadable, or not whyrec's: its files are named
        what = f"bundle files ({', '.join(held)})"
    raise ConfigError(f"--out {out} already holds {what}; pass --overwrite to replace it, or choose another folder")


def check_checkpoint(checkpoint: Path | None, out: Path, data: Path | None) -> None:
    """Refuse a ``--checkpoint`` folder that is also the ``--out`` folder (the bundle or results
    would be written among the epochs), one in the input ``data`` (its folder, a split folder: the
    epochs would be written among the reviews), or one that could not be written
    (:func:`check_out`); what else it may hold is checked when training starts."""
    from whyrec.errors import ConfigError

    if checkpoint is not None and checkpoint.resolve() == out.resolve():
        raise ConfigError(f"--checkpoint {checkpoint} is the --out folder; give the checkpoints a folder of their own")
    if checkpoint is not None:  # the first epoch's checkpoint is written once that epoch is trained
        check_out(checkpoint, data, option="--checkpoint")


def default_split_dir(data: Path) -> Path | None:
    folder = data if data.is_dir() else data.parent
    return folder / "1" if (folder / "1" / "train.index").exists() else None


def chosen_split_dir(data: Path | None, split: Path | None, seed: int | None) -> Path | None:
    """The split folder a command reads: ``--split``; else, without a ``--seed``, the fixed split 1
    of the ``data`` folder (None: no data read, as the demo's planted corpus) when it has one; else
    None (a random split drawn with the seed, 0 by default). ``--split`` with ``--seed`` is refused:
    a seed given was otherwise left unread."""
    from whyrec.errors import ConfigError

    if split is not None and seed is not None:
        raise ConfigError("--split names a fixed split and --seed draws a random one; give one of them")
    return split or (default_split_dir(data) if seed is None and data is not None else None)


def make_split(corpus, split_dir: Path | None, seed: int, data: Path):
    """The fixed split in ``split_dir`` (:func:`read_split_folders`), else a seeded 80/10/10 one."""
    from whyrec.data import ratio_split

    if split_dir is not None:
        return read_split_folders(corpus, [split_dir], data)[0]
    with warnings_as_lines():
        return ratio_split(corpus, seed=seed)


def read_split_folders(corpus, folders: list[Path], data: Path) -> list:
    """The fixed splits of ``corpus`` (read from ``data``) in ``folders``, each folder's ``run.json``
    checked first: a warning when ``whyrec data split`` drew its positions from other bytes than
    ``data``'s (:func:`whyrec.provenance.split_source_warning`)."""
    from whyrec.data import fixed_index_split
    from whyrec.provenance import split_source_warning

    parts = []
    for folder in folders:
        mismatch = split_source_warning(folder, data)
        if mismatch:
            print_warning(mismatch)
        with warnings_as_lines():
            parts.append(fixed_index_split(corpus, folder))
    return parts


def split_of(data: Path, split: Path | None, seed: int | None, fmt: str | None = None,
             scale: tuple[float, float] = (1.0, 5.0), columns: list[str] | None = None, fold_unicode: bool = False,
             meta: Path | None = None):
    """The split a command works on: the ``--split`` folder; else, with a ``--seed``, an 80/10/10
    split of the reviews drawn with it (duplicate pairs dropped), even where the data folder has
    fixed splits (a seed given was otherwise left unread there); else ``<data>/1`` when it exists
    (duplicate pairs kept, as the index files count them), else the split of seed 0. ``scale`` is
    the data's rating scale (--min/--max-rating); ``fold_unicode`` and ``meta`` as for
    :func:`load_reviews`."""
    split_dir = chosen_split_dir(data, split, seed)
    corpus = load_reviews(data, fmt, columns, False, "keep-all" if split_dir else "keep-last", scale, fold_unicode,
                          meta)
    return make_split(corpus, split_dir, seed or 0, data)


def split_line(parts) -> str:
    """The line a command prints of the split it works on: ``split NAME: train N, valid N, test N``."""
    return f"split {parts.name}: " + ", ".join(f"{k} {v:,}" for k, v in parts.sizes().items())


def given_on_command_line(context, *parameters: str) -> list[str]:
    """Which of the command's ``parameters`` (by parameter name, ``min_rating``) were given on the
    command line, as options (``--min-rating``): an option given its default value cannot be told
    from one left out by the value alone. ``context``: the command's ``typer.Context``."""
    return [f"--{name.replace('_', '-')}" for name in parameters
            if getattr(context.get_parameter_source(name), "name", None) == "COMMANDLINE"]


def check_decoding_given(context, model, decoding) -> None:
    """``explain`` and ``recommend``: ``--method``/``--decode``, when given, checked on the loaded
    ``model`` (:func:`whyrec.explanations.check_decoding`): refused for a rating model, which writes
    nothing to decode, and a ``min_words`` above its ``max_words`` refused before any data is read."""
    if given_on_command_line(context, "method", "decode"):
        from whyrec.explanations import check_decoding

        check_decoding(model, decoding)


def history_of(context):
    """The train part a rating bundle's users' pasts (and, with ``--meta``, its items' titles) are
    read from, for ``serve``, ``explain`` and ``recommend --data``: the command's (its ``context``'s)
    ``--data``, read as its ``--split``, ``--seed``, ``--format``, ``--column``, ``--meta``,
    ``--min-rating`` and ``--max-rating`` say. None without ``--data``, when any of those given is
    refused rather than left unread."""
    from whyrec.errors import ConfigError

    options = context.params
    data = options["data"]
    if data is None:
        given = given_on_command_line(context, "split", "seed", "format", "column", "meta", "min_rating", "max_rating")
        if given:
            one = len(given) == 1
            raise ConfigError(f"{' and '.join(given)} say{'s' if one else ''} how to read --data (a rating-model "
                              "bundle's training data), which is not given: give --data, or leave "
                              f"{'it' if one else 'them'} out")
        return None
    scale = (options["min_rating"], options["max_rating"])
    return split_of(data, options["split"], options["seed"], options["format"], scale, options["column"],
                    meta=options["meta"]).train


def check_data_read(data: Path | None, bundles: dict) -> None:
    """Refuse ``--data`` (a rating bundle's training data, for ``serve``, ``explain`` and ``recommend``)
    when every one of ``bundles`` (name → loaded system) is an MT or PETER bundle, which keeps its
    own: it would be read and left unused."""
    from whyrec.errors import ConfigError
    from whyrec.explanations import explainers_of

    if data is not None and bundles and all(explainers_of(system) for system in bundles.values()):
        names = ", ".join(bundles)
        raise ConfigError(f"--data gives a rating-model bundle the data it was trained on; {names} "
                          f"{'keeps its' if len(bundles) == 1 else 'keep their'} own (as MT and PETER bundles do): "
                          "leave --data out")


def strangers_warning(subject: str, system, test) -> str | None:
    """What ``evaluate`` and ``compare`` say when the trained ``system`` (named ``subject``) knows
    none of the ``test`` records' users, or the user and the item of fewer than half of them: a
    system trained on other data, whose predictions are mostly its cold-start fallback. None when it
    knows them (a split's warm-start repair makes every test user and item known)."""
    users, items = test.users, test.items
    if not any(u in system.user_map for u in users):
        return f"warning: {subject} knows none of these test users: is this the data it was trained on?"
    known = sum(u in system.user_map and i in system.item_map for u, i in zip(users, items))
    if known >= len(test) / 2:
        return None
    return (f"warning: {subject} knows both the user and the item of {known:,} of the {len(test):,} test records: "
            "is this the data it was trained on?")


def save_results(table, out: Path, title: str, data: Path, splits: list, also: tuple[str, ...] = ()) -> None:
    """Write a results table under ``out`` (its files, the title atop ``results.md``) with the
    ``run.json`` of the command that made it (the data's and ``splits``' digests), and say where;
    ``also``: files the caller wrote there too, named in that line."""
    from whyrec.provenance import write_run_record

    folder = table.save(out, title=title)
    run = write_run_record(folder, data, splits=splits)
    console().print(f"written to {folder}/ ({', '.join([*table.files, *also, run.name])})", highlight=False)


def print_table(table, title: str) -> None:
    """A results table: boxed on a terminal; as markdown into a pipe or a file, where no width
    squeezes the columns and the text can be pasted on."""
    from rich.table import Table

    if not console().is_terminal:
        console().print(f"{title}\n{table.to_markdown()}", highlight=False)
        return
    view = Table(title=title, show_lines=False)
    for col in table.columns:
        view.add_column(col, justify="left" if col == "system" else "right")
    for row in table.rows():
        view.add_row(*row)
    console().print(view)


def warn_if_not_held_out(bundle: Path, data: Path, parts) -> str | None:
    """:func:`whyrec.provenance.held_out_warning` for ``bundle`` scored on ``parts`` of ``data``,
    printed to stderr when there is one (and returned, for ``--json``)."""
    from whyrec.provenance import held_out_warning, read_run_record

    warning = held_out_warning(read_run_record(bundle), data, parts)
    if warning:
        print_warning(f"{bundle.resolve().name}: {warning}")
    return warning
