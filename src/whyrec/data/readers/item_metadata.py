"""Item metadata: Amazon's (2014, 2018, 2023) JSON lines and MovieLens' movie lists, and where
each is found beside a review file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from whyrec.data.corpus import ValidationReport
from whyrec.data.readers.json_reviews import parsed_objects
from whyrec.data.readers.text_files import iter_lines
from whyrec.data.text import clean_html
from whyrec.errors import DataError
from whyrec.ids import stripped_id
from whyrec.wording import counted


def read_item_metadata(path: str | Path, items: set[str] | None = None) -> dict[str, dict]:
    """Amazon item metadata JSON lines → {item: {title, category, description, brand}}. 2014 and
    2018: asin, title, category (2014: categories, a list of paths), description, brand. 2023:
    parent_asin (the item key of its reviews), title, categories (often empty; then
    main_category), description, store (as the brand). Yelp's ``business.json`` is read alike:
    business_id, name (as the title), categories (one string, ``"Pizza, Italian"``) and city (as
    the brand, which names an item that has no title). With ``items``, only those are kept (a
    category's metadata file lists millions of items that its 5-core reviews never name), and
    only lines that can name one of them are parsed (``_may_name``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such metadata file", path=path)
    if path.name in MOVIELENS_MOVIES:
        return read_movielens_movies(path, items)
    report = ValidationReport(source=str(path))
    meta: dict[str, dict] = {}
    lines = iter_lines(path, report)
    if items is not None:
        lines = ((number, line) for number, line in lines if _may_name(line, items))
    objects = keyed = 0
    for _, obj in parsed_objects(lines, report, strict=False):
        objects += 1
        key = obj.get("parent_asin") or obj.get("asin") or obj.get("business_id")
        item = stripped_id(str(key)) if key else ""  # as the reviews' item ids are read
        keyed += bool(item)
        if not item or items is not None and item not in items:
            continue
        categories = obj.get("category") or obj.get("categories") or []
        if isinstance(categories, str):  # Yelp: "Pizza, Italian"
            categories = categories.split(",")
        if categories and isinstance(categories[0], list):  # 2014: list of category paths
            categories = categories[0]
        if not categories and isinstance(obj.get("main_category"), str):
            categories = [obj["main_category"]]
        meta[item] = {
            "title": clean_html(obj.get("title") or obj.get("name")),
            "category": [clean_html(c) for c in categories if clean_html(c)],
            "description": clean_html(obj.get("description")),
            "brand": clean_html(obj.get("brand") or obj.get("store") or obj.get("city")),
        }
    _check_read_as_metadata(path, report, objects, keyed)
    return meta


def _check_read_as_metadata(path: Path, report: ValidationReport, objects: int, keyed: int) -> None:
    """Refuse a file that holds no item metadata at all, rather than give every item no title: no
    line read is a JSON object (``objects``), or no object names its item (``keyed``)."""
    if report.skipped and not objects:
        raise DataError("holds no item metadata: no line read is a JSON object (whyrec reads Amazon's metadata JSON "
                        "lines, Yelp's business.json, and MovieLens' movies.dat or movies.csv)", path=path)
    if objects and not keyed:
        raise DataError(f"holds no item metadata: {counted(objects, 'JSON object')} read, none with an asin, "
                        "parent_asin or business_id key naming its item", path=path)


MOVIELENS_MOVIES = ("movies.dat", "movies.csv")


def read_movielens_movies(path: Path, items: set[str] | None = None) -> dict[str, dict]:
    """MovieLens' movie list as item metadata, {movie id: {title, category (its genres), description,
    brand}}: ``movies.dat`` (1M, 10M: ``MovieID::Title::Genres``) or ``movies.csv`` (``movieId,title,
    genres``, titles quoted where they hold a comma); genres are separated by ``|``. A line that
    does not read so is left out; with ``items``, only those movies are kept."""
    if path.name.endswith(".csv"):
        rows = csv.reader(line for _, line in iter_lines(path))
        next(rows, None)  # the header
    else:
        rows = (line.rstrip("\r\n").split("::") for _, line in iter_lines(path))
    meta: dict[str, dict] = {}
    for row in rows:
        movie = stripped_id(row[0]) if len(row) == 3 else None
        if movie is None or (items is not None and movie not in items):
            continue
        genres = [g for g in row[2].split("|") if g and g != "(no genres listed)"]
        meta[movie] = {"title": row[1].strip(), "category": genres, "description": "", "brand": ""}
    return meta


# the value of an "asin" or "parent_asin" key, in JSON or in a 2014 file's Python literal
# (the pattern starts with a literal, which the regex engine finds fast: a leading quote class
# made it slower than parsing)
_ITEM_KEY_VALUE = re.compile(r"""asin["']\s*:\s*["']([^"']*)""")
_BUSINESS_KEY_VALUE = re.compile(r"""business_id["']\s*:\s*["']([^"']*)""")  # Yelp's, looked for where no asin is


def _may_name(line: str, items: set[str]) -> bool:
    """Whether a metadata line can describe one of ``items``, without parsing it: some
    "asin"/"parent_asin" value on it (Yelp's: "business_id") is among them, or it has none that the
    patterns see (then parsing decides). It never skips a wanted line: the item key's value is among
    the values found. Parsing only candidates makes a category's metadata (millions of lines)
    several times faster to read."""
    values = _ITEM_KEY_VALUE.findall(line) or _BUSINESS_KEY_VALUE.findall(line)
    return not values or any(stripped_id(value) in items for value in values)


def metadata_beside(path: Path) -> Path | None:
    """The item metadata file next to a review file, when there is one: ``meta.json(.gz)`` (the
    layout of whyrec's data folders), or ``meta_X`` as the Amazon dumps name it beside their
    reviews of category X: ``X.jsonl`` → ``meta_X.jsonl`` (2023), ``X.json.gz`` and ``X_5.json.gz``
    (its 5-core) → ``meta_X.json.gz`` (2018), ``reviews_X_5.json.gz`` → ``meta_X.json.gz`` (2014);
    each plain or gzipped. Beside MovieLens' ``ratings.dat`` or ``ratings.csv``: its ``movies.dat``
    or ``movies.csv``; beside Yelp's ``yelp_academic_dataset_review.json``: its
    ``yelp_academic_dataset_business.json``."""
    if path.name in ("ratings.dat", "ratings.csv"):  # MovieLens: the movie list beside the ratings
        return next((path.parent / name for name in MOVIELENS_MOVIES if (path.parent / name).is_file()), None)
    if "yelp_academic_dataset_review" in path.name:
        business = path.parent / path.name.replace("_review", "_business")
        return business if business.is_file() else None
    stem = path.name.split(".")[0]
    category = stem.removeprefix("reviews_")
    categories = dict.fromkeys([stem, category, category.removesuffix("_5")])  # in that order, once each
    names = ["meta.json.gz", "meta.json"] + [f"meta_{c}{suffix}" for c in categories
                                             for suffix in (".jsonl", ".jsonl.gz", ".json", ".json.gz")]
    return next((path.parent / name for name in names if (path.parent / name).is_file()), None)
