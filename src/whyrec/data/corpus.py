"""The review corpus: one table of (user, item, rating, text, time) records plus item metadata.

Readers (``readers.py``) turn files into :class:`RawRecord` objects; :func:`build_corpus`
validates them and keeps the good ones. Every record remembers ``position``, its 0-based
place in the source file (the line of a JSON-lines file, the data row of a CSV), because the
benchmark split files of the PETER format index records by that position.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Literal, get_args

import numpy as np
import pandas as pd

from whyrec.data.field_values import clean_id, clean_rating, clean_time, html_markup, is_id_value, is_missing
from whyrec.errors import ConfigError, DataError
from whyrec.wording import counted, did_you_mean, shortened

DuplicatePolicy = Literal["keep-last", "keep-first", "keep-all", "error"]
DUPLICATE_POLICIES = get_args(DuplicatePolicy)
COLUMNS = ("user", "item", "rating", "text", "time", "summary", "position")


def check_duplicate_policy(duplicates: str, name: str = "duplicates") -> None:
    """Refuse a ``duplicates`` policy that is none of :data:`DUPLICATE_POLICIES`, naming it as
    ``name`` (the command line's ``--duplicates``) and the close one when there is one."""
    if duplicates not in DUPLICATE_POLICIES:
        raise ConfigError(f"{name} must be one of {', '.join(DUPLICATE_POLICIES)}, not '{duplicates}'"
                          + did_you_mean(duplicates, list(DUPLICATE_POLICIES)))


@dataclass
class RawRecord:
    """One record as a reader found it, before validation."""

    user: object
    item: object
    rating: object
    text: object
    position: int
    line: int | None = None  # 1-based line (or row) in the file, for error messages
    time: object = None
    summary: object = None
    item_title: object = None  # the item's name, where the review file gives it (product_title)


OUT_OF_SCALE = "rating out of scale"  # the reason a rating outside the data's scale is skipped for
# the reasons whose first record the summary shows (its line and value): a value that cannot be
# read says more than a count; a missing id or an empty text needs no example
EXAMPLED_REASONS = frozenset(("bad rating", "bad user id", "bad item id", "bad text", "malformed line"))


@dataclass
class ValidationReport:
    """What happened to the records of one source while building a corpus."""

    source: str
    read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    duplicates_dropped: int = 0
    kept_of_duplicates: str = ""  # which review of a repeated pair was kept: "latest" or "earliest"
    unreadable_times: int = 0  # valid records whose time could not be read (kept without one)
    first_unreadable_time: str = ""  # where the first of them is, and its value: "line 3: '01/10/2019'"
    truncated: bool = False
    # byte sequences that were not UTF-8, read as Windows-1252 instead (readers.iter_lines)
    not_utf8: int = 0
    # texts read with fold_to_ascii (whyrec.data.text), and how many it changed
    unicode_folded: bool = False
    texts_folded: int = 0
    # no review text in the source (readers.tables.table_columns, readers.json_reviews): every text empty
    ratings_only: bool = False
    # a TSV read with its quotes as text, each line one row (readers.tables.quotes_are_text)
    quotes_as_text: bool = False
    # the lowest and highest of the ratings skipped as outside the scale (None: none was)
    outside_scale: tuple[float, float] | None = None
    scale: tuple[float, float] | None = None  # the rating scale the records were checked against
    # the column (JSON key) each field was read from, and the source's columns read for no field (a
    # JSON file's: the keys of its records, of their first 1,000 key layouts); empty for the formats of
    # fixed fields
    columns: dict[str, str] = field(default_factory=dict)
    columns_not_read: list[str] = field(default_factory=list)
    column_word: str = "column"  # what the source calls a field's place: "key" in JSON
    # the first record skipped for a reason whose message names the value (EXAMPLED_REASONS): where and why
    first_skipped: dict[str, str] = field(default_factory=dict)
    # every user/item id seen in a record, valid or not: what a file "has"
    users_seen: set = field(default_factory=set, repr=False)
    items_seen: set = field(default_factory=set, repr=False)

    def unreadable(self, problem: str, reason: str, *, strict: bool, line: int | None) -> None:
        """A record the reader cannot make out (a line that is no JSON object, a row with too few
        fields): with ``strict`` a :class:`DataError` naming its line, else read, skipped and
        counted under ``reason``."""
        if strict:
            raise DataError(problem, path=self.source, line=line)
        self.read += 1
        self.skip(reason, problem, line)

    def skip(self, reason: str, problem: str, line: int | None) -> None:
        """Count a record skipped for ``reason``; the first one of a reason in :data:`EXAMPLED_REASONS`
        is kept with its line and ``problem``, for the summary to show what was wrong."""
        self.skipped[reason] += 1
        if reason in EXAMPLED_REASONS and reason not in self.first_skipped:
            self.first_skipped[reason] = _at_line(line, shortened(problem, 100))

    def summary(self) -> str:
        parts = [f"{counted(self.read, 'record')} read", f"{self.kept:,} kept"]
        for reason, count in sorted(self.skipped.items()):
            first = f"; the first, {self.first_skipped[reason]}" if reason in self.first_skipped else ""
            scale = self._outside_text() if reason == OUT_OF_SCALE else ""
            parts.append(f"{count:,} skipped ({reason}{scale}{first})")
        if self.duplicates_dropped:
            kept = f" (the {self.kept_of_duplicates} review of each pair kept)" if self.kept_of_duplicates else ""
            parts.append(f"{self.duplicates_dropped:,} duplicate (user, item) pairs dropped{kept}")
        if self.unreadable_times:
            first = f"; the first, {self.first_unreadable_time}" if self.first_unreadable_time else ""
            if re.search(r"\d{1,2}/\d{1,2}/\d{2,4}", self.first_unreadable_time):
                first += ": its day and month cannot be told apart; ISO dates (2019-01-10) are read"
            parts.append(f"{counted(self.unreadable_times, 'unreadable time')} (records kept without one{first})")
        if self.truncated:
            parts.append("file truncated")
        if self.not_utf8:
            parts.append(f"{counted(self.not_utf8, 'byte sequence')} not UTF-8 (read as Windows-1252)")
        if self.texts_folded:
            parts.append(f"{counted(self.texts_folded, 'text')} folded to ASCII")
        if self.ratings_only:
            parts.append(f"ratings only (no text {self.column_word})")
        if self.quotes_as_text:
            parts.append("quotes read as text (the file quotes no field)")
        return f"{self.source}: " + ", ".join(parts)

    def _outside_text(self) -> str:
        """The range of the ratings skipped as outside the scale, and how to widen the scale."""
        if self.outside_scale is None:
            return ""
        low, high = self.outside_scale
        values = f"{low:g}" if low == high else f"{low:g} to {high:g}"
        # outside the scale, a 0 is most often no rating: Goodreads' shelved-but-unrated books
        unrated = ", where 0 usually means not rated (Goodreads' shelved books)" if low == 0 else ""
        scale = f", outside {self.scale[0]:g} to {self.scale[1]:g}" if self.scale is not None else ""
        return f": {values}{scale}; --min-rating and --max-rating set the scale{unrated}"

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "read": self.read,
            "kept": self.kept,
            "skipped": dict(self.skipped),
            "duplicates_dropped": self.duplicates_dropped,
            "unreadable_times": self.unreadable_times,
            "first_unreadable_time": self.first_unreadable_time or None,
            "truncated": self.truncated,
            "not_utf8": self.not_utf8,
            "unicode_folded": self.unicode_folded,
            "texts_folded": self.texts_folded,
            "ratings_only": self.ratings_only,
            "quotes_as_text": self.quotes_as_text,
            "outside_scale": list(self.outside_scale) if self.outside_scale is not None else None,
            "scale": list(self.scale) if self.scale is not None else None,
            "users_seen": len(self.users_seen),
            "items_seen": len(self.items_seen),
            "columns": dict(self.columns),
            "columns_not_read": list(self.columns_not_read),
            "first_skipped": dict(self.first_skipped),
        }


