"""Formats whose fields are fixed, so no column mapping applies: Tang et al.'s Yelp ``.ss``,
MovieLens' ``ratings.dat`` and the PETER benchmark's ``reviews.pickle`` (read by an unpickler
that builds plain data only)."""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Iterator

import pandas as pd

from whyrec.data.corpus import RawRecord, ValidationReport
from whyrec.data.readers.text_files import iter_lines
from whyrec.data.text import fold_to_ascii
from whyrec.errors import DataError, UnsafePickleError


def read_yelp_ss(path: Path, report: ValidationReport, strict: bool = False) -> Iterator[RawRecord]:
    """Tang et al. (2015) Yelp 2013/2014 ``.ss`` files: ``user\\t\\tproduct\\t\\trating\\t\\ttext``."""
    for number, line in iter_lines(path, report):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        parts = line.split("\t\t")
        if len(parts) < 4:
            report.unreadable(f"expected 4 fields separated by double tabs, found {len(parts)}", "malformed line",
                              strict=strict, line=number + 1)
            continue
        # the .ss texts mark sentence ends with <sssss>
        text = "\t\t".join(parts[3:]).replace("<sssss>", " ")
        yield RawRecord(user=parts[0], item=parts[1], rating=parts[2], text=text, position=number, line=number + 1)


def read_movielens_dat(path: Path, report: ValidationReport, strict: bool = False) -> Iterator[RawRecord]:
    """MovieLens 1M and 10M ``ratings.dat``: ``UserID::MovieID::Rating::Timestamp`` per line, no
    header and no text, so the corpus holds ratings only (``report.ratings_only``)."""
    report.ratings_only = True
    for number, line in iter_lines(path, report):
        if not line.strip():
            continue
        parts = line.strip().split("::")
        if len(parts) != 4:
            report.unreadable(f"expected 4 fields separated by '::' (UserID::MovieID::Rating::Timestamp), found "
                              f"{len(parts)}", "malformed line", strict=strict, line=number + 1)
            continue
        yield RawRecord(user=parts[0], item=parts[1], rating=parts[2], text=None, time=parts[3], position=number,
                        line=number + 1)


MOVIELENS_LINE = re.compile(r"\s*[^:\s]+::[^:\s]+::\d+(\.\d+)?::\d+\s*")


# --- the PETER benchmark pickle -------------------------------------------------------------------
class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain containers and scalars.

    Lists, dicts, tuples, strings, numbers, booleans and None are built by pickle opcodes
    and never reach :meth:`find_class`; sets and frozensets are allowed by name. Any other
    global (``os.system``, a class to instantiate, ...) is refused, so loading a hostile
    file cannot run code.
    """

    ALLOWED = {("builtins", "set"), ("builtins", "frozenset")}

    def __init__(self, file, path: Path) -> None:
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"pickle refers to {module}.{name}; only plain containers and scalars are allowed",
            path=self.path,
        )


def load_plain_pickle(path: Path):
    """Read a pickle that holds only plain data (see :class:`PlainDataUnpickler`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return PlainDataUnpickler(io.BytesIO(data), path).load()
    except UnsafePickleError:
        raise
    except Exception as exc:
        raise DataError(f"not a readable pickle: {exc}", path=path) from None


def read_peter_pickle(path: Path, report: ValidationReport, strict: bool = False) -> Iterator[RawRecord]:
    """PETER/PEPLER ``reviews.pickle``: a list of dicts with user, item, rating, template.

    ``template`` is (feature, adjective, sentence, sentiment); the sentence becomes the
    record's text and the quadruple is kept by :func:`peter_features`.
    """
    records = load_plain_pickle(path)
    if not isinstance(records, list):
        raise DataError(f"expected a list of records, found {type(records).__name__}", path=path)
    for number, obj in enumerate(records):
        if not isinstance(obj, dict):
            report.unreadable("record is not a dict", "malformed record", strict=strict, line=number + 1)
            continue
        template = obj.get("template")
        sentence = template[2] if isinstance(template, (tuple, list)) and len(template) >= 3 else obj.get("text")
        yield RawRecord(user=obj.get("user"), item=obj.get("item"), rating=obj.get("rating"), text=sentence,
                        time=obj.get("time"), position=number, line=number + 1)


def peter_features(path: Path, fold_unicode: bool = False) -> pd.DataFrame:
    """The (feature, opinion, sentence, sentiment) quadruples of a PETER pickle, by position;
    ``fold_unicode``: their words written in ASCII as the review texts are (:func:`fold_to_ascii`),
    so that the explanation targets and feature words match the folded reviews."""
    rows = []
    write = fold_to_ascii if fold_unicode else str
    for number, obj in enumerate(load_plain_pickle(path)):
        template = obj.get("template") if isinstance(obj, dict) else None
        if isinstance(template, (tuple, list)) and len(template) >= 4:
            fea, adj, sentence, score = template[:4]
            rows.append((number, write(str(fea)), write(str(adj)), write(str(sentence)), int(score)))
    return pd.DataFrame(rows, columns=["position", "feature", "opinion", "sentence", "sentiment"])
