"""The values of a review record's fields as files write them, read into what the corpus keeps:
ids (a whole number stored as a float read as the whole number), ratings (``"3,5"``, ``"4 out
of 5 stars"``, ``"★★★★☆"``), review times (numbers, milliseconds, ISO dates, Amazon's and
Goodreads' dates, date-time values) and review texts without their HTML markup. Each reader
returns None (or NaN for no time) for a value it cannot read; :func:`whyrec.data.corpus.build_corpus`
counts and skips those records."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd

from whyrec.ids import is_whole_number, stripped_id


def _as_seconds(number: float) -> float:
    """A numeric review time in seconds: one from :data:`MILLISECONDS_FROM` on is milliseconds."""
    return number / 1000.0 if number >= MILLISECONDS_FROM else number


def clean_id(value: object) -> str | None:
    """An id as text, stripped (:func:`whyrec.ids.stripped_id`); None when missing. A whole number
    stored as a float reads as the whole number: a table column of integer ids with one missing
    value is a float column (pandas, Parquet), which had made user 12 into "12.0", another id than
    the "12" the other files give."""
    if is_missing(value):
        return None
    if isinstance(value, (float, np.floating)) and is_whole_number(value):
        return str(int(value))
    text = stripped_id(str(value))
    return text or None


def is_missing(value: object) -> bool:
    """Whether a table's cell holds no value: None, NaN (a float column's gap), or pandas' ``NA``
    and ``NaT`` (the gaps of its nullable and date columns, which read as the text "<NA>")."""
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, (float, np.floating)) and math.isnan(value))


def is_id_value(value: object) -> bool:
    """Whether ``value`` can be an id: a string or a number (JSON ``12`` reads as ``"12"``), or
    missing; a list, an object or a boolean (JSON ``["x"]``, ``{}``, ``true``) cannot."""
    return not isinstance(value, (list, tuple, dict, set, bool, np.bool_, np.ndarray))


# HTML markup in review texts: line breaks, as the Amazon Customer Reviews dataset's texts mark paragraphs
# ("great.<br /><br />But"), other tags that end a line, and the tags around a run of text, as the
# Amazon 2018 texts link a product ('<a data-hook="product-link-linked" href="/Seed/dp/B000B7VBOG/…">Seed</a>');
# only these tag names, each bare or with NAME=VALUE attributes, so that a text's own "<3", "<grin>" or
# "<a lot of fun>" is kept
_ATTRIBUTES = r"""(?:\s+[\w:-]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>]+))*\s*/?>"""
_LINE_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|h[1-6]|hr|blockquote|table|tr|td|th)" + _ATTRIBUTES, re.IGNORECASE)
_INLINE_TAG = re.compile(r"</?(?:a|b|i|u|s|em|strong|span|font|small|big|sup|sub|img|center|abbr|cite|code|q|"
                         r"strike)" + _ATTRIBUTES, re.IGNORECASE)


def html_markup(text: str) -> str:
    """``text`` without its HTML tags: a line-breaking one (``<br />``, ``<p>``, ``<li>`` …) as the line
    break it stands for, so that the sentence splitter cuts there; another (``<a href=…>``, ``<b>`` …)
    left out, its text kept. The tokenizer would read the tags' names, attributes and links as words
    ("br"; "a data hook product link linked class a link normal href …")."""
    if "<" not in text:
        return text
    return _INLINE_TAG.sub("", _LINE_TAG.sub("\n", text))


# a rating written with a decimal comma ("3,5"), as spreadsheets in decimal-comma locales export
# it; three digits after the comma ("1,000") are a thousands separator, not a decimal
_DECIMAL_COMMA = re.compile(r"([+-]?\d+),(\d{1,2})")


# a rating as scraped review pages write it: "5.0 out of 5 stars" (Amazon's pages), "4 stars", "3 out of 5",
# "4 of 5", "4/5"; and as rows of star glyphs, "★★★★☆"
_STARS = re.compile(r"([+-]?\d+(?:[.,]\d{1,2})?)\s*(?:(?:(?:out\s+)?of|/)\s*\d+(?:[.,]\d+)?(?:\s*stars?)?|stars?)",
                    re.IGNORECASE)
_STAR_GLYPHS = re.compile(r"★+\s*☆*")


def clean_rating(value: object) -> float | None:
    """A rating as a number: ``5``, ``"4.5"``, a decimal comma (``"3,5"``), or as review pages write
    it (``"5.0 out of 5 stars"``, ``"4 stars"``, ``"4/5"``, ``"4 of 5"``, ``"★★★★☆"``: the number of
    stars, which the scale then checks); None for anything else."""
    if is_missing(value) or isinstance(value, bool):
        return None
    if isinstance(value, str) and _STAR_GLYPHS.fullmatch(value.strip()):
        return float(value.count("★"))
    if isinstance(value, str) and (stars := _STARS.fullmatch(value.strip())):
        value = stars[1]
    if isinstance(value, str) and (decimal := _DECIMAL_COMMA.fullmatch(value.strip())):
        value = f"{decimal[1]}.{decimal[2]}"
    try:
        rating = float(value)  # accepts 5, 5.0, "5", "5.0", "5,0"
    except (TypeError, ValueError):
        return None
    return None if math.isnan(rating) else rating


# the date-times of Goodreads' review and shelf records (date_added, read_at), as Twitter's API wrote them
GOODREADS_TIME = "%a %b %d %H:%M:%S %z %Y"
# dates read besides ISO 8601 and Goodreads': Amazon's reviewTime ("09 5, 2013": month, day, year) and
# dates with the month named ("Jan 10, 2019", "10 January 2019"). Dates such as 01/10/2019 are not read:
# their day and month cannot be told apart (the summary says so)
AMAZON_REVIEW_TIME = "%m %d, %Y"
NAMED_MONTH_DATES = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")
# a numeric review time from here on is in milliseconds (Amazon Reviews 2023, JavaScript exports): as
# seconds it would fall after the year 5000
MILLISECONDS_FROM = 1e11


def clean_time(value: object) -> float | None:
    """Seconds since 1970 of a review time: a number (Amazon's ``unixReviewTime``; from
    :data:`MILLISECONDS_FROM` on, milliseconds, as Amazon Reviews 2023's ``timestamp``), an ISO 8601
    date or date-time (``2020-01-31``, ``2020-01-31 12:00:00``; UTC when it names no zone), as a
    CSV's ``date`` column holds, a date-time as Goodreads writes it (``Fri Aug 25 13:55:02 -0700
    2017``), Amazon's ``reviewTime`` (``09 5, 2013``) or a date with its month named (``Jan 10, 2019``;
    :data:`NAMED_MONTH_DATES`), or a date or date-time value, as Parquet files and DataFrames hold them (pandas'
    ``Timestamp``, ``datetime``, ``date``, ``numpy.datetime64``; UTC when naive). NaN for no time
    (``NaT`` too); None for one that cannot be read."""
    if is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return math.nan if math.isnan(float(value)) else _as_seconds(float(value))
    if isinstance(value, np.datetime64):
        return math.nan if np.isnat(value) else value.astype("datetime64[us]").astype(np.int64) / 1e6
    if isinstance(value, datetime):
        return _utc_seconds(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return math.nan
    try:
        return _as_seconds(float(text))
    except ValueError:
        pass
    moment = _date_time(text)
    return None if moment is None else _utc_seconds(moment)


def _utc_seconds(moment: datetime) -> float:
    """Seconds since 1970 of ``moment``, a naive one taken as UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _date_time(text: str) -> datetime | None:
    """``text`` read as ISO 8601, as Goodreads writes it, as Amazon's ``reviewTime`` or as one of
    :data:`NAMED_MONTH_DATES`; None otherwise."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # only the forms the text could be in are tried: a file of unreadable dates costs one scan each
    forms = (GOODREADS_TIME, *NAMED_MONTH_DATES) if any(c.isalpha() for c in text) else \
        (AMAZON_REVIEW_TIME,) if "," in text else ()
    for form in forms:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    return None
