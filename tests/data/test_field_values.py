"""Field values read as files write them: ratings and review times."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
import pytest

from whyrec.data.field_values import MILLISECONDS_FROM, clean_id, clean_rating, clean_time


@pytest.mark.parametrize("value, rating", [
    (5, 5.0), ("4.5", 4.5), (" 3,5 ", 3.5), ("-1,25", -1.25),  # a spreadsheet's decimal comma
    ("1,000", None),  # three digits after the comma: a thousands separator, not a rating of 1.0
    ("5.0 out of 5 stars", 5.0), ("4 stars", 4.0), ("1 star", 1.0), ("3 out of 5", 3.0),  # as pages write it
    ("4,5 out of 5 stars", 4.5), ("8 out of 10", 8.0), ("five stars", None), ("stars", None),
    ("4/5", 4.0), ("4.5 / 5", 4.5), ("9/10", 9.0), ("4 of 5", 4.0), ("★★★★☆", 4.0), ("★★", 2.0),  # and so
    ("☆☆☆", None), ("1/2/2019", None), ("4/", None), ("/5", None),
    (True, None), (None, None), ("five", None), (float("nan"), None), ("nan", None), ([5], None),
])
def test_a_rating_is_read_as_files_spell_it_or_not_at_all(value, rating):
    assert clean_rating(value) == rating


@pytest.mark.parametrize("value, seconds", [
    (1_400_000_000, 1_400_000_000.0), ("1400000000", 1_400_000_000.0),
    (1_400_000_000_500, 1_400_000_000.5), ("1400000000500", 1_400_000_000.5),  # milliseconds, in JSON or a CSV
    ("2020-01-31", 1_580_428_800.0), ("2020-01-31T01:00:00+01:00", 1_580_428_800.0),  # UTC unless a zone is named
    (None, math.nan), (float("nan"), math.nan), ("  ", math.nan),  # no time
    (True, None), ("31/01/2020", None), ("01/31/2020", None), ({"t": 1}, None),  # a time that cannot be read
    ("yesterday", None), ("Jan 2020", None), ("01 31 2020", None),
    # Amazon's reviewTime (month day, year; the day unpadded too) and dates with the month named
    ("01 31, 2020", 1_580_428_800.0), ("01 5, 2020", 1_578_182_400.0), ("Jan 31, 2020", 1_580_428_800.0),
    ("January 31, 2020", 1_580_428_800.0), ("31 Jan 2020", 1_580_428_800.0), ("31 January 2020", 1_580_428_800.0),
    # the values of a Parquet file's or a DataFrame's date-time and number columns
    (pd.Timestamp("2020-01-31"), 1_580_428_800.0),
    (pd.Timestamp("2020-01-31 01:00", tz="Europe/Paris"), 1_580_428_800.0),
    (np.datetime64("2020-01-31T00:00:00"), 1_580_428_800.0), (datetime.date(2020, 1, 31), 1_580_428_800.0),
    (datetime.datetime(2020, 1, 31), 1_580_428_800.0), (np.int64(1_400_000_000), 1_400_000_000.0),
    (pd.NaT, math.nan), (np.datetime64("NaT"), math.nan), (np.float32("nan"), math.nan), (np.bool_(True), None),
])
def test_a_review_time_is_a_number_an_iso_date_no_time_or_unreadable(value, seconds):
    got = clean_time(value)
    assert (math.isnan(got) if isinstance(seconds, float) and math.isnan(seconds) else got == seconds)


def test_a_review_time_from_1e11_on_is_milliseconds():
    assert MILLISECONDS_FROM == 1e11  # as seconds, after the year 5000
    assert clean_time(1e11) == 1e8 and clean_time(1e11 - 1) == 1e11 - 1


@pytest.mark.parametrize("value, text", [
    ("u1", "u1"), (" u1\u200b", "u1"), (12, "12"), (12.0, "12"), (np.float64(12.0), "12"),  # a float column's 12
    (7.5, "7.5"), ("12.0", "12.0"),  # not a whole number, or written as text: kept as it is
    (None, None), (float("nan"), None), (pd.NA, None), ("", None), (" \u200b ", None),  # no id
])
def test_an_id_is_read_as_text_a_whole_float_as_its_whole_number(value, text):
    assert clean_id(value) == text
