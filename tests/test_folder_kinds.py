"""A folder given in the wrong place is told what it is and where it goes: a bundle as --data, a
data folder as the bundle or as --split, a split as --data, a results folder as either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REVIEWS
from whyrec.errors import DataError
from whyrec.folder_kinds import folder_kind, misplaced

CSV = "user,item,rating,text\n" + "".join(f'{u},{i},{r},"{t}"\n' for u, i, r, t in REVIEWS)


def _folders(root: Path) -> dict[str, Path]:
    """One folder of each kind whyrec writes or reads, as it lays them out."""
    made = {kind: root / kind for kind in ("bundle", "checkpoint", "bundles", "data", "split", "splits", "results",
                                           "other")}
    (made["bundle"]).mkdir()
    (made["bundle"] / "bundle.json").write_text("{}")
    (made["bundle"] / "run.json").write_text("{}")
    (made["checkpoint"] / "epoch-0003").mkdir(parents=True)
    (made["checkpoint"] / "epoch-0003" / "state.json").write_text("{}")
    (made["bundles"] / "gift-als").mkdir(parents=True)
    (made["bundles"] / "gift-als" / "bundle.json").write_text("{}")
    made["split"] = made["data"] / "2"
    made["split"].mkdir(parents=True)
    for part, rows in (("train", "0 1 2 3"), ("validation", "4"), ("test", "5")):
        (made["split"] / f"{part}.index").write_text(rows + "\n")
    (made["data"] / "reviews.csv").write_text(CSV)
    (made["splits"] / "1").mkdir(parents=True)  # as `whyrec data split --out` writes them, without the reviews
    (made["splits"] / "1" / "train.index").write_text("0\n")
    made["results"].mkdir()
    for name in ("results.json", "results.csv", "run.json"):
        (made["results"] / name).write_text("{}")
    made["other"].mkdir()
    return made


def test_each_kind_of_folder_is_told_by_what_it_holds(tmp_path):
    folders = _folders(tmp_path)
    assert {kind: folder_kind(path) for kind, path in folders.items()} == {
        "bundle": "bundle", "checkpoint": "checkpoint", "bundles": "bundles", "data": "data", "split": "split",
        "splits": "splits", "results": "results", "other": ""}
    assert folder_kind(tmp_path / "absent") == folder_kind(folders["data"] / "reviews.csv") == ""


def test_a_folder_where_another_kind_goes_is_told_where_it_goes(tmp_path):
    f = _folders(tmp_path)
    assert misplaced(f["bundle"], "bundle") == misplaced(f["data"], "data") == misplaced(f["other"], "data") == ""
    assert misplaced(f["bundle"], "data") == ("; it is a whyrec bundle (what `whyrec train --out` writes), not review "
                                              "data: give the reviews it was trained on")
    assert misplaced(f["bundle"], "split").endswith(", not a split")
    assert misplaced(f["split"], "data") == (f"; it is a split (train/validation/test.index), which goes in --split; "
                                             f"the data is in {f['data']}")
    assert misplaced(f["data"], "split") == f"; it is a data folder, which goes in --data; give one of its splits, " \
                                            f"as --split {f['data'] / '2'}"
    (f["data"] / "10").mkdir()
    (f["data"] / "10" / "train.index").write_text("0\n")
    assert misplaced(f["data"], "split").endswith(f"--split {f['data'] / '2'}")  # in the order of their numbers
    assert misplaced(f["data"], "bundle").startswith("; it holds review data, which goes in --data")
    # a folder of splits alone (`data split --out`) is not called data, even with a note beside them
    (f["splits"] / "README.md").write_text("split by time")
    assert misplaced(f["splits"], "split") == misplaced(f["splits"], "data") == \
        f"; it holds splits, each of which goes in --split: give one, as --split {f['splits'] / '1'}"
    assert misplaced(f["results"], "bundle").endswith("experiment (results.json), not a bundle")
    from whyrec.data import load_corpus

    for name in ("mt.json", "mt_splits.json"):  # experiment mt's, on one split and over several
        (tmp_path / name).mkdir()
        (tmp_path / name / name).write_text("{}")
        assert misplaced(tmp_path / name, "data").endswith(f"experiment ({name}), not review data")
        with pytest.raises(DataError, match=rf"not a data folder; it is the results folder of a whyrec experiment "
                                            rf"\({name}\)"):  # its one .json file is not read as reviews
            load_corpus(tmp_path / name)
    assert misplaced(f["bundles"], "data") == "; it is a folder of whyrec bundles (gift-als), not review data"
    assert misplaced(f["checkpoint"], "split") == \
        "; it is a training checkpoint (`whyrec train --checkpoint`), not a split"


def test_the_readers_refuse_a_misplaced_folder_with_where_it_goes_and_read_a_data_folder_as_before(tmp_path):
    """A bundle given as --data had been 'folder holds several review files (bundle.json, run.json);
    give the file', a split as --data 'holds no review file', a data folder as --split
    'train.index: split index file not found'."""
    from whyrec.data import fixed_index_split, load_corpus, split_folders

    f = _folders(tmp_path)
    with pytest.raises(DataError, match="not a data folder; it is a whyrec bundle .*, not review data: give the"):
        load_corpus(f["bundle"])
    with pytest.raises(DataError, match="not a data folder; it is a split .*; the data is in "):
        load_corpus(f["split"])
    with pytest.raises(DataError, match="not a data folder; it is the results folder of a whyrec experiment"):
        load_corpus(f["results"])
    corpus = load_corpus(f["data"])
    with pytest.raises(DataError, match=r"not a split folder \(no train.index\); it is a data folder, which goes in "
                                        r"--data; give one of its splits, as --split"):
        fixed_index_split(corpus, f["data"])
    with pytest.raises(DataError, match="found: none; it is a whyrec bundle"):
        split_folders(f["bundle"], "1")
    assert fixed_index_split(corpus, f["split"]).sizes() == {"train": 4, "valid": 1, "test": 1}
    # a folder of a review file and a command's run.json is still asked which file it means
    (f["other"] / "shop.csv").write_text(CSV)
    (f["other"] / "run.json").write_text("{}")
    with pytest.raises(DataError, match=r"folder holds several review files \(run.json, shop.csv\); give the file$"):
        load_corpus(f["other"])


def _split_of(folder: Path, data: Path | None) -> None:
    """A split in ``folder`` whose run.json records ``data`` as what it split (none: no run.json)."""
    folder.mkdir(parents=True)
    (folder / "train.index").write_text("0\n")
    if data is not None:
        (folder / "run.json").write_text(json.dumps({"command": "whyrec data split", "data": {"path": str(data)}}))


def test_a_note_beside_splits_written_elsewhere_does_not_make_their_folder_data(tmp_path):
    """A folder of splits with a notes.json beside it had been a data folder: --data read the note as
    reviews ("no record has a key for 'user', …") and --split said "it is a data folder"."""
    from whyrec.data import load_corpus

    splits = tmp_path / "splits"
    _split_of(splits / "1", tmp_path / "shop" / "reviews.csv")
    (splits / "notes.json").write_text('{"why": "split by time"}')
    assert folder_kind(splits) == "splits"
    with pytest.raises(DataError, match=r"not a data folder; it holds splits, each of which goes in --split: give "
                                        r"one, as --split .*1$"):
        load_corpus(splits)
    # the file the splits record, beside them (`data split` with no --out; or the folder copied): data
    (splits / "shop.csv").write_text(CSV)
    (splits / "1" / "run.json").write_text(json.dumps({"data": {"path": "/elsewhere/shop.csv"}}))
    assert folder_kind(splits) == "data"
    with pytest.raises(DataError, match=r"several review files \(notes.json, shop.csv\); give the file$"):
        load_corpus(splits)
    assert len(load_corpus(splits / "shop.csv")) == len(REVIEWS)


@pytest.mark.parametrize("name", ["reviews.csv", "ratings.csv", "ratings.dat", "book_reviews.csv"])
def test_a_file_named_as_reviews_beside_splits_is_data_whatever_the_splits_record(tmp_path, name):
    """Splits drawn from another file (a raw export, cleaned since) do not make the folder of the
    cleaned reviews anything but a data folder."""
    folder = tmp_path / "shop"
    _split_of(folder / "1", tmp_path / "raw.csv")
    (folder / name).write_text(CSV)
    assert folder_kind(folder) == "data"


def test_splits_that_record_no_data_beside_a_review_like_file_are_data_as_the_benchmarks_lay_them_out(tmp_path):
    """The PETER benchmark's folders (and the shared data) hold reviews.pickle or a .json.gz beside
    splits 1..5 that have no run.json: any file of a review file's suffixes makes them data."""
    folder = tmp_path / "peter"
    _split_of(folder / "1", None)
    (folder / "shop.jsonl").write_text("")
    assert folder_kind(folder) == "data"
    (folder / "shop.jsonl").unlink()
    assert folder_kind(folder) == "splits"


