"""Train/validation/test splits, all deterministic given a seed.

* :func:`fixed_index_split`: the PETER benchmark folders (``<k>/{train,validation,test}.index``,
  one line of 0-based record positions each); :func:`write_index_split` writes one,
  :func:`split_folders` lists those of a dataset folder.
* :func:`ratio_split`: random 80/10/10 (or any ratios) with warm-start repair.
* :func:`kfold_splits`: k-fold cross-validation (the MT paper used 10 folds).
* :func:`leave_last_out`: per user, the latest record is test, the one before validation.

*Warm-start repair* moves every validation/test record whose user or item does not occur in
train into train, so that evaluated users and items are known to every model — the rule the
shared benchmark splits were built with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whyrec.data.cores import k_core_rows
from whyrec.data.corpus import Corpus
from whyrec.errors import ConfigError, DataError, warn_data
from whyrec.folder_kinds import misplaced
from whyrec.temporary_names import text_writer, write_together_in

# a fixed split indexing fewer of the file's records than this share is probably another file's
SPLIT_COVERAGE = 0.9


@dataclass
class Split:
    """Three disjoint corpora over one source; ``valid`` may be empty. ``folder``: the index files'
    folder of a fixed split (:func:`fixed_index_split`), None for one drawn at random; ``dropped``:
    how many positions its index files list that validation dropped (empty text, duplicates);
    ``moved_to_train``: how many records drawn for validation or test warm-start repair moved to train."""

    train: Corpus
    valid: Corpus
    test: Corpus
    name: str = "split"
    folder: Path | None = None
    dropped: int = 0
    moved_to_train: int = 0

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{part} {n:,}" for part, n in self.sizes().items())
        origin = f" (index files in {str(self.folder)!r})" if self.folder else ""
        return f"<Split {self.name!r}{origin}: {sizes} reviews>"


def _make_split(corpus: Corpus, train: np.ndarray, valid: np.ndarray, test: np.ndarray, name: str) -> Split:
    return Split(corpus.take(np.sort(train), name=f"{corpus.name}/train"),
                 corpus.take(np.sort(valid), name=f"{corpus.name}/valid"),
                 corpus.take(np.sort(test), name=f"{corpus.name}/test"), name=name)


def warm_start_repair(corpus: Corpus, train: np.ndarray, others: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Move rows of ``others`` whose user or item is absent from ``train`` into train.

    One pass suffices: moving rows only adds users and items to train, so a row kept
    out of train stays valid.
    """
    users, items = corpus.users, corpus.items
    train_users, train_items = set(users[train]), set(items[train])
    kept, moved = [], []
    for rows in others:
        ok = np.array([users[r] in train_users and items[r] in train_items for r in rows], dtype=bool)
        kept.append(rows[ok])
        moved.append(rows[~ok])
    return np.concatenate([train, *moved]).astype(np.int64), kept


def split_label(split_name: str) -> str:
    """A split's own name, without its dataset's: ``amazon-gift-cards/3`` → ``3``."""
    return split_name.rsplit("/", 1)[-1]


def read_index_file(path: Path) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("split index file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:  # a folder of that name, no permission, binary
        raise DataError(f"cannot read the index file: {getattr(exc, 'strerror', None) or exc}", path=path) from None
    try:
        return np.array([int(tok) for tok in text.split()], dtype=np.int64)
    except ValueError:
        raise DataError(f"index files hold record positions, whole numbers separated by spaces; "
                        f"{_first_non_integer(text)}", path=path) from None


def _first_non_integer(text: str) -> str:
    """Where the first token of ``text`` that is not a whole number is: "line 2 holds 'x'"."""
    for number, line in enumerate(text.splitlines(), start=1):
        for token in line.split():
            try:
                int(token)
            except ValueError:
                return f"line {number} holds {token[:40]!r}"
    return "a token is not a whole number"


def split_folders(folder: str | Path, wanted: str = "all") -> list[Path]:
    """The fixed splits stored under a dataset ``folder``: its sub-folders holding ``train.index``
    (``1`` … ``5`` in the shared data), in numeric order; ``wanted`` is ``all`` or a comma list of
    their names (``1,3``). A name without such a folder is a :class:`DataError` listing those found,
    and so is a name given twice."""
    folder = Path(folder).expanduser()
    found = sorted((p for p in folder.iterdir() if p.is_dir() and (p / "train.index").exists()),
                   key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name)) \
        if folder.is_dir() else []
    if wanted == "all":
        return found
    by_name = {p.name: p for p in found}
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    missing = [n for n in names if n not in by_name]
    if missing or not names:
        raise DataError(f"no split folder {', '.join(missing) or repr(wanted)} with a train.index; found: "
                        f"{', '.join(by_name) or 'none'}{'' if by_name else misplaced(folder, 'data')}", path=folder)
    twice = next((n for k, n in enumerate(names) if n in names[:k]), None)
    if twice is not None:  # 1,1 is more likely a slip for 1,2 than a wish to score split 1 twice
        raise DataError(f"split {twice} is named twice in {wanted!r}", path=folder)
    return [by_name[n] for n in names]


