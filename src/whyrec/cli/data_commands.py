"""``whyrec data stats | features | split``: inspect and prepare review data."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import data_app
from whyrec.cli.inputs import data_folder, data_path, default_split_dir, load_reviews
from whyrec.cli.option_checks import check_out, check_split_count, check_writable, given_on_command_line
from whyrec.cli.options import (ColumnMap, DataOption, DataPath, FoldUnicode, MaxRating, MetaFile, MinRating,
                                ReaderFormat)
from whyrec.cli.output import console, labelled, print_warning, status
from whyrec.errors import ConfigError
from whyrec.strict_json import strict_dumps
from whyrec.wording import counted, listed, shown

DUPLICATES_HELP = ("A (user, item) pair reviewed more than once: keep-last (the latest by review time; the last in "
                   "the file among equal or missing times), keep-first (the earliest), keep-all or error.")


@data_app.command("stats")
def data_stats(
    path: DataPath = None,
    data: DataOption = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    strict: bool = typer.Option(False, "--strict", help="Stop at the first invalid record."),
    duplicates: str = typer.Option("keep-last", help=DUPLICATES_HELP),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    fold_unicode: FoldUnicode = False,
    meta: MetaFile = None,
) -> None:
    """Count reviews, users and items; report what validation skipped."""
    from whyrec.data.text import LETTERS_LOST_WARNING, characters_dropped, letters_lost, letters_lost_text

    path = data_path(path, data)
    corpus = load_reviews(path, format, column, strict, duplicates, (min_rating, max_rating), fold_unicode, meta,
                          summary_shown=True)  # printed below (and in --json's validation), not as a warning too
    report = corpus.report
    holding, dropped = characters_dropped(corpus.texts)
    lost = letters_lost(corpus.texts, dropped)
    splits = _fixed_splits(path)
    info = {"file": report.source, "records": report.read, "users": len(report.users_seen),
            "items": len(report.items_seen), "validation": report.to_dict(), "after_validation": corpus.stats(),
            "characters_dropped": {"reviews": holding, "characters": dict(dropped.most_common())},
            "letters_lost": lost, "fixed_splits": splits}
    if as_json:
        print(strict_dumps(info, indent=1))
        return
    con = console()
    con.print(labelled(str(report.source), "bold"), highlight=False)
    con.print(f"in the file: {counted(report.read, 'record')}, {counted(len(report.users_seen), 'user')}, "
              f"{counted(len(report.items_seen), 'item')}")
    if report.columns:
        con.print(_columns_text(report), highlight=False)
    con.print(report.summary().split(": ", 1)[1])
    after = corpus.stats()
    con.print(f"after validation: {counted(after['reviews'], 'review')}, {counted(after['users'], 'user')}, "
              f"{counted(after['items'], 'item')}, "
              f"density {after['density']:.4f}, mean rating {shown(after['mean_rating'], '.3f')}"
              + ("" if corpus.ratings_only else f", {after['mean_words_per_review']:.1f} words per review"))
    con.print("ratings: " + (", ".join(f"{k}: {v:,}" for k, v in after["ratings"].items()) or "none"))
    if after["reviews"]:
        con.print("reviews per user: " + _spread(after["reviews_per_user"], "user") + "; per item: "
                  + _spread(after["reviews_per_item"], "item"), highlight=False)
        if core := _core_text(corpus):
            con.print(core, highlight=False)
        without = after["reviews_without_time"]
        con.print(f"review dates: {after['first_review']} to {after['last_review']}"
                  + (f" ({counted(without, 'review')} without a time)" if without else "")
                  if after["first_review"] else "review dates: none given" + _no_time_hint(report), highlight=False)
    if splits:
        con.print(_splits_text(splits, default_split_dir(path)), highlight=False)
    else:
        con.print("no fixed split beside it: the commands draw a seeded 80/10/10 split (--seed), or read the "
                  "folder --split names", highlight=False)
    if corpus.item_meta:
        untitled = after["items_with_metadata"] - after["items_with_title"]
        given = report.columns.get("item_title")  # titles the review file gives, where no metadata does
        con.print(f"item metadata for {after['items_with_metadata']:,} of {counted(after['items'], 'item')}"
                  + (f" (titles from the {given} {report.column_word} where no metadata file gives one)" if given
                     else "")
                  + (f"; {untitled:,} of them without a readable title, shown as brand (category)" if untitled else ""))
    if holding:
        counts = ", ".join(f"{_visible(ch)} ×{n:,}" for ch, n in dropped.most_common(8))
        con.print(f"note: {counted(holding, 'review')} {'holds' if holding == 1 else 'hold'} characters outside "
                  f"ASCII, which the tokenizer turns into spaces as the PETER benchmark's does (isn’t → isn t): "
                  f"{counts}{', …' if len(dropped) > 8 else ''}"
                  + ("" if fold_unicode else "; --fold-unicode writes those that have an ASCII form in it first "
                     "(isn’t → isn't, café → cafe)"), highlight=False)
    if lost >= LETTERS_LOST_WARNING:
        con.print(labelled("warning:", "yellow", f" {letters_lost_text(lost)}; rating models do not read the text"),
                  highlight=False)


def _columns_text(report) -> str:
    """Which column (JSON key) each field was read from, and the columns no field read, so that a
    misread column shows before anything is trained on it."""
    read = ", ".join(f"{name} ← {column}" for name, column in report.columns.items())
    unread = ", ".join(report.columns_not_read)
    return f"{report.column_word}s read: {read}" + (f"; not read: {unread}" if unread else "")


def _no_time_hint(report) -> str:
    """After "review dates: none given", for a table or JSON file: the names looked for, and how to
    name the column when the dates are under another."""
    from whyrec.data.readers.fields import FIELD_ALIASES

    if not report.columns or "time" in report.columns:
        return ""
    return (f" (no {report.column_word} named {listed(list(FIELD_ALIASES['time']))}"
            + ("; --column time=NAME reads one of the others" if report.columns_not_read else "") + ")")


def _fixed_splits(path: Path) -> dict:
    """The fixed split folders beside the reviews (those the commands would read): each one's number
    of records per part (and ``k_core``: the K of a split of the data's K-core), or what is wrong
    with its index files."""
    from whyrec.data.split import read_index_file, recorded_k_core, split_folders
    from whyrec.errors import DataError

    splits = {}
    for folder in split_folders(data_folder(path)):
        try:
            splits[folder.name] = {part: len(read_index_file(folder / f"{part}.index"))
                                   for part in ("train", "validation", "test")}
            if (core := recorded_k_core(folder)) is not None:
                splits[folder.name]["k_core"] = core
        except DataError as exc:  # a broken folder among good ones: said, the stats still shown
            splits[folder.name] = exc.problem
    return splits


def _splits_text(splits: dict, read: Path | None) -> str:
    """The fixed splits line of ``data stats``: the folders of each size together (the shared data's
    five splits are one size), a broken folder with its problem, and which one the commands read
    (``read``: :func:`whyrec.cli.inputs.default_split_dir`)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, parts in splits.items():
        what = (" / ".join(f"{parts[p]:,}" for p in ("train", "validation", "test"))
                if isinstance(parts, dict) else f"unreadable ({parts})")
        core = f", of the {parts['k_core']}-core" if isinstance(parts, dict) and "k_core" in parts else ""
        groups.setdefault((what, core), []).append(name)
    said = "; ".join(f"{', '.join(names)}: {what}{' each' if len(names) > 1 else ''}{core}"
                     for (what, core), names in groups.items())
    used = (f"{read.name} unless --split names another (or --seed draws a random split)" if read
            else "none of them unless --split names one")
    return f"fixed splits beside it (records listed for train / validation / test): {said}; the commands use {used}"


def _spread(counts: dict, owner: str) -> str:
    """How many reviews the users (items) have, as ``data stats`` prints it."""
    return (f"fewest {counts['min']:,}, median {counts['median']:g}, mean {counts['mean']:.1f}, most "
            f"{counts['max']:,} ({counted(counts['with_one'], owner)} with one)")


# the k of the k-core the Amazon review datasets are filtered to ("5-core"), which stats measure the data against
AMAZON_CORE = 5


def _core_text(corpus) -> str:
    """Whether the data is a k-core, as recommendation datasets are filtered (Amazon's "5-core"), in
    the sense of :mod:`whyrec.data.cores`: every user rated at least k distinct items and every item
    was rated by at least k distinct users (a pair reviewed twice counts once), and, for data that
    is not a 5-core, how much of it its 5-core keeps."""
    pairs = corpus.reviews.drop_duplicates(["user", "item"])
    if not len(pairs):
        return ""
    users, items = int(pairs["user"].value_counts().min()), int(pairs["item"].value_counts().min())
    k = min(users, items)
    said = (f"a {k}-core: every user rated at least {k} items and every item was rated by at least {k} users "
            f"(fewest: {users:,} items of a user, {items:,} users of an item)") if k >= 2 else ""
    if k < AMAZON_CORE:  # what the usual filter would keep, before anyone splits it
        from whyrec.data.cores import k_core_rows

        kept = pairs.iloc[k_core_rows(pairs["user"], pairs["item"], AMAZON_CORE)]
        five = (f"its {AMAZON_CORE}-core (`data split --k-core {AMAZON_CORE}`) keeps {len(kept):,} of "
                f"{counted(len(pairs), 'user–item pair')}, {kept['user'].nunique():,} of "
                f"{counted(pairs['user'].nunique(), 'user')} and {kept['item'].nunique():,} of "
                f"{counted(pairs['item'].nunique(), 'item')}" if len(kept) else f"its {AMAZON_CORE}-core is empty")
        said = f"{said}; {five}" if said else five
    return said


def _visible(character: str) -> str:
    """A character as the note shows it: itself, or its code point when it would not show."""
    return character if character.isprintable() and not character.isspace() else f"U+{ord(character):04X}"


@data_app.command("features")
def data_features(
    context: typer.Context,
    path: DataPath = None,
    data: DataOption = None,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the quadruples here (JSON lines)."),
    format: ReaderFormat = None,
    column: ColumnMap = None,
    max_features: int = typer.Option(200, min=1, help="Size of the feature vocabulary."),
    min_df: int = typer.Option(5, min=1, help="Minimum number of reviews a feature occurs in."),
    examples: int = typer.Option(8, min=0, help="How many examples to print."),
    extract: bool = typer.Option(False, "--extract", help="Extract them even from a file that carries its own "
                                 "(the PETER benchmark's reviews.pickle, whose quadruples the commands use)."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
    fold_unicode: FoldUnicode = False,
) -> None:
    """Extract (feature, opinion, sentence, sentiment) per review; print coverage and examples. A
    PETER pickle's own quadruples are shown instead, as the other commands use them."""
    path = data_path(path, data)
    if out is not None:
        from whyrec.data.features import FEATURE_COLUMNS
        from whyrec.output_files import check_replaceable

        check_out(out, path, folder=False)
        check_replaceable(out, FEATURE_COLUMNS, "--out", "feature quadruples")  # an earlier run's: replaced
    from rich.table import Table

    from whyrec.data.features import FeatureExtractor, coverage, given_features, save_features
    from whyrec.data.text import readable

    corpus = load_reviews(path, format, column, False, "keep-last", (min_rating, max_rating), fold_unicode)
    con = console()
    table = None if extract else given_features(corpus)
    if table is not None:
        unread = given_on_command_line(context, "max_features", "min_df")
        if unread:
            verb = "steers" if len(unread) == 1 else "steer"
            raise ConfigError(f"{' and '.join(unread)} {verb} extraction, and {path.name} carries its own "
                              "quadruples, which are shown: add --extract to extract instead")
        con.print("the file's own quadruples (its templates; the commands use these, not extracted ones: "
                  "--extract extracts)", highlight=False)
    else:
        with status(con, "extracting features"):
            table = FeatureExtractor(max_features=max_features, min_df=min_df).extract(corpus)
    con.print(f"coverage: {coverage(table, corpus):.1%} of the {counted(len(corpus), 'review')} received a quadruple; "
              f"{counted(table['feature'].nunique(), 'distinct feature')}")
    if len(table):
        top = table["feature"].value_counts().head(15)
        con.print("top features: " + ", ".join(f"{feature} ({count})" for feature, count in top.items()))
        if examples:  # --examples 0: none, not an empty table
            view = Table(title="examples")
            for col in ("rating", "feature", "opinion", "sentiment", "sentence"):
                view.add_column(col)
            for row in table.sample(min(examples, len(table)), random_state=0).itertuples():
                view.add_row(f"{row.rating:g}", row.feature, row.opinion, f"{row.sentiment:+d}",
                             readable(row.sentence))
            con.print(view)
    else:  # an empty table of examples said nothing of why
        con.print(f"no review has a feature word (a word in at least --min-df {min_df} reviews, noun-like) near an "
                  "opinion word: too few or too short reviews?", highlight=False)
    if out:
        save_features(table, out)
        con.print(f"saved {counted(len(table), 'quadruple')} to {out}")


@data_app.command("split")
def data_split(
    path: DataPath = None,
    data: DataOption = None,
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the split folders 1..K (default: the "
                                       "data's folder, where the commands look for them)."),
    count: Optional[int] = typer.Option(None, "--count", help="Independent random 80/10/10 splits (seeds seed … "
                                        "seed+K−1; default 5)."),
    kfold: int = typer.Option(0, "--kfold", help="Instead: K folds whose test parts partition the data, less "
                              "what warm-start repair moves to train (10% of each fold's training records validate)."),
    leave_last: bool = typer.Option(False, "--leave-last-out", help="Instead: one split in which each user's "
                                    "latest review tests and the one before validates (by review time, then file "
                                    "order); a user's only review trains."),
    seed: Optional[int] = typer.Option(None, min=0, help="Seed of the first split (default 0); --leave-last-out "
                                       "draws nothing."),
    k_core: Optional[int] = typer.Option(None, "--k-core", min=2, help="Split only the K-core: the largest part of "
                                         "the data in which every user rated at least K items and every item was "
                                         "rated by at least K users (Amazon's 5-core: 5)."),
    format: ReaderFormat = None,
    column: ColumnMap = None,
    duplicates: str = typer.Option("keep-last", help=DUPLICATES_HELP),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Write fixed splits with warm-start repair, so that every later run and other tools use the same records.

    Each split k goes to OUT/k/ as train.index, validation.index and test.index (the PETER benchmark's format).
    With --leave-last-out, one split by time: each user's latest review tests (no repair: an item first
    reviewed there stays unknown to the models, as it would be in use). With --k-core K, the splits hold the
    K-core's records only; each split's run.json records K, and the commands read them as a split of it."""
    path = data_path(path, data)
    from whyrec.data import iter_kfold_splits, leave_last_out, ratio_split, write_index_split

    if leave_last and (count is not None or kfold):
        raise ConfigError("give --leave-last-out alone: it makes one split, not --count or --kfold ones")
    if leave_last and seed is not None:
        raise ConfigError("--leave-last-out draws nothing at random (the latest review tests): --seed is not read")
    seed = seed or 0
    if count is not None and kfold:
        raise ConfigError("give --count (random splits) or --kfold (folds), not both")
    count = 5 if count is None else count
    if count < 1 or kfold == 1 or kfold < 0:
        raise ConfigError("--count must be at least 1 and --kfold at least 2 (or 0)")
    check_split_count("--kfold" if kfold else "--count", kfold or count)
    folder = out or data_folder(path)
    if folder.is_file():
        raise ConfigError(f"--out {folder} is a file; the split folders 1..K go in a folder")
    check_writable(folder, "--out")
    corpus = load_reviews(path, format, column, False, duplicates, (min_rating, max_rating))
    if k_core is not None:
        from whyrec.data.cores import k_core as core_of

        whole = corpus
        corpus = core_of(whole, k_core)
        console().print(f"{k_core}-core: {counted(len(corpus), 'review')} of {len(whole):,}, "
                        f"{counted(len(corpus.user_ids()), 'user')} of {len(whole.user_ids()):,}, "
                        f"{counted(len(corpus.item_ids()), 'item')} of {len(whole.item_ids()):,}", highlight=False)
    if leave_last:
        undated = int(corpus.reviews["time"].isna().sum())
        if undated:  # said, not refused: a file in time order is common
            print_warning(f"{counted(undated, 'review')} without a time: file order stands for time there")
        splits = [leave_last_out(corpus)]
    elif kfold:
        splits = iter_kfold_splits(corpus, kfold, seed=seed, valid_share=0.1)
    else:  # drawn one at a time as they are written: memory holds one split, not all of them
        splits = (ratio_split(corpus, seed=seed + k) for k in range(count))
    made = 1 if leave_last else kfold or count
    taken = [folder / str(k) for k in range(1, made + 1) if (folder / str(k) / "train.index").exists()]
    if taken:  # checked for all before any is written
        raise ConfigError(f"{taken[0]} already holds a split; choose another --out")
    from whyrec.provenance import RUN_FILE, run_record_writer

    con = console()
    written: list[Path] = []
    try:
        for k, split in enumerate(splits, start=1):
            # with the record of the data file its positions index, put in place together: a run
            # killed at any point leaves no split without its run.json
            core = {"k_core": k_core} if k_core is not None else {}  # read by fixed_index_split's coverage check
            write_index_split(split, folder / str(k), also={RUN_FILE: run_record_writer(path, splits=[split], **core)})
            written.append(folder / str(k))  # after: a folder another run wrote a split in meanwhile is not ours
            moved = (f" ({counted(split.moved_to_train, 'record')} drawn for validation or test moved to train by "
                     "warm-start repair: their user or item had no train record)" if split.moved_to_train else "")
            con.print(f"{folder / str(k)}: " + ", ".join(f"{n} {v:,}" for n, v in split.sizes().items()) + moved,
                      highlight=False)
    except BaseException:  # a full disk at split k, Ctrl-C: none of its splits kept, a second try starts clean
        _remove_splits(written)
        with suppress(OSError):  # the folder the failed split was to go in, when it was made for it (empty)
            (folder / str(len(written) + 1)).rmdir()
        if written:
            print_warning(f"removed the {counted(len(written), 'split')} this run had written ({written[0]}"
                          f"{' to ' + str(written[-1]) if len(written) > 1 else ''})")
        raise


def _remove_splits(folders: list[Path]) -> None:
    """Remove the split files ``data split`` wrote in ``folders`` (its index files and run.json),
    and each folder left empty; anything else in them stays."""
    from whyrec.provenance import RUN_FILE

    for split_folder in folders:
        for name in ("train.index", "validation.index", "test.index", RUN_FILE):
            with suppress(OSError):
                (split_folder / name).unlink()
        with suppress(OSError):  # not empty: another's files, kept
            split_folder.rmdir()