def _bundle_in(folder: Path, name: str = "shop-mt") -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "bundle.json").write_text("{}")


@pytest.mark.parametrize("name", ["reviews.csv", "ratings.dat"])
def test_a_data_folder_keeping_the_bundles_trained_on_it_is_still_data(tmp_path, name):
    """It had been "a folder of bundles": asked for its splits, a data folder holding ``train --out
    shop/shop-mt`` was told "it is a folder of whyrec bundles (shop-mt), not review data"."""
    from whyrec.data import load_corpus, split_folders

    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / name).write_text(CSV if name.endswith(".csv") else "")
    _bundle_in(folder)
    assert folder_kind(folder) == "data" and misplaced(folder, "data") == ""
    with pytest.raises(DataError, match=r"no split folder 1 with a train.index; found: none$"):
        split_folders(folder, "1")
    if name == "reviews.csv":
        assert len(load_corpus(folder)) == len(REVIEWS)
    # given where a bundle goes, it is told the bundles it holds, not to train one
    assert misplaced(folder, "bundle") == "; the bundles are in its sub-folders: shop-mt"


def test_folders_of_splits_and_splits_keeping_bundles_stay_what_they_are(tmp_path):
    recorded = tmp_path / "shop"  # a data folder told by the file its splits record, not by its name
    _split_of(recorded / "1", tmp_path / "elsewhere" / "shop.csv")
    (recorded / "shop.csv").write_text(CSV)
    _bundle_in(recorded)
    splits = tmp_path / "splits"
    _split_of(splits / "1", tmp_path / "shop.csv")
    _bundle_in(splits)
    _bundle_in(splits / "1")
    assert [folder_kind(f) for f in (recorded, splits, splits / "1")] == ["data", "splits", "split"]
    assert misplaced(splits, "bundle") == misplaced(splits / "1", "bundle") == \
        "; the bundles are in its sub-folders: shop-mt"
    bundles = tmp_path / "bundles"  # bundles beside a note: still a folder of bundles
    _bundle_in(bundles)
    (bundles / "notes.json").write_text("{}")
    assert folder_kind(bundles) == "bundles" and misplaced(bundles, "data").startswith("; it is a folder of whyrec")