def write_index_split(split: Split, folder: str | Path,
                      also: Mapping[str, Callable[[Path], None]] | None = None) -> Path:
    """Store ``split`` in ``folder`` as :func:`fixed_index_split` reads it: ``train``, ``validation``
    and ``test.index``, each one line of the records' 0-based positions in the source file, with
    the files of ``also`` (name: writer; ``data split`` gives its ``run.json``). A folder that
    already holds a split is refused (nothing is overwritten). The files are written under
    temporary names and renamed when all are whole: a full disk leaves none of them, not a folder
    that holds half a split (which a second try would refuse as holding one)."""
    folder = Path(folder).expanduser()
    if any((folder / f"{part}.index").exists() for part in ("train", "validation", "test")):
        raise DataError("already holds a split; choose another folder", path=folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = {part: " ".join(map(str, records.positions.tolist())) + "\n"
             for part, records in (("train", split.train), ("validation", split.valid), ("test", split.test))}
    # renamed into place once all are written: no half split, no split without its record
    write_together_in(folder, {**{f"{part}.index": text_writer(line) for part, line in lines.items()},
                               **(also or {})})
    return folder


def fixed_index_split(corpus: Corpus, folder: str | Path) -> Split:
    """The split stored in ``folder`` as ``train.index``, ``validation.index``, ``test.index``.

    Indices are record positions in the source file. Positions of records that validation
    dropped (empty text, duplicates) are ignored and counted in ``split.dropped``; an index
    beyond the file, or listed twice (in one part or two), is an error, and a split that
    indexes under ``SPLIT_COVERAGE`` of the user–item pairs of the records validation kept (another
    dataset's split fits a bigger file) gives a :class:`DataWarning`. Pairs, not records: the
    commands read a split's file with every duplicate pair kept (a split of the whole file may list
    them all), while ``whyrec data split`` by default writes one record of each pair.
    """
    folder = Path(folder).expanduser()
    if folder.is_file():
        raise DataError("a split is a folder of index files, not a file", path=folder)
    if not (folder / "train.index").exists() and (elsewhere := misplaced(folder, "split")):
        raise DataError(f"not a split folder (no train.index){elsewhere}", path=folder)
    row_of = {int(p): r for r, p in enumerate(corpus.positions)}
    max_pos = int(corpus.report.read) if corpus.report is not None else None
    parts, dropped = [], 0
    owner: dict[int, str] = {}  # position → the index file that lists it
    for part in ("train", "validation", "test"):
        path = folder / f"{part}.index"
        positions = read_index_file(path)
        outside = positions[(positions < 0) | (positions >= max_pos)] if max_pos is not None else []
        if len(outside):  # the first one is named (a negative index was reported as the largest one)
            raise DataError(f"index {int(outside[0])} is outside the {max_pos:,} records of "
                            f"{corpus.report.source} (0 to {max_pos - 1:,})", path=path)
        for position in positions.tolist():  # a record in two parts would be trained on and tested on
            if position in owner:
                where = "twice" if owner[position] == path.name else f"in {owner[position]} too"
                raise DataError(f"record {position} is listed {where}; the parts of a split are disjoint", path=path)
            owner[position] = path.name
        rows = [row_of[p] for p in positions.tolist() if p in row_of]
        dropped += len(positions) - len(rows)
        parts.append(np.array(rows, dtype=np.int64))
    if not len(parts[0]):  # nothing to fit: said here, not by the first model that tries
        why = "every record it lists was dropped: empty text, duplicates" if "train.index" in owner.values() \
            else "the index file is empty"
        raise DataError(f"the split's train part holds no record of the file ({why})", path=folder / "train.index")
    indexed = sum(len(p) for p in parts)
    core = recorded_k_core(folder)  # a split of the data's k-core (data split --k-core) covers that
    covered = corpus.reviews if core is None else corpus.reviews.iloc[k_core_rows(corpus.users, corpus.items, core)]
    pairs = len(covered.drop_duplicates(["user", "item"]))
    if indexed < SPLIT_COVERAGE * pairs:  # e.g. another dataset's split: it still fits
        of_pairs = f" ({pairs:,} user–item pairs)" if pairs < len(covered) else ""
        in_core = f" in the {core}-core" if core is not None else ""
        warn_data(f"{folder}: the split indexes {indexed:,} of the {len(covered):,} valid records{of_pairs}{in_core} "
                  f"of {corpus.report.source if corpus.report is not None else corpus.name}; is it a split of this "
                  "data?")
    split = _make_split(corpus, *parts, name=f"{corpus.name}/{folder.name}")
    split.dropped, split.folder = dropped, folder
    return split


def recorded_k_core(folder: Path) -> int | None:
    """The K of a split written by ``whyrec data split --k-core K``, as its ``run.json`` records it;
    None for any other split (and for a record that is not a whole number of at least 1)."""
    from whyrec.provenance import read_run_record

    k = (read_run_record(folder) or {}).get("k_core")
    return k if isinstance(k, int) and not isinstance(k, bool) and k >= 1 else None


def ratio_split(corpus: Corpus, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0,
                warm_start: bool = True) -> Split:
    """Shuffle records with ``seed`` and cut them by ``ratios`` (normalised to sum 1)."""
    weights = np.asarray(ratios, dtype=float)
    if weights.shape != (3,) or (weights < 0).any() or weights.sum() <= 0:
        raise ConfigError(f"ratios must be three non-negative numbers, not {ratios}")
    weights = weights / weights.sum()
    order = np.random.default_rng(seed).permutation(len(corpus))
    n_train = int(round(weights[0] * len(corpus)))
    n_valid = int(round(weights[1] * len(corpus)))
    train, valid, test = order[:n_train], order[n_train:n_train + n_valid], order[n_train + n_valid:]
    return _repaired_split(corpus, train, valid, test, warm_start, name=f"{corpus.name}/ratio-{seed}")


def _repaired_split(corpus: Corpus, train: np.ndarray, valid: np.ndarray, test: np.ndarray, warm_start: bool,
                    name: str) -> Split:
    """The split of these rows, after warm-start repair when asked, counting the records it moved."""
    drawn = len(train)
    if warm_start:
        train, (valid, test) = warm_start_repair(corpus, train, [valid, test])
    split = _make_split(corpus, train, valid, test, name=name)
    split.moved_to_train = len(train) - drawn
    return split


def kfold_splits(corpus: Corpus, k: int = 10, seed: int = 0, valid_share: float = 0.0,
                 warm_start: bool = True) -> list[Split]:
    """``k`` splits whose test parts partition the corpus, less the records warm-start repair moves
    to train (``Split.moved_to_train``).

    With ``valid_share`` > 0 that share of each fold's training records becomes validation.
    """
    return list(iter_kfold_splits(corpus, k, seed, valid_share, warm_start))


def iter_kfold_splits(corpus: Corpus, k: int = 10, seed: int = 0, valid_share: float = 0.0,
                      warm_start: bool = True) -> Iterator[Split]:
    """:func:`kfold_splits` one fold at a time (the same splits), for a caller that writes each
    and lets it go; a ``k`` out of range is refused at the call, not at the first fold."""
    if k < 2 or k > len(corpus):
        raise ConfigError(f"k-fold: k must be between 2 and the number of records ({len(corpus)}), not {k}")
    rng = np.random.default_rng(seed)
    folds = np.array_split(rng.permutation(len(corpus)), k)

    def each_fold() -> Iterator[Split]:
        for f in range(k):
            rest = np.concatenate(folds[:f] + folds[f + 1:])
            n_valid = int(round(valid_share * len(rest)))
            rest = rng.permutation(rest)
            valid, train = rest[:n_valid], rest[n_valid:]
            yield _repaired_split(corpus, train, valid, folds[f], warm_start, name=f"{corpus.name}/fold-{f + 1}of{k}")

    return each_fold()


def leave_last_out(corpus: Corpus) -> Split:
    """Per user, ordered by time (then file position): last record → test, the one before → validation.

    Users with one record keep it in train; with two, the last goes to test. Items that only
    occur in a user's last records are *not* repaired here: sequential tasks want the true
    next item, and rating models fall back to biases for unknown items.
    """
    frame = corpus.reviews.assign(_row=np.arange(len(corpus)))
    frame = frame.sort_values(["user", "time", "position"], na_position="first", kind="mergesort")
    rank_from_end = frame.groupby("user").cumcount(ascending=False).to_numpy()
    count = frame.groupby("user")["user"].transform("size").to_numpy()
    rows = frame["_row"].to_numpy()
    test = rows[(rank_from_end == 0) & (count >= 2)]
    valid = rows[(rank_from_end == 1) & (count >= 3)]
    train = rows[~np.isin(rows, np.concatenate([test, valid]))]
    return _make_split(corpus, train, valid, test, name=f"{corpus.name}/leave-last-out")
