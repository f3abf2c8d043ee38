"""The entry: which reader a file needs (:func:`detect_format`, by content), the review file of a
data folder (:func:`reviews_in`), and :func:`load_corpus` / :func:`corpus_from_frame`, which
validate what a reader yields into a :class:`Corpus`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from whyrec.data.corpus import Corpus, DuplicatePolicy, RawRecord, ValidationReport, build_corpus, with_titles
from whyrec.data.readers.fixed_fields import (MOVIELENS_LINE, peter_features, read_movielens_dat,
                                              read_peter_pickle, read_yelp_ss)
from whyrec.data.readers.item_metadata import metadata_beside, read_item_metadata
from whyrec.data.readers.json_reviews import read_amazon_json
from whyrec.data.readers.tables import csv_separator, read_csv, read_parquet, table_columns, table_records
from whyrec.data.readers.text_files import head_bytes, peek_text
from whyrec.errors import DataError, warn_data
from whyrec.folder_kinds import REVIEW_FILE_NAMES, REVIEW_SUFFIXES, folder_kind, misplaced
from whyrec.wording import did_you_mean

FORMATS = ("amazon-json", "yelp-json", "yelp-ss", "csv", "tsv", "tsv-unquoted", "parquet", "peter-pickle",
           "movielens-dat")


def reviews_in(folder: Path) -> Path:
    """The review file of a data folder: ``reviews.json.gz`` (``.json``, ``.csv``, ``.pickle``),
    as whyrec's data folders and the PETER benchmark name it, or MovieLens' ``ratings.csv`` or
    ``ratings.dat``; else its one review-like file that
    is not item metadata (``meta*``), as an Amazon Reviews 2023 download holds ``X.jsonl`` beside
    ``meta_X.jsonl``; of several, the one named as reviews (Yelp's ``yelp_academic_dataset_review.json``
    beside its business, user, tip and check-in files). Several others are an error naming them."""
    named = [folder / name for name in REVIEW_FILE_NAMES]
    found = next((p for p in named if p.is_file()), None)
    if found:
        return found
    # its one .json beside splits written elsewhere is a note, and an experiment's mt.json its results: not reviews
    if folder_kind(folder) in ("splits", "results"):
        raise DataError(f"not a data folder{misplaced(folder, 'data')}", path=folder)
    others = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("meta")
                    and p.name.lower().endswith(REVIEW_SUFFIXES))
    if len(others) == 1:
        return others[0]
    named_reviews = [p for p in others if "review" in p.name.lower()]
    if len(named_reviews) == 1:
        return named_reviews[0]
    elsewhere = misplaced(folder, "data")  # a bundle, a split, a results folder: not data
    if elsewhere:
        raise DataError(f"not a data folder{elsewhere}", path=folder)
    if not others:
        raise DataError("folder holds no review file (reviews.json.gz, MovieLens' ratings.csv or ratings.dat, or "
                        "one .jsonl/.json/.csv/.tsv/.parquet file, maybe gzipped, that is not meta*)", path=folder)
    raise DataError(f"folder holds several review files ({', '.join(p.name for p in others[:5])}"
                    f"{', ...' if len(others) > 5 else ''}); give the file", path=folder)


def detect_format(path: str | Path) -> str:
    """Choose a reader by the file's content (magic bytes, then the first record)."""
    path = Path(path).expanduser()
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:1] == b"\x80":
        return "peter-pickle"
    text = peek_text(path)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f\v")
    if controls > 0.01 * len(text):  # text files, in any encoding, hold next to no control characters
        kind = _binary_kind(head_bytes(path, 65536), path)
        if kind:
            raise DataError(kind, path=path)
        raise DataError("binary content: not a review file whyrec reads (JSON Lines, CSV/TSV, each maybe "
                        "gzipped; Parquet; a PETER pickle)", path=path)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            obj = {}
        if "business_id" in obj:
            return "yelp-json"
        return "amazon-json"
    if first.lstrip().startswith("["):  # one JSON document holding a list of review objects
        return "amazon-json"
    if first.count("\t\t") >= 3:
        return "yelp-ss"
    if MOVIELENS_LINE.fullmatch(first):
        return "movielens-dat"
    if "\t" in first:
        return "tsv"
    if "," in first or first.count(";") >= 3 or first.count("|") >= 3:  # ; and |: see csv_separator
        return "csv"
    if not first:
        raise DataError("file is empty (or holds only blank lines)", path=path)
    raise DataError("cannot tell the file format from its content; pass --format "
                    f"(one of {', '.join(FORMATS)})", path=path)


# files people keep reviews in that no reader reads, by their first bytes: what to do instead
_SAVE_AS_CSV = ("save the sheet as CSV, or read it with pandas.read_excel and pass the DataFrame to "
                "whyrec.data.corpus_from_frame")
_BINARY_KINDS = (
    (b"PK\x03\x04", "a zip archive: unpack it and give the review file inside"),
    (b"\xd0\xcf\x11\xe0", f"an Excel 97–2003 workbook (.xls): {_SAVE_AS_CSV}"),
    (b"ARROW1", "an Arrow/Feather file: write it as Parquet (pandas.read_feather(path).to_parquet(...)), or pass "
               "the DataFrame to whyrec.data.corpus_from_frame"),
    (b"SQLite format 3\x00", "an SQLite database: export the reviews table as CSV"),
)


def _binary_kind(head: bytes, path: Path) -> str | None:
    """What a binary file whyrec has no reader for is, and what to do, when its first bytes
    (decompressed, for a gzipped one) tell: a zip (an Excel .xlsx is one), an old Excel workbook,
    Arrow/Feather or SQLite."""
    for magic, said in _BINARY_KINDS:
        if head.startswith(magic):
            if magic.startswith(b"PK") and (b"xl/" in head or path.suffix.lower() in (".xlsx", ".xlsm")):
                return f"an Excel workbook: {_SAVE_AS_CSV}"
            return said
    return None


