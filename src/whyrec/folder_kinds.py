"""What a folder whyrec reads or writes is, told by the files it holds, so that one given in the
wrong place is told where it goes: a bundle given as ``--data``, a data folder given as the
bundle, a split folder given as ``--data``, a dataset's folder given as ``--split``.

    misplaced(Path("bundles/music"), "data")
    # "; it is a whyrec bundle (what `whyrec train --out` writes), not review data: give the
    #   reviews it was trained on"
"""

from __future__ import annotations

from pathlib import Path

_NOT = {"bundle": "a bundle", "data": "review data", "split": "a split"}
# the names a review file may end with (a data folder's one file of reviews is found by them)
REVIEW_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".ss",
                   ".pickle")
# the names a data folder's review file is looked for by first, in this order (whyrec's data folders
# and the PETER benchmark's; MovieLens')
REVIEW_FILE_NAMES = ("reviews.json.gz", "reviews.json", "reviews.csv", "reviews.pickle", "ratings.csv", "ratings.dat")


def folder_kind(folder: Path) -> str:
    """``bundle`` (it holds bundle.json), ``checkpoint`` (``epoch-*/state.json``: ``train
    --checkpoint``), ``split`` (train.index), ``data`` (a file named as reviews, or split
    sub-folders beside the review data they split), ``splits`` (split sub-folders alone, as ``data
    split --out`` writes them), ``bundles`` (sub-folders that are bundles), ``results`` (one of
    :data:`RESULTS_FILES`: an experiment's results.json, ``experiment mt``'s mt.json or
    mt_splits.json), or ``""`` for a folder of none of these (or no folder, or one that cannot be
    read). The first of these that fits is the kind, so a data folder keeping the bundles trained
    on it is still a data folder."""
    try:
        return _kind(folder)
    except OSError:  # a folder without read permission: the error it is called for says enough
        return ""


def _kind(folder: Path) -> str:
    if not folder.is_dir():
        return ""
    if (folder / "bundle.json").is_file():
        return "bundle"
    if any(folder.glob("epoch-*/state.json")):
        return "checkpoint"
    if (folder / "train.index").is_file():
        return "split"
    if any(folder.glob("reviews.*")) or any((folder / name).is_file() for name in REVIEW_FILE_NAMES):
        return "data"
    if any(folder.glob("*/train.index")):  # a dataset's folder holds its reviews beside its splits
        return "data" if _holds_the_split_data(folder) else "splits"
    if any((p / "bundle.json").is_file() for p in folder.iterdir()):
        return "bundles"
    if _results_file(folder):
        return "results"
    return ""


# the file an experiment's results folder holds: `experiment rating|explain` and `compare`'s, `experiment
# mt`'s on one split, and its summary over several
RESULTS_FILES = ("results.json", "mt.json", "mt_splits.json")


def _results_file(folder: Path) -> str:
    """The first of :data:`RESULTS_FILES` that ``folder`` holds ("" for none)."""
    return next((name for name in RESULTS_FILES if (folder / name).is_file()), "")


def _holds_the_split_data(folder: Path) -> bool:
    """Whether a folder of split sub-folders holds review data beside them (one holding a file of
    :data:`REVIEW_FILE_NAMES` is data before this is asked): a review-like file named as reviews
    (``yelp_…_review.json``); else the file their ``run.json`` records as the data they split
    (``whyrec data split`` writes it; by name, so that a copied folder is still one); else, where
    no split records one (the PETER benchmark's folders), any file of a review file's suffixes. So
    a note beside splits written elsewhere (``notes.json``) does not make their folder a data folder."""
    from whyrec.provenance import read_run_record, record_view

    files = {p.name for p in folder.iterdir() if p.is_file()}
    review_like = [name for name in files if name.lower().endswith(REVIEW_SUFFIXES)]
    if any("review" in name.lower() for name in review_like):
        return True
    views = (record_view(read_run_record(split.parent)) for split in folder.glob("*/train.index"))
    recorded = {Path(view["data_path"]).name for view in views if view and view["data_path"]}
    return bool(recorded & files) if recorded else bool(review_like)


def misplaced(folder: Path, wanted: str) -> str:
    """What ``folder``, given where ``wanted`` (``bundle``, ``data`` or ``split``) goes, is told it
    is and where it goes instead: ``"; it is …"`` to end an error's message, or ``""`` when it is
    of the kind wanted or of no kind whyrec knows."""
    kind = folder_kind(folder)
    if kind == wanted or not kind:
        return ""
    inside = _bundles_inside(folder)
    if wanted == "bundle" and inside:  # a folder of bundles, or data kept with the bundles trained on it
        return f"; the bundles are in its sub-folders: {inside}"
    if kind == "bundle":
        trained_on = ": give the reviews it was trained on" if wanted == "data" else ""
        return f"; it is a whyrec bundle (what `whyrec train --out` writes), not {_NOT[wanted]}{trained_on}"
    if kind == "checkpoint":
        if wanted == "bundle":
            return "; it is a training checkpoint: rerun the same `whyrec train` with --checkpoint to resume, " \
                   "and give the bundle it writes in --out"
        return f"; it is a training checkpoint (`whyrec train --checkpoint`), not {_NOT[wanted]}"
    if kind == "bundles":
        return f"; it is a folder of whyrec bundles ({inside}), not {_NOT[wanted]}"
    if kind == "split":
        parent = folder.resolve().parent
        data = f"; the data is in {folder.parent}" if wanted == "data" and folder_kind(parent) == "data" else ""
        return f"; it is a split (train/validation/test.index), which goes in --split{data}"
    if kind == "splits":
        return f"; it holds splits, each of which goes in --split: give one, as --split {_first_split(folder)}"
    if kind == "data":
        if wanted == "bundle":
            return "; it holds review data, which goes in --data: train a bundle on it with `whyrec train`"
        first = _first_split(folder)
        split = f"; give one of its splits, as --split {first}" if first else ""
        return f"; it is a data folder, which goes in --data{split}"
    return f"; it is the results folder of a whyrec experiment ({_results_file(folder)}), not {_NOT[wanted]}"


def _first_split(folder: Path) -> Path | None:
    """The first of the split folders in ``folder``, in the order of their numbers (2 before 10)."""
    names = sorted((p.parent.name for p in folder.glob("*/train.index")),
                   key=lambda name: (not name.isdigit(), int(name) if name.isdigit() else 0, name))
    return folder / names[0] if names else None


def _bundles_inside(folder: Path) -> str:
    """The names of the bundles among ``folder``'s sub-folders, the first five shown ("" for none)."""
    inside = sorted(p.name for p in folder.iterdir() if (p / "bundle.json").is_file())
    return ", ".join(inside[:5]) + (", …" if len(inside) > 5 else "")