def _at_line(line: int | None, what: str) -> str:
    """``what`` after the line it is on, as the summary shows a record: ``line 3: rating 'four' …``."""
    return (f"line {line:,}: " if line else "") + what


def display_title(meta: dict) -> str:
    """An item's title for people: its metadata's title, or, when that is empty, "brand (leaf
    category)" from the same metadata ("" when it has neither). In the Amazon 2018 magazines
    metadata 3,153 of 3,385 titles (148 of the 151 reviewed items') are a cut-off HTML tag, which
    cleans to nothing: "Reason Magazine (Economics & Economic Theory)" then names the item where
    its id alone would not."""
    title = meta.get("title") or ""
    if title:
        return title
    brand, categories = meta.get("brand") or "", meta.get("category") or []
    leaf = categories[-1] if categories else ""
    return f"{brand} ({leaf})" if brand and leaf else brand or leaf


class Corpus:
    """A table of reviews with a declared rating scale and optional item metadata.

    ``reviews`` has the columns ``user, item, rating, text, time, summary, position``;
    users and items are string ids. Subsets (``take``) share the metadata and the scale.
    """

    def __init__(
        self,
        reviews: pd.DataFrame,
        *,
        rating_scale: tuple[float, float] = (1.0, 5.0),
        item_meta: dict[str, dict] | None = None,
        report: ValidationReport | None = None,
        name: str = "corpus",
        features: pd.DataFrame | None = None,
    ) -> None:
        missing = [c for c in COLUMNS if c not in reviews.columns]
        if missing:
            raise ValueError(f"reviews table lacks columns {missing}")
        self.reviews = reviews.reset_index(drop=True)
        self.rating_scale = (float(rating_scale[0]), float(rating_scale[1]))
        self.item_meta = item_meta or {}
        self.report = report
        self.name = name
        # (position, feature, opinion, sentence, sentiment) rows; see whyrec.data.features
        self.features = features

    # --- basic views -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.reviews)

    def __repr__(self) -> str:
        low, high = self.rating_scale
        parts = [counted(len(self), "review"), counted(self.reviews["user"].nunique(), "user"),
                 counted(self.reviews["item"].nunique(), "item"), f"ratings {low:g} to {high:g}"]
        if self.ratings_only:
            parts.append("no text")
        return f"<Corpus {self.name!r}: {', '.join(parts)}>"

    @property
    def users(self) -> np.ndarray:
        return self.reviews["user"].to_numpy(dtype=object)

    @property
    def items(self) -> np.ndarray:
        return self.reviews["item"].to_numpy(dtype=object)

    @property
    def ratings(self) -> np.ndarray:
        return self.reviews["rating"].to_numpy(dtype=np.float64)

    @property
    def texts(self) -> list[str]:
        return self.reviews["text"].tolist()

    @property
    def positions(self) -> np.ndarray:
        return self.reviews["position"].to_numpy(dtype=np.int64)

    def user_ids(self) -> list[str]:
        return sorted(set(self.reviews["user"]))

    def item_ids(self) -> list[str]:
        return sorted(set(self.reviews["item"]))

    def take(self, rows: Iterable[int] | np.ndarray, name: str | None = None) -> "Corpus":
        """A new corpus holding the given rows (0-based row numbers of this corpus)."""
        rows = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
        reviews = self.reviews.iloc[rows].copy()
        features = None
        if self.features is not None:
            keep = self.features["position"].isin(set(reviews["position"].tolist()))
            features = self.features[keep].reset_index(drop=True)
        return Corpus(
            reviews,
            rating_scale=self.rating_scale,
            item_meta=self.item_meta,
            report=self.report,
            name=name or self.name,
            features=features,
        )

    @classmethod
    def concat(cls, parts: list["Corpus"], name: str | None = None) -> "Corpus":
        """One corpus holding the rows of ``parts`` (e.g. the three parts of a split), and their
        quadruples when every part has the file's own (a PETER pickle's)."""
        first = parts[0]
        given = [p.features for p in parts]
        features = pd.concat(given, ignore_index=True) if all(f is not None for f in given) else None
        return cls(pd.concat([p.reviews for p in parts], ignore_index=True), rating_scale=first.rating_scale,
                   item_meta=first.item_meta, report=first.report, name=name or first.name, features=features)

    @property
    def ratings_only(self) -> bool:
        """Whether the source had no review text (a table without a text column, JSON records without a
        text key, MovieLens' ratings.dat): every text is empty."""
        return bool(self.report is not None and self.report.ratings_only)

    def require_text(self, needed_by: str) -> None:
        """Refuse a ratings-only corpus (:attr:`ratings_only`) to what reads the reviews' text."""
        if self.ratings_only:
            word = self.report.column_word
            raise DataError(f"holds ratings only (no text {word}), and {needed_by} needs review text; "
                            f"map the text {word} with --column text=NAME (load_corpus: columns={{'text': NAME}})",
                            path=self.report.source)

    @property
    def unicode_folded(self) -> bool:
        """Whether the texts were read with :func:`whyrec.data.text.fold_to_ascii`."""
        return bool(self.report is not None and self.report.unicode_folded)

    def item_title(self, item: str) -> str | None:
        """The name people see for ``item`` (:func:`display_title` of its metadata); None without metadata."""
        meta = self.item_meta.get(item)
        return display_title(meta) if meta else None

    def stats(self) -> dict:
        """Counts a person wants first: records, users, items, density, rating histogram; how many
        reviews a user and an item have (fewest, median, mean, most, and how many have one); the
        review dates' span (UTC, ``None`` without any time) and how many reviews have no time."""
        n, n_users, n_items = len(self), self.reviews["user"].nunique(), self.reviews["item"].nunique()
        hist = self.reviews["rating"].value_counts().sort_index()
        words = self.reviews["text"].str.split().str.len()
        times = self.reviews["time"].dropna()
        return {
            "reviews": int(n),
            "users": int(n_users),
            "items": int(n_items),
            "density": float(n / (n_users * n_items)) if n_users and n_items else 0.0,
            "mean_rating": float(self.reviews["rating"].mean()) if n else math.nan,
            "ratings": {str(k): int(v) for k, v in hist.items()},
            "mean_words_per_review": float(words.mean()) if n else 0.0,
            "items_with_metadata": int(sum(1 for i in set(self.reviews["item"]) if i in self.item_meta)),
            # of those, the items whose own title is readable (the others are shown by brand and category)
            "items_with_title": int(sum(1 for i in set(self.reviews["item"]) if self.item_meta.get(i, {}).get("title"))),
            "reviews_per_user": _counts_summary(self.reviews["user"].value_counts()),
            "reviews_per_item": _counts_summary(self.reviews["item"].value_counts()),
            "first_review": _utc_date(times.min()) if len(times) else None,
            "last_review": _utc_date(times.max()) if len(times) else None,
            "reviews_without_time": int(n - len(times)),
        }