def load_corpus(
    path: str | Path,
    *,
    format: str | None = None,
    columns: dict[str, str] | None = None,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    strict: bool = False,
    duplicates: DuplicatePolicy = "keep-last",
    meta_path: str | Path | None = None,
    fold_unicode: bool = False,
) -> Corpus:
    """Read a review file into a validated :class:`Corpus`.

    ``format`` is detected from the content when not given. Item metadata is read from
    ``meta_path``, or from the file :func:`metadata_beside` finds next to the reviews.
    ``fold_unicode``: read the texts with :func:`whyrec.data.text.fold_to_ascii`.
    A PETER pickle's (feature, opinion, sentence, sentiment) quadruples are attached as
    ``corpus.features``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError("no such file", path=path)
    if path.is_dir():
        path = reviews_in(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise DataError(f"unknown format '{fmt}'{did_you_mean(fmt, list(FORMATS))}; known formats are "
                        f"{', '.join(FORMATS)}", path=path)
    if columns and fmt in ("yelp-ss", "peter-pickle", "movielens-dat"):
        raise DataError(f"a {fmt} file has fixed fields; --column (columns=) maps those of CSV, TSV, Parquet "
                        "and JSON files", path=path)
    report = ValidationReport(source=str(path))
    readers = {
        "amazon-json": lambda: read_amazon_json(path, report, strict, columns=columns),
        "yelp-json": lambda: read_amazon_json(path, report, strict, columns=columns),
        "yelp-ss": lambda: read_yelp_ss(path, report, strict),
        "csv": lambda: read_csv(path, report, strict, sep=csv_separator(path), columns=columns),
        # a TSV found by its content is checked for quotes written as text; --format tsv reads RFC 4180 quoting
        "tsv": lambda: read_csv(path, report, strict, sep="\t", columns=columns,
                                quotes_as_text=None if format is None else False),
        "tsv-unquoted": lambda: read_csv(path, report, strict, sep="\t", columns=columns, quotes_as_text=True),
        "parquet": lambda: read_parquet(path, report, strict, columns=columns),
        "peter-pickle": lambda: read_peter_pickle(path, report, strict),
        "movielens-dat": lambda: read_movielens_dat(path, report, strict),
    }
    if meta_path is None:
        meta_path = metadata_beside(path)
    elif not (meta_path := Path(meta_path).expanduser()).is_file():  # before the reviews: a typo costs no wait
        raise DataError("no such metadata file", path=meta_path)
    records: Iterable[RawRecord] = readers[fmt]()
    corpus = build_corpus(records, source=str(path), rating_scale=rating_scale, strict=strict,
                          duplicates=duplicates, report=report, fold_unicode=fold_unicode,
                          name=path.parent.name if path.name.split(".")[0] == "reviews" else path.name.split(".")[0])
    if meta_path:  # only the reviewed items' entries are kept; the titles the reviews gave fill those it lacks
        given = {item: entry["title"] for item, entry in corpus.item_meta.items()}
        reviewed = set(corpus.reviews["item"])
        described = read_item_metadata(meta_path, reviewed)
        if reviewed and not described:  # another category's file, or ids written otherwise
            warn_data(f"{meta_path}: the item metadata names none of the {len(reviewed):,} reviewed items (such "
                      f"as {next(iter(sorted(reviewed)))!r}): no titles from it")
        corpus.item_meta = with_titles(described, given)
    if fmt == "peter-pickle":
        feats = peter_features(path, fold_unicode)
        corpus.features = feats[feats["position"].isin(set(corpus.positions))].reset_index(drop=True)
    _warn_skipped(report)
    return corpus


def corpus_from_frame(
    frame: pd.DataFrame,
    *,
    columns: dict[str, str] | None = None,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    strict: bool = False,
    duplicates: DuplicatePolicy = "keep-last",
    item_meta: dict[str, dict] | None = None,
    name: str = "frame",
    fold_unicode: bool = False,
) -> Corpus:
    """Validate an in-memory table (one review per row) into a :class:`Corpus`, as :func:`load_corpus`
    does a file: columns found by the same names as a CSV's (or mapped with ``columns``), bad rows
    skipped and counted (or, ``strict``, the first raises :class:`DataError` naming its row, 1-based),
    duplicates by ``duplicates``, texts folded to ASCII with ``fold_unicode``."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}", path=f"<{name}>")
    source = f"<{name}>"
    report = ValidationReport(source=source)
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)  # column names as a file's header gives them
    names = list(frame.columns)
    repeated = next((c for c in names if names.count(c) > 1), None)
    if repeated is not None:  # frame[name] would be a table of them, not a column
        raise DataError(f"the column '{repeated}' appears {names.count(repeated)} times; keep one (rename or drop "
                        "the others)", path=source)
    found = table_columns(names, columns, source, report, command_line=False)
    records = table_records(frame, found, line_offset=1)
    corpus = build_corpus(records, source=source, rating_scale=rating_scale, strict=strict,
                          duplicates=duplicates, item_meta=item_meta, report=report, name=name,
                          fold_unicode=fold_unicode)
    _warn_skipped(report)
    return corpus


def _warn_skipped(report: ValidationReport) -> None:
    """One :class:`DataWarning` with the report's counts when any record was skipped, dropped as
    a repeated (user, item) pair (``duplicates``: keep-last or keep-first), or kept without the
    time it gave: a record left out is never left out unsaid."""
    if sum(report.skipped.values()) or report.duplicates_dropped or report.unreadable_times:
        warn_data(report.summary())
