"""What the ``whyrec`` commands read: the reviews (their reader's warnings as lines), the split
a command works on (fixed, or drawn with a seed), a rating bundle's training data; and the
warnings when a model is scored on data it was not trained on, or on records it was trained on."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

from whyrec.cli.option_checks import parse_pairs, refuse_unread_data_options
from whyrec.cli.output import print_warning


def load_reviews(path: Path, fmt: str | None, columns: list[str] | None, strict: bool, duplicates: str,
                 scale: tuple[float, float] = (1.0, 5.0), fold_unicode: bool = False, meta: Path | None = None,
                 summary_shown: bool = False):
    """Load a corpus, printing reader warnings (truncation, skipped records) as one line each;
    ``fold_unicode``: texts folded to ASCII (``--fold-unicode``, or a bundle trained so); ``meta``:
    the item metadata file (``--meta``; by default the one beside the reviews); ``summary_shown``:
    the caller prints the reading's summary itself (``data stats``), so its warning is left out;
    else a file of which no review is kept (all skipped, or none in it) is refused with that summary."""
    from whyrec.data import load_corpus
    from whyrec.data.corpus import check_duplicate_policy
    from whyrec.errors import DataError

    check_duplicate_policy(duplicates, "--duplicates")  # before the file is read
    said: set[str] = set()
    with warnings_as_lines(said):
        corpus = load_corpus(path, format=fmt, columns={k: str(v) for k, v in parse_pairs(columns, "--column").items()},
                             strict=strict, duplicates=duplicates, rating_scale=scale, fold_unicode=fold_unicode,
                             meta_path=meta)
        if summary_shown:
            said.add(corpus.report.summary())
        elif len(corpus) == 0:  # nothing to train, split or serve: refused before any of it (and its warning)
            read = corpus.report.summary().removeprefix(f"{corpus.report.source}: ")
            raise DataError(f"no review left to work on ({read})", path=corpus.report.source)
    return corpus


@contextmanager
def warnings_as_lines(said: set[str] | None = None, renamed: tuple[str, str] | None = None):
    """Print the warnings raised inside (truncated files, skipped records, a doubtful split) as one
    ``warning: ...`` line each, from one process under torchrun; those whose text the caller
    puts in ``said`` before the block ends are left out (it prints them otherwise). ``renamed``:
    (a path, how the lines name it), for a copy read in place of what the user gave (``<stdin>``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    from whyrec.distributed import launched_main

    main_process = launched_main()
    for w in caught:
        message = str(w.message).replace(*renamed) if renamed else str(w.message)
        if issubclass(w.category, UserWarning) and main_process and str(w.message) not in (said or ()):
            print_warning(message)


@contextmanager
def data_warnings_as_lines():
    """Around training: print whyrec's :class:`~whyrec.errors.DataWarning` raised inside (PETER's
    validation records the train part lacks) as ``warning: ...`` lines, from one process under
    torchrun, and show any other warning as Python would have. Unlike :func:`warnings_as_lines`,
    the others keep Python's filters (once per place): a library's warning repeated every step
    would otherwise be a line every step."""
    from whyrec.errors import DataWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        yield
    from whyrec.distributed import launched_main

    for w in caught:
        if issubclass(w.category, DataWarning):
            if launched_main():
                print_warning(str(w.message))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


def data_path(argument: Path | None, option: Path | None) -> Path:
    """The review file a `data` command reads: its argument or its --data, exactly one of them."""
    from whyrec.errors import ConfigError

    if argument is not None and option is not None:
        raise ConfigError("give the review file once: as the argument or as --data, not both")
    if argument is None and option is None:
        raise ConfigError("give the review file or folder (as the argument or as --data)")
    return argument if argument is not None else option


def data_folder(data: Path) -> Path:
    """The folder of ``--data``: the path itself, or the folder of a review file; where its fixed
    splits are looked for."""
    return data if data.is_dir() else data.parent


def default_split_dir(data: Path) -> Path | None:
    folder = data_folder(data)
    return folder / "1" if (folder / "1" / "train.index").exists() else None


def chosen_split_dir(data: Path | None, split: Path | None, seed: int | None) -> Path | None:
    """The split folder a command reads: ``--split``; else, without a ``--seed``, the fixed split 1
    of the ``data`` folder (None: no data read, as the demo's planted corpus) when it has one; else
    None (a random split drawn with the seed, 0 by default). ``--split`` with ``--seed`` is refused:
    a seed given was otherwise left unread."""
    from whyrec.errors import ConfigError

    if split is not None and seed is not None:
        raise ConfigError("--split names a fixed split and --seed draws a random one; give one of them")
    if split is not None:
        return given_split_folder(split, data)
    return default_split_dir(data) if seed is None and data is not None else None


def given_split_folder(split: Path, data: Path | None) -> Path:
    """``--split`` as given, when there is such a path. One that is not is refused before the data
    are read, pointing at the ``data`` folder's split of that name when it has one: ``--split 1``
    given from another folder (it was "1/train.index: split index file not found", after reading)."""
    from whyrec.errors import DataError

    if split.expanduser().exists():
        return split
    beside = data_folder(data) / split if data is not None else None
    hint = ""
    if beside is not None and not split.expanduser().is_absolute() and (beside / "train.index").exists():
        hint = f"; the data folder has a split of that name: --split {beside}"
    raise DataError(f"no such split folder{hint}", path=split)


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


def history_of(context):
    """The train part a rating bundle's users' pasts (and, with ``--meta``, its items' titles) are
    read from, for ``serve``, ``explain`` and ``recommend --data``: the command's (its ``context``'s)
    ``--data``, read as its ``--split``, ``--seed``, ``--format``, ``--column``, ``--meta``,
    ``--min-rating`` and ``--max-rating`` say. None without ``--data``, when any of those given is
    refused rather than left unread."""
    options = context.params
    data = options["data"]
    if data is None:
        refuse_unread_data_options(context, "split", "seed", "format", "column", "meta", "min_rating", "max_rating",
                                   data_is=" (a rating-model bundle's training data)")
        return None
    scale = (options["min_rating"], options["max_rating"])
    return split_of(data, options["split"], options["seed"], options["format"], scale, options["column"],
                    meta=options["meta"]).train


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


def warn_if_not_held_out(bundle: Path, data: Path, parts) -> str | None:
    """:func:`whyrec.provenance.held_out_warning` for ``bundle`` scored on ``parts`` of ``data``,
    printed to stderr when there is one (and returned, for ``--json``)."""
    from whyrec.provenance import held_out_warning, read_run_record

    warning = held_out_warning(read_run_record(bundle), data, parts)
    if warning:
        print_warning(f"{bundle.resolve().name}: {warning}")
    return warning