def _counts_summary(counts: pd.Series) -> dict:
    """Fewest, median, mean and most of per-owner review ``counts``, and how many owners have one
    review (the users and items a model knows least)."""
    if counts.empty:
        return {"min": 0, "median": 0.0, "mean": 0.0, "max": 0, "with_one": 0}
    return {"min": int(counts.min()), "median": float(counts.median()), "mean": float(counts.mean()),
            "max": int(counts.max()), "with_one": int((counts == 1).sum())}


def _utc_date(seconds: float) -> str:
    """A review time (seconds since 1970) as its UTC date, ``2018-09-26``; a time past the calendar
    (microseconds read as seconds, say) as its number of seconds, said to be no date."""
    try:
        return datetime.fromtimestamp(float(seconds), tz=timezone.utc).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.0f} s (no calendar date)"


def build_corpus(
    records: Iterable[RawRecord],
    *,
    source: str,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    strict: bool = False,
    duplicates: DuplicatePolicy = "keep-last",
    item_meta: dict[str, dict] | None = None,
    report: ValidationReport | None = None,
    name: str | None = None,
    fold_unicode: bool = False,
) -> Corpus:
    """Validate raw records into a :class:`Corpus`.

    A record needs a user, an item, a rating inside ``rating_scale`` and non-empty text (none,
    when ``report.ratings_only`` says the source has no text: every text is then empty).
    In strict mode the first bad record raises :class:`DataError` naming the file, line and
    field; otherwise (the default) it is skipped and counted in the report.

    Duplicate (user, item) pairs follow ``duplicates``: ``keep-last`` (default; a later
    review replaces an earlier one, as a user editing a review would: the latest by review time,
    the last in the file among equal times or where the records have none), ``keep-first`` (the
    earliest, likewise), ``keep-all`` or ``error``. A dated record is kept over an undated one.
    With ``fold_unicode`` the texts and summaries are read with
    :func:`whyrec.data.text.fold_to_ascii` (``isn’t`` → ``isn't``, ``café`` → ``cafe``).
    """
    low, high = rating_scale
    if not (math.isfinite(low) and math.isfinite(high)):  # 1..inf had trained a bundle that could not be loaded
        raise ConfigError(f"rating scale {low:g}..{high:g}: the lowest and the highest rating must be finite numbers")
    if not low < high:
        raise ConfigError(f"rating scale {low:g}..{high:g}: the lowest rating must be below the highest")
    check_duplicate_policy(duplicates)
    report = report or ValidationReport(source=source)
    report.unicode_folded, report.scale = fold_unicode, (low, high)
    if fold_unicode:
        from whyrec.data.text import fold_to_ascii
    rows: list[tuple] = []
    titles: dict[str, str] = {}  # each item's first title in the file, where it gives them
    for rec in records:
        report.read += 1
        problem = None
        user_ok, item_ok = is_id_value(rec.user), is_id_value(rec.item)
        user = clean_id(rec.user) if user_ok else None
        item = clean_id(rec.item) if item_ok else None
        if user is not None:
            report.users_seen.add(user)
        if item is not None:
            report.items_seen.add(item)
        rating = clean_rating(rec.rating)
        text = html_markup(rec.text).strip() if isinstance(rec.text, str) else ""
        missing_text = is_missing(rec.text)
        if not user_ok:
            problem = ("user", f"user id {rec.user!r} is not a string or number", "bad user id")
        elif not item_ok:
            problem = ("item", f"item id {rec.item!r} is not a string or number", "bad item id")
        elif user is None:
            problem = ("user", "missing user id", "missing user")
        elif item is None:
            problem = ("item", "missing item id", "missing item")
        elif rating is None and (is_missing(rec.rating) or (isinstance(rec.rating, str) and not rec.rating.strip())):
            problem = ("rating", "missing rating", "missing rating")
        elif rating is None:
            problem = ("rating", f"rating {rec.rating!r} is not a number", "bad rating")
        elif not low <= rating <= high:
            problem = ("rating", f"rating {rating:g} is outside the scale {low:g}..{high:g}", OUT_OF_SCALE)
            seen = report.outside_scale or (rating, rating)
            report.outside_scale = (min(seen[0], rating), max(seen[1], rating))
        elif report.ratings_only:
            pass
        elif not isinstance(rec.text, str) and not missing_text:  # a number or a list: not a review
            problem = ("text", f"review text {shortened(repr(rec.text))} is not a string", "bad text")
        elif not text:
            problem = ("text", "review text is empty", "empty text")
        if problem is not None:
            field_name, message, reason = problem
            if strict:
                raise DataError(message, path=source, line=rec.line, field=field_name)
            report.skip(reason, message, rec.line)
            continue
        summary = rec.summary.strip() if isinstance(rec.summary, str) else ""
        if fold_unicode:
            folded = fold_to_ascii(text)
            report.texts_folded += folded != text
            text, summary = folded, fold_to_ascii(summary)
        time = clean_time(rec.time)
        if time is None:  # the review is kept, without a time (ordering by time puts it first)
            report.unreadable_times += 1
            if not report.first_unreadable_time:
                report.first_unreadable_time = _at_line(rec.line, shortened(repr(rec.time), 60))
            time = math.nan
        rows.append((user, item, rating, text, time, summary, rec.position, rec.line))
        if rec.item_title is not None and item not in titles and is_id_value(rec.item_title) and \
                (title := clean_id(rec.item_title)):
            titles[item] = title

    frame = pd.DataFrame(rows, columns=[*COLUMNS, "line"])
    frame = frame.astype({"user": object, "item": object, "rating": float, "text": object,
                          "time": float, "summary": object, "position": np.int64})
    if duplicates != "keep-all" and len(frame):
        dup_mask = frame.duplicated(["user", "item"], keep=False)
        if dup_mask.any():
            if duplicates == "error":
                first = frame[dup_mask].iloc[0]
                raise DataError(
                    f"duplicate (user, item) pair ({first['user']}, {first['item']})",
                    path=source, line=int(first["line"]) if first["line"] is not None else None, field="item",
                )
            keep = "last" if duplicates == "keep-last" else "first"
            before = len(frame)
            # "last" is the latest written, not the last in the file: Amazon's 2018 dumps list an item's
            # reviews newest first. A stable sort keeps file order among equal times; a record without a
            # time sorts as if older (keep-last) or newer (keep-first) than any dated one
            by_time = frame.sort_values("time", kind="stable", na_position="first" if keep == "last" else "last")
            frame = by_time.drop_duplicates(["user", "item"], keep=keep).sort_index()
            report.duplicates_dropped += before - len(frame)
            report.kept_of_duplicates = "latest" if keep == "last" else "earliest"
    frame = frame.drop(columns=["line"])
    report.kept = len(frame)
    return Corpus(frame, rating_scale=rating_scale, item_meta=with_titles(item_meta or {}, titles), report=report,
                  name=name or source)


def with_titles(meta: dict[str, dict], titles: dict[str, str]) -> dict[str, dict]:
    """Item metadata ``meta`` with the ``titles`` a review file gives its items (``item_title``)
    filling the titles it lacks: an entry's own title wins where it has one."""
    merged = dict(meta)
    for item, title in titles.items():
        if not (merged.get(item) or {}).get("title"):
            merged[item] = {**merged.get(item, {}), "title": title}
    return merged


